"""Storage of the person's management actions: agent connections, cards, shipping addresses,
profile and password, people (for administrators) and the spend history.

Every query about a person's things takes the acting ``user_id`` in its WHERE clause: another
person's id matches nothing, exactly as an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..domain.manage import AddressInput
from .crypto import sha256_hex
from .models.accounts import OAuthGrant, PaymentMethod, ShippingAddress, User, WebSession
from .models.base import new_id
from .models.merchants import Merchant, PaymentIntentRecord
from .models.spend import IssuedCredential, SpendRequestRow

# --- agent connections -------------------------------------------------------------------


def live_grants(session: Session, user_id: str) -> list[OAuthGrant]:
    """The person's agent connections that are not revoked, newest first."""
    query = (
        select(OAuthGrant)
        .where(OAuthGrant.user_id == user_id, OAuthGrant.revoked_at.is_(None))
        .order_by(OAuthGrant.created_at.desc(), OAuthGrant.id.desc())
    )
    return list(session.scalars(query))


def revoke_grant_of(session: Session, *, user_id: str, grant_id: str, now: datetime) -> bool:
    """Revoke one of the person's live connections; False when there is none by that id."""
    result = session.execute(
        update(OAuthGrant)
        .where(
            OAuthGrant.id == grant_id,
            OAuthGrant.user_id == user_id,
            OAuthGrant.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


# --- cards -------------------------------------------------------------------------------


def active_requests_paying_with(
    session: Session, *, user_id: str, method_id: str, statuses: frozenset[str]
) -> list[tuple[SpendRequestRow, IssuedCredential | None]]:
    """The person's spend requests in ``statuses`` that pay with the card, with credentials."""
    query = (
        select(SpendRequestRow, IssuedCredential)
        .outerjoin(IssuedCredential, IssuedCredential.spend_request_id == SpendRequestRow.id)
        .where(
            SpendRequestRow.user_id == user_id,
            SpendRequestRow.payment_method_id == method_id,
            SpendRequestRow.status.in_(sorted(statuses)),
        )
        .execution_options(populate_existing=True)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def delete_card(session: Session, method: PaymentMethod) -> None:
    """Delete the card; when it was the default, the newest remaining card becomes default."""
    user_id, was_default = method.user_id, method.is_default
    session.delete(method)
    session.flush()
    if was_default:
        _promote_newest(session, PaymentMethod, user_id)


def set_default(session: Session, row: PaymentMethod | ShippingAddress) -> None:
    """Make ``row`` its owner's only default card (or address)."""
    model = type(row)
    session.execute(
        update(model)
        .where(model.user_id == row.user_id, model.id != row.id)
        .values(is_default=False)
    )
    row.is_default = True
    session.flush()


def _promote_newest(
    session: Session, model: type[PaymentMethod] | type[ShippingAddress], user_id: str
) -> None:
    newest = session.scalar(
        select(model).where(model.user_id == user_id).order_by(model.created_at.desc()).limit(1)
    )
    if newest is not None:
        newest.is_default = True
        session.flush()


# --- shipping addresses ------------------------------------------------------------------


def get_address(session: Session, user_id: str, address_id: str) -> ShippingAddress | None:
    """One of the person's shipping addresses, or None (also for another person's id)."""
    return session.scalar(
        select(ShippingAddress).where(
            ShippingAddress.id == address_id, ShippingAddress.user_id == user_id
        )
    )


def add_address(
    session: Session, *, user_id: str, address: AddressInput, make_default: bool, now: datetime
) -> ShippingAddress:
    """Store a validated address; the first one (or ``make_default``) becomes the default."""
    has_any = session.scalar(select(ShippingAddress.id).where(ShippingAddress.user_id == user_id))
    row = ShippingAddress(
        id=new_id("shpadr"), user_id=user_id, is_default=False, created_at=now, **address.values
    )
    session.add(row)
    session.flush()
    if make_default or has_any is None:
        set_default(session, row)
    return row


def edit_address(session: Session, row: ShippingAddress, address: AddressInput) -> None:
    """Replace the address's fields with the validated ones."""
    for name, value in address.values.items():
        setattr(row, name, value)
    session.flush()


def delete_address(session: Session, row: ShippingAddress) -> None:
    """Delete the address; the newest remaining one inherits the default."""
    user_id, was_default = row.user_id, row.is_default
    session.delete(row)
    session.flush()
    if was_default:
        _promote_newest(session, ShippingAddress, user_id)


def end_other_web_sessions(session: Session, user_id: str, *, keep_raw_id: str | None) -> None:
    """Sign the person out of every browser except the one whose raw session id is kept."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_raw_id:
        statement = statement.where(WebSession.id_hash != sha256_hex(keep_raw_id))
    session.execute(statement)


# --- people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSummary:
    """One line of ``link-wallet user list``."""

    user: User
    cards: int
    agents: int


def list_users(session: Session) -> list[UserSummary]:
    """Everyone, oldest first, with their card and live-connection counts."""
    cards = (
        select(PaymentMethod.user_id, func.count().label("n"))
        .group_by(PaymentMethod.user_id)
        .subquery()
    )
    agents = (
        select(OAuthGrant.user_id, func.count().label("n"))
        .where(OAuthGrant.revoked_at.is_(None))
        .group_by(OAuthGrant.user_id)
        .subquery()
    )
    query = (
        select(User, func.coalesce(cards.c.n, 0), func.coalesce(agents.c.n, 0))
        .outerjoin(cards, cards.c.user_id == User.id)
        .outerjoin(agents, agents.c.user_id == User.id)
        .order_by(User.created_at, User.id)
    )
    return [UserSummary(row[0], int(row[1]), int(row[2])) for row in session.execute(query)]


# --- history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """A spend request with its credential and the payments merchants settled with it."""

    request: SpendRequestRow
    credential: IssuedCredential | None
    payments: list[tuple[PaymentIntentRecord, str]]  # (payment intent, merchant name)
    agent: str | None


def history(
    session: Session, user_id: str, *, status: str | None, since: datetime | None,
    until: datetime | None, limit: int,
) -> list[HistoryRow]:  # fmt: skip
    """The person's spend requests, newest first, with what became of each."""
    query = (
        select(SpendRequestRow, IssuedCredential, OAuthGrant.connection_label)
        .outerjoin(IssuedCredential, IssuedCredential.spend_request_id == SpendRequestRow.id)
        .outerjoin(OAuthGrant, OAuthGrant.id == SpendRequestRow.grant_id)
        .where(SpendRequestRow.user_id == user_id)
        .order_by(SpendRequestRow.created_at.desc(), SpendRequestRow.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(SpendRequestRow.status == status)
    if since is not None:
        query = query.where(SpendRequestRow.created_at >= since)
    if until is not None:
        query = query.where(SpendRequestRow.created_at < until)
    found = list(session.execute(query))
    ids = [row[0].id for row in found]
    payments: dict[str, list[tuple[PaymentIntentRecord, str]]] = {}
    if ids:
        intents = session.execute(
            select(PaymentIntentRecord, Merchant.name)
            .join(Merchant, Merchant.id == PaymentIntentRecord.merchant_id)
            .where(PaymentIntentRecord.spend_request_id.in_(ids))
            .order_by(PaymentIntentRecord.created_at)
        )
        for intent, merchant_name in intents:
            assert intent.spend_request_id is not None
            payments.setdefault(intent.spend_request_id, []).append((intent, merchant_name))
    return [
        HistoryRow(request=row[0], credential=row[1], payments=payments.get(row[0].id, []),
                   agent=row[2])
        for row in found
    ]  # fmt: skip


def profile_values(user: User) -> dict[str, Any]:
    """What the profile page and ``user profile`` show."""
    return {"id": user.id, "email": user.email, "name": user.name, "phone": user.phone}
