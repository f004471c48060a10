"""Use cases of the person's management pages and the ``link-wallet`` management commands.

Each runs in the caller's one transaction and acts for one person (``user_id``): another
person's agent, card or address answers exactly as an unknown id (404). Policy:
docs/security.md, "Management".
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..domain import spend_request as rules
from ..domain.errors import Conflict, Forbidden, NotFound, RateLimited
from ..domain.manage import (
    AddressInput,
    HistoryFilter,
    validate_nickname,
    validate_phone,
)
from ..domain.throttle import ThrottleSettings, signin_budgets
from ..passwords import hash_password, password_problem, verify_password
from ..store import accounts, throttle
from ..store import manage as store
from ..store import spend_requests as repository
from ..store.models.accounts import OAuthGrant, PaymentMethod, ShippingAddress, User

HISTORY_LIMIT = 1000
"""The history shows (and exports) at most this many spend requests, newest first."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- agent connections -------------------------------------------------------------------


def agent_view(grant: OAuthGrant) -> dict[str, Any]:
    """One connected agent as pages and ``agent list`` show it."""
    return {
        "id": grant.id,
        "name": grant.connection_label or "Unnamed agent",
        "scopes": grant.scope.split(),
        "connected_at": _iso(grant.created_at),
        "last_used_at": _iso(grant.last_used_at),
    }


