"""Repositories of the redemption side: merchants, PaymentIntents, idempotency records,
and the one transaction that settles a credential.

:func:`confirm_payment_intent` is the whole of ``POST /v1/payment_intents`` below HTTP.
It runs in ONE transaction and starts by writing (the idempotency claim, or the merchant's
row), so on SQLite the transaction holds the write lock from its first statement and on
PostgreSQL a concurrent request with the same key waits on the unique index. The
credential is taken with a conditional ``UPDATE … WHERE consumed_at IS NULL``: of N
concurrent redemptions exactly one changes a row, whatever process they run in.
The rules themselves live in :mod:`link_cli.wallet.domain.redemption`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import spend_request as sr
from ..domain.redemption import (
    CardAttempt,
    CardSnapshot,
    Effect,
    PaymentIntentCreate,
    Refusal,
    SptSnapshot,
    StripeError,
    already_used,
    granted_token_object,
    invalid_request,
    judge_card,
    judge_spt,
    payment_intent_object,
    payment_status_details,
)
from .crypto import FieldCipher, derive_key, sha256_hex
from .issued_credentials import KIND_CARD, KIND_SPT, card_fingerprint
from .models.base import new_id
from .models.merchants import IdempotencyRecord, Merchant, PaymentIntentRecord
from .models.spend import IssuedCredential
from .spend_requests import get_for_user, save_transition

__all__ = [
    "ConfirmResult",
    "authenticate_merchant",
    "confirm_payment_intent",
    "create_merchant",
    "get_granted_token",
    "get_payment_intent",
    "idempotency_mac",
]


# --------------------------------------------------------------------------- merchants


def create_merchant(
    session: Session, *, name: str, network_id: str, now: datetime
) -> tuple[Merchant, str]:
    """Register a merchant; returns it and its secret key (shown once, stored hashed).

    Raises :class:`ValueError` when the network id is already registered.
    """
    secret_key = "sk_test_" + secrets.token_urlsafe(24)
    merchant = Merchant(
        id=new_id("acct", 16),
        name=name,
        network_id=network_id,
        secret_key_hash=sha256_hex(secret_key),
        secret_key_last4=secret_key[-4:],
        created_at=now,
    )
    session.add(merchant)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValueError(f"a merchant with network id {network_id!r} already exists") from None
    return merchant, secret_key


def authenticate_merchant(session: Session, secret_key: str) -> Merchant | None:
    """The merchant owning ``secret_key``, looked up by its SHA-256 and compared in constant
    time; None for anything else."""
    if not secret_key.startswith("sk_") or len(secret_key) > 200:
        return None
    digest = sha256_hex(secret_key)
    merchant = session.scalar(select(Merchant).where(Merchant.secret_key_hash == digest))
    if merchant is None or not hmac.compare_digest(merchant.secret_key_hash, digest):
        return None
    return merchant


# --------------------------------------------------------------------------- idempotency


def idempotency_mac(secret_key: bytes, canonical: bytes) -> str:
    """A keyed MAC of a request's canonical parameters (never stored in clear: cards)."""
    key = derive_key(secret_key, "redemption/idempotency")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ConfirmResult:
    """The HTTP answer of a confirmation: status, JSON body, and whether it was replayed."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _idempotency_conflict(key: str) -> StripeError:
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key[:80]}' if you meant to execute "
        "a different request.",
    )


def _replay(session: Session, merchant_id: str, key: str, mac: str) -> ConfirmResult:
    record = session.get(IdempotencyRecord, (merchant_id, key))
    if record is None:  # cannot happen after a unique violation, but never guess
        raise invalid_request("The idempotent request could not be replayed; retry.", status=409)
    if not hmac.compare_digest(record.request_mac, mac):
        raise _idempotency_conflict(key)
    return ConfirmResult(record.status_code, json.loads(record.response_body), replayed=True)


# --------------------------------------------------------------------------- settlement


def confirm_payment_intent(
    session: Session,
    *,
    merchant: Merchant,
    params: PaymentIntentCreate,
    idempotency_key: str | None,
    request_mac: str,
    cipher: FieldCipher,
    secret_key: bytes,
    now: datetime,
) -> ConfirmResult:
    """Create and confirm a PaymentIntent, settling its credential; commits.

    A refusal is also an answer (stored under the idempotency key, like Stripe does) and
    is returned, not raised. Only request-level problems raise :class:`StripeError`.
    """
    if idempotency_key is not None:
        existing = session.get(IdempotencyRecord, (merchant.id, idempotency_key))
        if existing is not None:
            result = _replay(session, merchant.id, idempotency_key, request_mac)
            session.rollback()
            return result
        session.add(
            IdempotencyRecord(
                merchant_id=merchant.id,
                key=idempotency_key,
                request_mac=request_mac,
                status_code=0,
                response_body="",
                created_at=now,
            )
        )
        try:
            session.flush()
        except IntegrityError:
            # A concurrent request with the same key committed first: answer like it.
            session.rollback()
            result = _replay(session, merchant.id, idempotency_key, request_mac)
            session.rollback()
            return result
    else:
        # Take the write lock first (SQLite) so later reads see a stable database.
        session.execute(
            update(Merchant).where(Merchant.id == merchant.id).values(name=Merchant.name)
        )

    try:
        if params.spt is not None:
            result = _settle_spt(session, merchant, params, now)
        else:
            assert params.card is not None
            result = _settle_card(session, merchant, params, params.card, cipher, secret_key, now)
    except _LostToConcurrentChange:
        session.rollback()
        refusal = already_used(spt=params.spt is not None)
        return ConfirmResult(refusal.error.status, refusal.error.to_body())

    if idempotency_key is not None:
        session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.merchant_id == merchant.id,
                IdempotencyRecord.key == idempotency_key,
            )
            .values(status_code=result.status, response_body=json.dumps(result.body))
        )
    session.commit()
    return result


def _settle_spt(
    session: Session, merchant: Merchant, params: PaymentIntentCreate, now: datetime
) -> ConfirmResult:
    token = params.spt or ""
    row = session.get(IssuedCredential, token) if token.startswith("spt_") else None
    if row is not None and row.kind != KIND_SPT:
        row = None
    request = _spend_request(session, row, now)
    snapshot = _spt_snapshot(row, request) if row and request else None
    refusal = judge_spt(
        snapshot,
        token=token,
        network_id=merchant.network_id,
        amount=params.amount,
        currency=params.currency,
        now=now,
    )
    return _apply(session, merchant, params, row, request, refusal, now)


def _settle_card(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    attempt: CardAttempt,
    cipher: FieldCipher,
    secret_key: bytes,
    now: datetime,
) -> ConfirmResult:
    fingerprint = card_fingerprint(secret_key, attempt.number)
    row = session.scalar(
        select(IssuedCredential).where(
            IssuedCredential.card_fingerprint == fingerprint,
            IssuedCredential.kind == KIND_CARD,
        )
    )
    request = _spend_request(session, row, now)
    snapshot = _card_snapshot(row, request, cipher) if row and request else None
    if snapshot is not None and not hmac.compare_digest(snapshot.number, attempt.number):
        snapshot = None  # a fingerprint collision would be astonishing; refuse anyway
    refusal = judge_card(snapshot, attempt, amount=params.amount, currency=params.currency, now=now)
    return _apply(session, merchant, params, row, request, refusal, now)


def _spend_request(
    session: Session, row: IssuedCredential | None, now: datetime
) -> sr.SpendRequest | None:
    """The credential's spend request as it stands now (lazy expiry applied)."""
    if row is None:
        return None
    return get_for_user(session, row.user_id, row.spend_request_id, now=now)


