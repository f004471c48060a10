"""Settle a credential a merchant presents: ``POST /v1/payment_intents`` below HTTP.

:func:`confirm_payment_intent` runs in ONE transaction and starts by writing (the idempotency
claim, or the merchant's row), so on SQLite the transaction holds the write lock from its
first statement and on PostgreSQL a concurrent request with the same key waits on the unique
index. The credential is taken with a conditional ``UPDATE … WHERE consumed_at IS NULL``: of
N concurrent redemptions exactly one changes a row, whatever process they run in.
The rules live in :mod:`link_cli.wallet.domain.redemption`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..domain import spend_request as rules
from ..domain.payment_intent_params import (
    CardAttempt,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    confirmation_of,
)
from ..domain.redemption import (
    LPT,
    SPT,
    Effect,
    Refusal,
    TokenKind,
    already_used,
    judge_card,
    judge_spt,
    judge_token,
    presenter_of,
    same_mode,
)
from ..domain.spend_request import SpendRequest
from ..domain.stripe_objects import payment_status_details
from ..store import idempotency
from ..store import issued_credentials as credentials
from ..store.crypto import FieldCipher
from ..store.models.base import new_id
from ..store.models.merchants import Merchant, PaymentIntentRecord
from ..store.models.spend import IssuedCredential
from ..store.payment_intents import (
    cancel_payment_intent,
    claim_for_confirm,
    draft_params,
    payment_intent_view,
    record_draft,
    record_payment_intent,
    reopen,
    unexpected_state,
)
from ..store.spend_requests import save_transition

__all__ = ["ConfirmResult", "cancel_intent", "confirm_payment_intent"]


@dataclass(frozen=True)
class ConfirmResult:
    """The HTTP answer of a confirmation: status, JSON body, and whether it was replayed."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def confirm_payment_intent(
    session: Session,
    *,
    merchant: Merchant,
    params: PaymentIntentCreate | None,
    idempotency_key: str | None,
    request_mac: str,
    cipher: FieldCipher,
    secret_key: bytes,
    now: datetime,
    merchant_lock: bool = False,
    intent_id: str | None = None,
    given: PaymentIntentConfirm | None = None,
) -> ConfirmResult:
    """Create a PaymentIntent (``params``; confirmed at once if it says so), or confirm the
    merchant's stored ``intent_id`` with ``given``, settling its credential; commits.

    A refusal is also an answer (stored under the idempotency key, like Stripe does) and
    is returned, not raised. Only request-level problems raise :class:`StripeError`
    (nothing is then stored: the caller rolls back).
    """
    replayed = _begin(session, merchant, idempotency_key, request_mac, now)
    if replayed is not None:
        return replayed

    existing: PaymentIntentRecord | None = None
    if intent_id is not None:
        existing = claim_for_confirm(session, merchant=merchant, intent_id=intent_id)
        if existing is None:
            raise unexpected_state(
                session, merchant=merchant, intent_id=intent_id, action="confirm"
            )
        params = confirmation_of(draft_params(existing), given or PaymentIntentConfirm(None, None))
    elif params is None:
        raise ValueError("params or intent_id is required")
    elif not params.confirm:
        # Stored only: no credential is looked at, no budget spent.
        result = ConfirmResult(200, record_draft(session, merchant, params, now))
        return _finish(session, merchant, idempotency_key, result)

    try:
        if params.spt is not None:
            result = _settle_spt(session, merchant, params, now, existing)
        elif params.lpt is not None:
            result = _settle_lpt(session, merchant, params, now, existing)
        else:
            assert params.card is not None
            result = _settle_card(
                session,
                merchant,
                params,
                params.card,
                cipher,
                secret_key,
                now,
                merchant_lock,
                existing,
            )
    except _LostToConcurrentChange:
        session.rollback()
        refusal = already_used(_token_kind(params))
        return ConfirmResult(refusal.error.status, refusal.error.to_body())
    return _finish(session, merchant, idempotency_key, result)


def cancel_intent(
    session: Session,
    *,
    merchant: Merchant,
    intent_id: str,
    reason: str | None,
    idempotency_key: str | None,
    request_mac: str,
    now: datetime,
) -> ConfirmResult:
    """Cancel the merchant's unconfirmed PaymentIntent; commits. A succeeded or canceled one
    raises ``payment_intent_unexpected_state``."""
    replayed = _begin(session, merchant, idempotency_key, request_mac, now)
    if replayed is not None:
        return replayed
    body = cancel_payment_intent(
        session, merchant=merchant, intent_id=intent_id, reason=reason, now=now
    )
    return _finish(session, merchant, idempotency_key, ConfirmResult(200, body))


def _begin(
    session: Session, merchant: Merchant, key: str | None, mac: str, now: datetime
) -> ConfirmResult | None:
    """Claim the idempotency key (or answer its replay); either way write first, so on SQLite
    the transaction holds the write lock and later reads see a stable database."""
    if key is not None:
        stored = idempotency.claim(session, merchant_id=merchant.id, key=key, mac=mac, now=now)
        if stored is not None:
            return ConfirmResult(stored.status, stored.body, replayed=True)
    else:
        session.execute(
            update(Merchant).where(Merchant.id == merchant.id).values(name=Merchant.name)
        )
    return None


def _finish(
    session: Session, merchant: Merchant, key: str | None, result: ConfirmResult
) -> ConfirmResult:
    if key is not None:
        idempotency.store_answer(
            session, merchant_id=merchant.id, key=key, status=result.status, body=result.body
        )
    session.commit()
    return result