def list_agents(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The person's live agent connections, newest first."""
    return [agent_view(grant) for grant in store.live_grants(session, user_id)]


def revoke_agent(session: Session, *, user_id: str, agent_id: str, now: datetime) -> None:
    """Revoke the connection: its access and refresh tokens stop working at once (every
    token lookup checks the grant's ``revoked_at`` in the same query)."""
    if not store.revoke_grant_of(session, user_id=user_id, grant_id=agent_id, now=now):
        raise NotFound(f"No connected agent '{agent_id[:64]}'", code="agent_not_found")


# --- cards -------------------------------------------------------------------------------


def card_view(method: PaymentMethod) -> dict[str, Any]:
    """One card (never its number or CVC)."""
    return {
        "id": method.id,
        "brand": method.brand,
        "last4": method.last4,
        "exp_month": method.exp_month,
        "exp_year": method.exp_year,
        "nickname": method.nickname,
        "is_default": method.is_default,
    }


def list_cards(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The person's cards, default first."""
    return [card_view(m) for m in accounts.list_payment_methods(session, user_id)]


def _card(session: Session, user_id: str, card_id: str) -> PaymentMethod:
    method = accounts.get_payment_method(session, user_id, card_id)
    if method is None:
        raise NotFound(f"No card '{card_id[:64]}'", code="card_not_found")
    return method


def card_removal_impact(session: Session, *, user_id: str, card_id: str) -> list[str]:
    """The spend requests whose approved, unredeemed credential removing the card cancels."""
    _card(session, user_id, card_id)
    rows = store.active_requests_paying_with(
        session, user_id=user_id, method_id=card_id, statuses=frozenset({rules.Status.APPROVED})
    )
    return [row.id for row, credential in rows if credential and credential.consumed_at is None]


def remove_card(
    session: Session, *, user_id: str, card_id: str, confirmed: bool, now: datetime
) -> dict[str, Any]:
    """Remove the card. Requests still open on it are canceled with it (their credentials
    stop working); when one holds an approved, unredeemed credential the person must confirm
    first (409 ``confirmation_required`` naming them)."""
    repository.lock_person(session, user_id)  # no approval on this card can slip in between
    method = _card(session, user_id, card_id)
    at_stake = card_removal_impact(session, user_id=user_id, card_id=card_id)
    if at_stake and not confirmed:
        raise Conflict(
            f"The card has {len(at_stake)} approved, unused credential(s) "
            f"({', '.join(at_stake)}); removing it cancels them. Confirm to go on.",
            code="confirmation_required",
            extra={"spend_requests": at_stake},
        )
    canceled: list[str] = []
    rows = store.active_requests_paying_with(
        session, user_id=user_id, method_id=card_id,
        statuses=frozenset(str(s) for s in rules.ACTIVE_STATUSES),
    )  # fmt: skip
    for row, _credential in rows:
        current = repository.get_for_user(session, user_id, row.id, now=now)
        if current is None or not current.is_active:
            continue  # expired on reading
        if repository.save_transition(session, current, rules.cancel(current, now=now)) is None:
            raise Conflict(
                "A spend request on this card changed meanwhile. Try again.",
                code="spend_request_changed",
            )
        canceled.append(row.id)
    store.delete_card(session, method)
    return {"id": card_id, "removed": True, "canceled_spend_requests": canceled}


def set_default_card(session: Session, *, user_id: str, card_id: str) -> dict[str, Any]:
    """Make the card the default one (used when an agent names no card)."""
    method = _card(session, user_id, card_id)
    store.set_default(session, method)
    return card_view(method)


def set_card_nickname(
    session: Session, *, user_id: str, card_id: str, nickname: str | None
) -> dict[str, Any]:
    """Set (or, when blank, clear) the card's nickname."""
    method = _card(session, user_id, card_id)
    method.nickname = validate_nickname(nickname)
    session.flush()
    return card_view(method)


# --- shipping addresses ------------------------------------------------------------------


def address_view(row: ShippingAddress) -> dict[str, Any]:
    """One address, in the field names of contract §7.6 (as ``shipping-address list``)."""
    return {
        "id": row.id,
        "is_default": row.is_default,
        "nickname": row.nickname,
        "name": row.name,
        "line_1": row.line_1,
        "line_2": row.line_2,
        "locality": row.locality,
        "administrative_area": row.administrative_area,
        "postal_code": row.postal_code,
        "country_code": row.country_code,
    }


def list_addresses(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The person's shipping addresses, default first."""
    return [address_view(a) for a in accounts.list_shipping_addresses(session, user_id)]


def _address(session: Session, user_id: str, address_id: str) -> ShippingAddress:
    row = store.get_address(session, user_id, address_id)
    if row is None:
        raise NotFound(f"No shipping address '{address_id[:64]}'", code="address_not_found")
    return row


def add_address(
    session: Session, *, user_id: str, address: AddressInput, make_default: bool, now: datetime
) -> dict[str, Any]:
    """Save a new shipping address."""
    row = store.add_address(
        session, user_id=user_id, address=address, make_default=make_default, now=now
    )
    return address_view(row)


def edit_address(
    session: Session, *, user_id: str, address_id: str, address: AddressInput
) -> dict[str, Any]:
    """Replace one of the person's addresses."""
    row = _address(session, user_id, address_id)
    store.edit_address(session, row, address)
    return address_view(row)


def address_fields(session: Session, *, user_id: str, address_id: str) -> dict[str, Any]:
    """One address's current fields (the edit form, or ``address edit`` filling gaps)."""
    return address_view(_address(session, user_id, address_id))


def remove_address(session: Session, *, user_id: str, address_id: str) -> dict[str, Any]:
    """Delete one of the person's addresses."""
    store.delete_address(session, _address(session, user_id, address_id))
    return {"id": address_id, "removed": True}


def set_default_address(session: Session, *, user_id: str, address_id: str) -> dict[str, Any]:
    """Make the address the default one."""
    row = _address(session, user_id, address_id)
    store.set_default(session, row)
    return address_view(row)


# --- profile, passwords, people ----------------------------------------------------------


def update_profile(
    session: Session, *, user: User, name: str | None, phone: str | None
) -> dict[str, Any]:
    """Set the name and phone ``user-info retrieve`` returns (None leaves a field alone;
    blank clears it)."""
    if name is not None:
        user.name = accounts.normalize_name(name)
    if phone is not None:
        user.phone = validate_phone(phone)
    session.flush()
    return store.profile_values(user)


def _new_password_hash(password: str, *, fast: bool) -> str:
    problem = password_problem(password)
    if problem:
        raise Forbidden(problem, code="weak_password")
    return hash_password(password, fast=fast)


def change_password(
    session: Session,
    *,
    user: User,
    current: str,
    new: str,
    address: str,
    throttles: ThrottleSettings,
    fast_hash: bool,
    now: datetime,
    this_browser: str | None,
) -> None:
    """Change the signed-in person's password after checking the current one; every other
    browser session of the person ends (``this_browser``: the raw id of the one kept).

    The check spends the sign-in budgets of this email and address (a stolen session cannot
    guess faster than sign-in allows); the reservation is committed before the slow hash, as
    sign-in does, so concurrent guesses all count.
    """
    budgets = signin_budgets(throttles, email=user.email, address=address)
    reserved = throttle.reserve(session, budgets, now=now)
    session.commit()
    if isinstance(reserved, throttle.Refusal):
        raise RateLimited(
            "Too many wrong passwords. Wait a few minutes, then try again.",
            code="too_many_password_attempts",
            headers={"Retry-After": str(reserved.retry_after)},
        )
    if not verify_password(user.password_hash, current):
        raise Forbidden("The current password is not right.", code="wrong_password")
    throttle.release(session, reserved)
    stored = session.get(User, user.id)
    assert stored is not None
    stored.password_hash = _new_password_hash(new, fast=fast_hash)
    store.end_other_web_sessions(session, user.id, keep_raw_id=this_browser)
    session.flush()


def reset_password(session: Session, *, email: str, password: str, fast_hash: bool) -> User:
    """An administrator sets someone's password (``link-wallet user reset-password``); the
    person is signed out of every browser."""
    user = user_by_email(session, email)
    user.password_hash = _new_password_hash(password, fast=fast_hash)
    store.end_other_web_sessions(session, user.id, keep_raw_id=None)
    session.flush()
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    """Everyone registered, oldest first."""
    return [
        {
            "id": s.user.id,
            "email": s.user.email,
            "name": s.user.name,
            "phone": s.user.phone,
            "created_at": _iso(s.user.created_at),
            "cards": s.cards,
            "agents": s.agents,
        }
        for s in store.list_users(session)
    ]


def user_by_email(session: Session, email: str) -> User:
    """The person registered with ``email``; 404 ``user_not_found`` otherwise."""
    user = accounts.get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with email {email.strip()[:320]}", code="user_not_found")
    return user


# --- history -----------------------------------------------------------------------------

HISTORY_COLUMNS = (
    "id", "created_at", "status", "amount", "currency", "merchant_name", "merchant_url",
    "network_id", "agent", "credential_type", "credential_id", "credential_used_at",
    "settlement_status", "settled_amount", "settled_by", "settled_at", "receipt", "context",
    "approved_by",
)  # fmt: skip
HISTORY_STATUSES = frozenset(str(s) for s in rules.Status)


def _day_start(value: Any) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


def history(
    session: Session, *, user_id: str, filters: HistoryFilter, now: datetime
) -> list[dict[str, Any]]:
    """Every spend request of the person (newest first, at most :data:`HISTORY_LIMIT`) with
    its credential, the merchant's settlement and the receipt (the settled payment's id)."""
    rows = store.history(
        session,
        user_id,
        status=filters.status,
        since=_day_start(filters.since) if filters.since else None,
        until=_day_start(filters.until) + timedelta(days=1) if filters.until else None,
        limit=HISTORY_LIMIT,
    )
    found: list[dict[str, Any]] = []
    for item in rows:
        request, credential = item.request, item.credential
        if not filters.matches_merchant(
            request.merchant_name, request.merchant_url, request.network_id,
            *(name for _, name in item.payments),
        ):  # fmt: skip
            continue
        last = item.payments[-1] if item.payments else None
        settled = next((p for p in item.payments if p[0].status == "succeeded"), None)
        shown = settled or last
        status = rules.expire_if_due(repository.to_domain(request), now=now).status
        found.append(
            {
                "id": request.id,
                "created_at": _iso(request.created_at),
                "status": str(status),
                "amount": request.amount,
                "currency": request.currency,
                "merchant_name": request.merchant_name,
                "merchant_url": request.merchant_url,
                "network_id": request.network_id,
                "agent": item.agent,
                "credential_type": request.execution_method or request.credential_type,
                "credential_id": credential.id if credential else None,
                "credential_used_at": _iso(credential.consumed_at) if credential else None,
                "settlement_status": shown[0].status if shown else None,
                "settled_amount": shown[0].amount if shown else None,
                "settled_by": shown[1] if shown else None,
                "settled_at": _iso(shown[0].created_at) if shown else None,
                "receipt": settled[0].id if settled else None,
                "context": request.context,
                "approved_by": _approved_by(request),
            }
        )
    return found


def _approved_by(request: Any) -> str | None:
    """``policy: <name>`` (a spending policy), ``agent`` (delegated), ``person``, or None."""
    details = request.approval_details if isinstance(request.approval_details, dict) else {}
    if details.get("approved_by") == "policy":
        return f"policy: {details.get('policy_name') or details.get('policy_id')}"
    if request.approved_at is None:
        return None
    return "agent" if details else "person"
