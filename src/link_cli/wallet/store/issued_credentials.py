"""Repository of issued credentials (virtual cards, SPTs and Link Pay Tokens), one per
spend request.

Card number and CVC are stored only as AES-GCM ciphertexts bound to the credential's id
(store/crypto.py); ``card_fingerprint`` is an HMAC of the number under a key derived from
the wallet's secret, so a number can be looked up (redemption) without decrypting rows and
without storing anything a stolen database could reverse cheaply.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..domain.redemption import CardSnapshot, SptSnapshot, TokenSnapshot
from ..domain.spend_request import SpendRequest, Status
from ..issuing.base import IssuedCard, IssuedLinkPayToken, IssuedSpt
from .crypto import FieldCipher, derive_key
from .models.spend import IssuedCredential
from .spend_requests import get_for_user

__all__ = [
    "RevealedCard",
    "card_fingerprint",
    "card_snapshot",
    "consume",
    "count_failed_attempt",
    "decoy_card_work",
    "decoy_update",
    "find_card",
    "find_lpt",
    "find_spt",
    "fingerprint_taken",
    "get_for_request",
    "get_for_requests",
    "insert_card",
    "insert_lpt",
    "insert_spt",
    "lpt_snapshot",
    "reveal_card",
    "spend_request_of",
    "spt_snapshot",
]

KIND_CARD = "card"
KIND_SPT = "shared_payment_token"
KIND_LPT = "link_pay_token"


def card_fingerprint(secret_key: bytes, number: str) -> str:
    """HMAC-SHA256 (hex) of a card number under the wallet's fingerprint key."""
    key = derive_key(secret_key, "card-fingerprint")
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


def fingerprint_taken(session: Session, fingerprint: str) -> bool:
    """True when a card with this fingerprint was already issued (to anyone)."""
    query = select(IssuedCredential.id).where(IssuedCredential.card_fingerprint == fingerprint)
    return session.scalar(query) is not None


def insert_card(
    session: Session,
    *,
    request: SpendRequest,
    card: IssuedCard,
    issuer: str,
    cipher: FieldCipher,
    fingerprint: str | None,
    now: datetime,
) -> IssuedCredential:
    """Store ``card`` as the credential of ``request`` (UNIQUE per request). An outside
    issuer's card comes without number and CVC (fetched when the agent retrieves it)."""
    row = IssuedCredential(
        id=card.id,
        spend_request_id=request.id,
        user_id=request.user_id,
        kind=KIND_CARD,
        issuer=issuer,
        # The request's mode decides, whatever the issuer reports.
        livemode=not request.test,
        max_amount=request.amount,
        currency=request.currency,
        valid_until=card.valid_until,
        card_brand=card.brand,
        card_last4=card.last4,
        card_exp_month=card.exp_month,
        card_exp_year=card.exp_year,
        card_number_encrypted=(
            cipher.encrypt(card.id, "card_number", card.number) if card.number else None
        ),
        card_cvc_encrypted=cipher.encrypt(card.id, "card_cvc", card.cvc) if card.cvc else None,
        card_fingerprint=fingerprint,
        billing_address=dict(card.billing_address),
        failed_attempts=0,
        created_at=now,
        issuer_ref=card.issuer_ref,
        issuer_state="active" if card.issuer_ref else None,
    )
    session.add(row)
    session.flush()
    return row


def insert_spt(
    session: Session, *, request: SpendRequest, spt: IssuedSpt, issuer: str, now: datetime
) -> IssuedCredential:
    """Store ``spt`` as the credential of ``request`` (UNIQUE per request)."""
    row = IssuedCredential(
        id=spt.id,
        spend_request_id=request.id,
        user_id=request.user_id,
        kind=KIND_SPT,
        issuer=issuer,
        livemode=not request.test,
        max_amount=spt.max_amount,
        currency=spt.currency,
        valid_until=spt.valid_until,
        network_id=spt.network_id,
        failed_attempts=0,
        created_at=now,
        issuer_ref=spt.issuer_ref,
        issuer_state="active" if spt.issuer_ref else None,
    )
    session.add(row)
    session.flush()
    return row