def _spt_snapshot(row: IssuedCredential, request: sr.SpendRequest) -> SptSnapshot:
    return SptSnapshot(
        id=row.id,
        network_id=row.network_id,
        max_amount=row.max_amount,
        currency=row.currency,
        expires_at=row.valid_until,
        consumed=row.consumed_at is not None,
        usable=request.status is sr.Status.APPROVED,
    )


def _card_snapshot(
    row: IssuedCredential, request: sr.SpendRequest, cipher: FieldCipher
) -> CardSnapshot:
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
        usable=request.status is sr.Status.APPROVED,
        failed_attempts=row.failed_attempts,
    )


def _consume(session: Session, credential_id: str, now: datetime) -> bool:
    """The one-time switch: True for exactly one caller, ever."""
    changed = session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == credential_id, IssuedCredential.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return changed.rowcount == 1


def _count_attempt(session: Session, credential_id: str) -> None:
    session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == credential_id, IssuedCredential.consumed_at.is_(None))
        .values(failed_attempts=IssuedCredential.failed_attempts + 1)
    )


class _LostToConcurrentChange(Exception):
    """The spend request moved (canceled, expired) while this payment was being settled."""


def _apply(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    row: IssuedCredential | None,
    request: sr.SpendRequest | None,
    refusal: Refusal | None,
    now: datetime,
) -> ConfirmResult:
    """Carry out a verdict: consume, move the spend request, record the PaymentIntent."""
    if refusal is None or refusal.effect is Effect.BURN:
        assert row is not None and request is not None
        if not _consume(session, row.id, now):
            # Lost a race with another redemption: the credential is spent.
            refusal = already_used(spt=params.spt is not None)
    elif refusal.effect is Effect.ATTEMPT:
        assert row is not None
        _count_attempt(session, row.id)

    intent_id = new_id("pi", 24)
    if refusal is None:
        assert row is not None and request is not None
        details = payment_status_details(
            amount=params.amount, currency=params.currency, created=now
        )
        moved = replace(
            sr.succeed(request, now=now, payment_status_details=details),
            link_transaction_id=new_id("lnktxn", 24),
        )
        if not save_transition(session, request, moved):
            raise _LostToConcurrentChange
        pi = _record(session, intent_id, merchant, params, row, request, "succeeded", now)
        return ConfirmResult(200, pi)

    error = refusal.error
    if refusal.effect is Effect.BURN and request is not None:
        details = payment_status_details(
            amount=params.amount, currency=params.currency, created=now, error=error
        )
        # If the request moved meanwhile, its new state stands; the refusal is unchanged.
        save_transition(session, request, sr.fail(request, now=now, payment_status_details=details))
    if error.type == "card_error":
        # Stripe creates the PaymentIntent and attaches it to a card error.
        error.payment_intent = _record(
            session,
            intent_id,
            merchant,
            params,
            row,
            request,
            "requires_payment_method",
            now,
            error=error,
            effect=refusal.effect,
        )
    return ConfirmResult(error.status, error.to_body())


