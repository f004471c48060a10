"""Repository of what an outside issuer knows: cardholders, applied webhook events,
authorization decisions, and the issuer's id and state of each card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.spend_request import Status
from .models.accounts import User
from .models.issuing import IssuingAuthorization, IssuingCardholder, IssuingEvent
from .models.spend import IssuedCredential, SpendRequestRow

__all__ = [
    "ACTIVE",
    "CANCELED",
    "cards_to_stop",
    "find_card_by_ref",
    "get_cardholder",
    "get_decision",
    "get_user",
    "mark_stopped",
    "record_decision",
    "record_event",
    "record_terms_acceptance",
    "save_cardholder",
    "store_card_secrets",
]

ACTIVE = "active"
CANCELED = "canceled"
# While a card's request is in one of these, the card may still pay.
_OPEN = (str(Status.APPROVED), str(Status.REQUIRES_ACTION))


def get_user(session: Session, user_id: str) -> User | None:
    """The person, for their cardholder profile."""
    return session.get(User, user_id)


def get_cardholder(session: Session, user_id: str) -> IssuingCardholder | None:
    """The person's cardholder at the issuer, or None before their first card."""
    return session.get(IssuingCardholder, user_id)


def record_terms_acceptance(
    session: Session, user_id: str, *, accepted_at: datetime, ip: str | None, user_agent: str | None
) -> bool:
    """Record the person's acceptance of the card program's terms; the first one stands
    (False when it was already recorded)."""
    result = session.execute(
        update(User)
        .where(User.id == user_id, User.issuing_terms_accepted_at.is_(None))
        .values(
            issuing_terms_accepted_at=accepted_at,
            issuing_terms_ip=ip,
            issuing_terms_user_agent=user_agent,
        )
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


def save_cardholder(
    session: Session,
    *,
    user_id: str,
    issuer: str,
    cardholder_id: str,
    profile_fingerprint: str,
    now: datetime,
) -> None:
    """Remember (or update) the person's cardholder and the profile last sent."""
    row = session.get(IssuingCardholder, user_id)
    if row is None:
        session.add(
            IssuingCardholder(
                user_id=user_id,
                issuer=issuer,
                cardholder_id=cardholder_id,
                profile_fingerprint=profile_fingerprint,
                updated_at=now,
            )
        )
    else:
        row.issuer = issuer
        row.cardholder_id = cardholder_id
        row.profile_fingerprint = profile_fingerprint
        row.updated_at = now
    session.flush()


def find_card_by_ref(session: Session, issuer_ref: str) -> IssuedCredential | None:
    """The credential behind the issuer's card id, locked (PostgreSQL) for the decision."""
    return session.scalar(
        select(IssuedCredential).where(IssuedCredential.issuer_ref == issuer_ref).with_for_update()
    )


def store_card_secrets(session: Session, credential_id: str, number: str, cvc: str) -> None:
    """Keep the fetched (already encrypted) number and CVC; set once."""
    session.execute(
        update(IssuedCredential)
        .where(
            IssuedCredential.id == credential_id,
            IssuedCredential.card_number_encrypted.is_(None),
        )
        .values(card_number_encrypted=number, card_cvc_encrypted=cvc)
    )


def record_event(session: Session, event_id: str, event_type: str, now: datetime) -> bool:
    """True the first time ``event_id`` is seen, False for a redelivery (in any process)."""
    if session.get(IssuingEvent, event_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(IssuingEvent(id=event_id[:255], type=event_type[:100], received_at=now))
    except IntegrityError:
        return False
    return True


def get_decision(session: Session, authorization_id: str) -> IssuingAuthorization | None:
    """The decision already taken on this authorization, if any."""
    return session.get(IssuingAuthorization, authorization_id)


def record_decision(session: Session, decision: IssuingAuthorization) -> bool:
    """Store a decision; False when another process recorded one for it first."""
    try:
        with session.begin_nested():
            session.add(decision)
    except IntegrityError:
        return False
    return True


def cards_to_stop(
    session: Session, now: datetime, *, limit: int = 50
) -> list[tuple[str, str, str]]:
    """(credential id, issuer ref, kind) of outside credentials (cards, tokens) still open at
    the issuer whose request can no longer pay: canceled, denied, failed, succeeded, expired
    or past ``valid_until``."""
    query = (
        select(IssuedCredential.id, IssuedCredential.issuer_ref, IssuedCredential.kind)
        .join(SpendRequestRow, SpendRequestRow.id == IssuedCredential.spend_request_id)
        .where(
            IssuedCredential.issuer_ref.is_not(None),
            IssuedCredential.issuer_state == ACTIVE,
            or_(
                SpendRequestRow.status.not_in(_OPEN),
                IssuedCredential.valid_until <= now,
            ),
        )
        .limit(limit)
    )
    return [(row.id, row.issuer_ref, row.kind) for row in session.execute(query) if row.issuer_ref]


def mark_stopped(session: Session, credential_id: str) -> None:
    """The issuer confirmed the card canceled."""
    session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == credential_id)
        .values(issuer_state=CANCELED)
    )