def insert_lpt(
    session: Session,
    *,
    request: SpendRequest,
    lpt: IssuedLinkPayToken,
    issuer: str,
    now: datetime,
) -> IssuedCredential:
    """Store ``lpt`` as the credential of ``request`` (UNIQUE per request). The token is its
    id, as an SPT's is; the merchant account it pays is the request's."""
    row = IssuedCredential(
        id=lpt.token,
        spend_request_id=request.id,
        user_id=request.user_id,
        kind=KIND_LPT,
        issuer=issuer,
        livemode=not request.test,
        max_amount=lpt.max_amount,
        currency=lpt.currency,
        valid_until=lpt.valid_until,
        failed_attempts=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_for_request(
    session: Session, user_id: str, spend_request_id: str
) -> IssuedCredential | None:
    """The credential of the person's request, or None."""
    query = select(IssuedCredential).where(
        IssuedCredential.user_id == user_id,
        IssuedCredential.spend_request_id == spend_request_id,
    )
    return session.scalar(query)


def get_for_requests(
    session: Session, user_id: str, spend_request_ids: Iterable[str]
) -> dict[str, IssuedCredential]:
    """Credentials of several of the person's requests, keyed by spend request id."""
    ids = list(spend_request_ids)
    if not ids:
        return {}
    query = select(IssuedCredential).where(
        IssuedCredential.user_id == user_id, IssuedCredential.spend_request_id.in_(ids)
    )
    return {row.spend_request_id: row for row in session.scalars(query)}


@dataclass(frozen=True, slots=True)
class RevealedCard:
    """A decrypted virtual card, for the one response that shows it."""

    number: str
    cvc: str

    def __repr__(self) -> str:
        return f"RevealedCard(last4={self.number[-4:]!r})"


def reveal_card(row: IssuedCredential, cipher: FieldCipher) -> RevealedCard:
    """Decrypt the card's number and CVC (raises ``DecryptionError`` if tampered with)."""
    if row.card_number_encrypted is None or row.card_cvc_encrypted is None:
        raise ValueError(f"credential {row.id} is not a card")
    return RevealedCard(
        number=cipher.decrypt(row.id, "card_number", row.card_number_encrypted),
        cvc=cipher.decrypt(row.id, "card_cvc", row.card_cvc_encrypted),
    )


# What a merchant presents is looked up across people: the credential itself is the proof.


def find_spt(session: Session, token: str) -> IssuedCredential | None:
    """The SPT with id ``token``, or None (also for a card's id)."""
    row = session.get(IssuedCredential, token) if token.startswith("spt_") else None
    # An outside issuer's token is redeemed there, never at this wallet's merchants.
    return row if row is not None and row.kind == KIND_SPT and row.issuer_ref is None else None


def find_lpt(session: Session, token: str) -> IssuedCredential | None:
    """The Link Pay Token ``token``, or None (also for any other credential's id)."""
    row = session.get(IssuedCredential, token) if token.startswith("lpt_") else None
    return row if row is not None and row.kind == KIND_LPT else None


def find_card(session: Session, secret_key: bytes, number: str) -> IssuedCredential | None:
    """The virtual card with this number, found by its fingerprint, or None."""
    fingerprint = card_fingerprint(secret_key, number)
    # Locked (PostgreSQL) so concurrent presentations of one card count their failures
    # exactly; SQLite writers are serialized already.
    return session.scalar(
        select(IssuedCredential)
        .where(
            IssuedCredential.card_fingerprint == fingerprint,
            IssuedCredential.kind == KIND_CARD,
        )
        .with_for_update()
    )


_DECOY_ID = "vcard_decoy"
_DECOYS: dict[int, tuple[FieldCipher, str, str]] = {}


def decoy_card_work(session: Session, cipher: FieldCipher, now: datetime) -> None:
    """The reads a known number costs, done for an unknown one, so the time of an answer
    does not tell them apart: the spend-request read and two decryptions."""
    get_for_user(session, "usr_decoy", "lsrq_decoy", now=now)
    decoy = _DECOYS.get(id(cipher))
    if decoy is None or decoy[0] is not cipher:
        decoy = (
            cipher,
            cipher.encrypt(_DECOY_ID, "card_number", "4000000000000000"),
            cipher.encrypt(_DECOY_ID, "card_cvc", "000"),
        )
        _DECOYS[id(cipher)] = decoy
    cipher.decrypt(_DECOY_ID, "card_number", decoy[1])
    cipher.decrypt(_DECOY_ID, "card_cvc", decoy[2])


def decoy_update(session: Session) -> None:
    """The counter ``UPDATE`` a wrong attempt costs, matching no row: every card presentation
    that changes nothing still runs one (services/redemption.py)."""
    count_failed_attempt(session, _DECOY_ID)


def spend_request_of(
    session: Session, row: IssuedCredential | None, now: datetime
) -> SpendRequest | None:
    """The credential's spend request as it stands now (lazy expiry applied)."""
    if row is None:
        return None
    return get_for_user(session, row.user_id, row.spend_request_id, now=now)


def spt_snapshot(row: IssuedCredential, request: SpendRequest) -> SptSnapshot:
    """The SPT as the redemption rules see it."""
    return SptSnapshot(
        id=row.id,
        network_id=row.network_id,
        max_amount=row.max_amount,
        currency=row.currency,
        expires_at=row.valid_until,
        consumed=row.consumed_at is not None,
        usable=request.status is Status.APPROVED,
    )


def lpt_snapshot(row: IssuedCredential, request: SpendRequest) -> TokenSnapshot:
    """The Link Pay Token as the redemption rules see it: bound to the request's merchant
    account."""
    return TokenSnapshot(
        id=row.id,
        bound_to=request.merchant_account_id if request.is_link_pay_token else None,
        max_amount=row.max_amount,
        currency=row.currency,
        expires_at=row.valid_until,
        consumed=row.consumed_at is not None,
        usable=request.status is Status.APPROVED,
    )


def card_snapshot(
    row: IssuedCredential, request: SpendRequest, cipher: FieldCipher
) -> CardSnapshot:
    """The virtual card as the redemption rules see it (decrypted in memory only)."""
    return CardSnapshot(
        id=row.id,
        number=cipher.decrypt(row.id, "card_number", row.card_number_encrypted or ""),
        exp_month=row.card_exp_month or 0,
        exp_year=row.card_exp_year or 0,
        cvc=cipher.decrypt(row.id, "card_cvc", row.card_cvc_encrypted or ""),
        max_amount=row.max_amount,
        currency=row.currency,
        valid_until=row.valid_until,
        consumed=row.consumed_at is not None,
        usable=request.status is Status.APPROVED,
        failed_attempts=row.failed_attempts,
        foreign_failed_attempts=row.foreign_failed_attempts or 0,
    )


def consume(session: Session, credential_id: str, now: datetime) -> bool:
    """The one-time switch: True for exactly one caller, ever."""
    changed = session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == credential_id, IssuedCredential.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return changed.rowcount == 1


def count_failed_attempt(session: Session, credential_id: str, *, foreign: bool = False) -> None:
    """One more wrong expiry or CVC against an unspent card, by the merchant it was meant
    for, or (``foreign``) by any other merchant."""
    column = (
        IssuedCredential.foreign_failed_attempts if foreign else IssuedCredential.failed_attempts
    )
    session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == credential_id, IssuedCredential.consumed_at.is_(None))
        .values({column: column + 1})
    )