def _settle_spt(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    now: datetime,
    existing: PaymentIntentRecord | None,
) -> ConfirmResult:
    token = params.spt or ""
    row = _in_mode(credentials.find_spt(session, token), merchant)
    request = credentials.spend_request_of(session, row, now)
    snapshot = credentials.spt_snapshot(row, request) if row and request else None
    refusal = judge_spt(
        snapshot,
        token=token,
        network_id=merchant.network_id,
        amount=params.amount,
        currency=params.currency,
        now=now,
    )
    return _apply(session, merchant, params, row, request, refusal, now, existing)


def _settle_lpt(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    now: datetime,
    existing: PaymentIntentRecord | None,
) -> ConfirmResult:
    """A Link Pay Token pays only the merchant account it was approved for, by the rules
    of every one-time token (:func:`judge_token`)."""
    token = params.lpt or ""
    row = _in_mode(credentials.find_lpt(session, token), merchant)
    request = credentials.spend_request_of(session, row, now)
    snapshot = credentials.lpt_snapshot(row, request) if row and request else None
    refusal = judge_token(
        snapshot,
        kind=LPT,
        token=token,
        presenter=merchant.id,
        amount=params.amount,
        currency=params.currency,
        now=now,
    )
    return _apply(session, merchant, params, row, request, refusal, now, existing)


def _token_kind(params: PaymentIntentCreate) -> TokenKind | None:
    if params.spt is not None:
        return SPT
    return LPT if params.lpt is not None else None


def _settle_card(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    attempt: CardAttempt,
    cipher: FieldCipher,
    secret_key: bytes,
    now: datetime,
    merchant_lock: bool,
    existing: PaymentIntentRecord | None,
) -> ConfirmResult:
    row = _in_mode(credentials.find_card(session, secret_key, attempt.number), merchant)
    request = credentials.spend_request_of(session, row, now)
    if row is not None and request is not None:
        snapshot = credentials.card_snapshot(row, request, cipher)
        if not hmac.compare_digest(snapshot.number, attempt.number):
            snapshot = None  # a fingerprint collision would be astonishing; refuse anyway
    else:
        # An unknown number costs what a known one does (docs/security.md).
        credentials.decoy_card_work(session, cipher, now)
        snapshot = None
    refusal = judge_card(
        snapshot,
        attempt,
        amount=params.amount,
        currency=params.currency,
        now=now,
        presenter=presenter_of(merchant.site, request.merchant_url if request else None),
        merchant_lock=merchant_lock,
    )
    if refusal is not None and refusal.effect is Effect.NONE:
        # Every other outcome writes the card row once (a count, or consuming it).
        credentials.decoy_update(session)
    return _apply(session, merchant, params, row, request, refusal, now, existing)


def _in_mode(row: IssuedCredential | None, merchant: Merchant) -> IssuedCredential | None:
    """The credential if the merchant's key may see it; a credential of the other mode is
    judged as unknown, so nothing about it leaks and nothing is stored against it."""
    if row is None or not same_mode(
        credential_livemode=row.livemode, key_livemode=merchant.livemode
    ):
        return None
    return row


class _LostToConcurrentChange(Exception):
    """The spend request moved (canceled, expired) while this payment was being settled."""


def _apply(
    session: Session,
    merchant: Merchant,
    params: PaymentIntentCreate,
    row: IssuedCredential | None,
    request: SpendRequest | None,
    refusal: Refusal | None,
    now: datetime,
    existing: PaymentIntentRecord | None = None,
) -> ConfirmResult:
    """Carry out a verdict: consume, move the spend request, record the PaymentIntent (a new
    one, or ``existing``, the stored intent being confirmed)."""
    if refusal is None or refusal.effect is Effect.BURN:
        assert row is not None and request is not None
        if not credentials.consume(session, row.id, now):
            # Lost a race with another redemption: the credential is spent.
            refusal = already_used(_token_kind(params))
    elif refusal.effect in (Effect.ATTEMPT, Effect.FOREIGN):
        assert row is not None
        credentials.count_failed_attempt(session, row.id, foreign=refusal.effect is Effect.FOREIGN)

    intent_id = existing.id if existing is not None else new_id("pi", 24)
    if refusal is None:
        assert row is not None and request is not None
        details = payment_status_details(
            amount=params.amount, currency=params.currency, created=now
        )
        moved = replace(
            rules.succeed(request, now=now, payment_status_details=details),
            link_transaction_id=new_id("lnktxn", 24),
        )
        if save_transition(session, request, moved) is None:
            raise _LostToConcurrentChange
        pi = record_payment_intent(
            session, intent_id, merchant, params, row, request, "succeeded", now, existing=existing
        )
        return ConfirmResult(200, pi)

    error = refusal.error
    if refusal.effect is Effect.BURN and request is not None:
        # The person and the agent see why the card was burned; the merchant does not.
        details = payment_status_details(
            amount=params.amount,
            currency=params.currency,
            created=now,
            error=refusal.reason or error,
        )
        # If the request moved meanwhile, its new state stands; the refusal is unchanged.
        save_transition(
            session, request, rules.fail(request, now=now, payment_status_details=details)
        )
    if error.type == "card_error":
        # Stripe creates the PaymentIntent and attaches it to a card error.
        error.payment_intent = record_payment_intent(
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
            existing=existing,
        )
    elif existing is not None:
        # Stripe attaches the intent to a refused confirmation; it may be confirmed again.
        reopen(existing, error)
        session.flush()
        error.payment_intent = payment_intent_view(existing, livemode=merchant.livemode)
    return ConfirmResult(error.status, error.to_body())