def _record(
    session: Session,
    intent_id: str,
    merchant: Merchant,
    params: PaymentIntentCreate,
    row: IssuedCredential | None,
    request: sr.SpendRequest | None,
    status: str,
    now: datetime,
    *,
    error: StripeError | None = None,
    effect: Effect | None = None,
) -> dict[str, Any]:
    """Store the PaymentIntent and return its Stripe shape."""
    kind = "spt" if params.spt is not None else "card"
    payment_method = "pm_" + hashlib.sha256(intent_id.encode()).hexdigest()[:24]
    last_error = None
    if error is not None:
        last_error = {k: v for k, v in error.to_body()["error"].items() if k != "payment_intent"}
    record = PaymentIntentRecord(
        id=intent_id,
        merchant_id=merchant.id,
        amount=params.amount,
        currency=params.currency,
        status=status,
        credential_kind=kind,
        credential_id=row.id if row is not None else None,
        spend_request_id=request.id if request is not None else None,
        payment_method_id=payment_method,
        shared_payment_granted_token=params.spt,
        payment_method_types=json.dumps(list(params.payment_method_types)),
        automatic_payment_methods=json.dumps(params.automatic_payment_methods)
        if params.automatic_payment_methods
        else None,
        metadata_json=json.dumps(params.metadata),
        description=params.description,
        last_payment_error=json.dumps(last_error) if last_error else None,
        failure_effect=str(effect) if effect is not None else None,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return _to_object(record)


def _to_object(record: PaymentIntentRecord) -> dict[str, Any]:
    return payment_intent_object(
        id=record.id,
        amount=record.amount,
        currency=record.currency,
        status=record.status,
        created=record.created_at,
        payment_method=record.payment_method_id,
        payment_method_types=json.loads(record.payment_method_types),
        metadata=json.loads(record.metadata_json),
        spt=record.shared_payment_granted_token,
        automatic_payment_methods=json.loads(record.automatic_payment_methods)
        if record.automatic_payment_methods
        else None,
        description=record.description,
        last_payment_error=json.loads(record.last_payment_error)
        if record.last_payment_error
        else None,
        latest_charge="ch_" + record.id[3:] if record.status == "succeeded" else None,
    )


# --------------------------------------------------------------------------- reads


def get_payment_intent(session: Session, *, merchant: Merchant, intent_id: str) -> dict[str, Any]:
    """One of the merchant's own PaymentIntents; 404 ``resource_missing`` otherwise."""
    record = session.get(PaymentIntentRecord, intent_id)
    if record is None or record.merchant_id != merchant.id:
        raise invalid_request(
            f"No such payment_intent: '{intent_id[:64]}'",
            code="resource_missing",
            param="intent",
            status=404,
        )
    return _to_object(record)


def get_granted_token(
    session: Session, *, merchant: Merchant, token_id: str, now: datetime
) -> dict[str, Any]:
    """An SPT granted to this merchant (its network id); 404 for any other."""
    row = session.get(IssuedCredential, token_id)
    request = _spend_request(session, row, now)
    if (
        row is None
        or request is None
        or row.kind != KIND_SPT
        or row.network_id is None
        or not hmac.compare_digest(row.network_id.encode(), merchant.network_id.encode())
    ):
        raise invalid_request(
            f"No such shared_payment_granted_token: '{token_id[:64]}'",
            code="resource_missing",
            param="id",
            status=404,
        )
    captured = session.scalar(
        select(func.coalesce(func.sum(PaymentIntentRecord.amount), 0)).where(
            PaymentIntentRecord.credential_id == row.id,
            PaymentIntentRecord.status == "succeeded",
        )
    )
    snapshot = _spt_snapshot(row, request)
    return granted_token_object(
        snapshot,
        created=row.created_at,
        amount_captured=int(captured or 0),
        now=now,
        consumed_at=row.consumed_at,
    )
