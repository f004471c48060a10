"""Repository of PaymentIntents created at this wallet, and the merchants' reads of their own
PaymentIntents, PaymentMethods and granted tokens (404 for anyone else's).

A PaymentIntent is confirmed at most once successfully: :func:`claim_for_confirm` moves it
out of a confirmable status with a conditional ``UPDATE``, so of concurrent confirmations
one proceeds and the others wait for it (the row is written) and then find it taken.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..domain.cards import detect_brand
from ..domain.payment_intent_params import PaymentIntentCreate
from ..domain.redemption import Effect, same_mode
from ..domain.spend_request import SpendRequest
from ..domain.stripe_errors import StripeError, invalid_request
from ..domain.stripe_list import ListParams, list_object
from ..domain.stripe_objects import (
    granted_token_object,
    payment_intent_object,
    payment_method_object,
)
from .issued_credentials import KIND_SPT, spend_request_of, spt_snapshot
from .models.base import new_id
from .models.merchants import Merchant, PaymentIntentRecord, PaymentMethodRecord
from .models.spend import IssuedCredential

__all__ = [
    "CONFIRMABLE",
    "cancel_payment_intent",
    "claim_for_confirm",
    "draft_params",
    "get_granted_token",
    "get_payment_intent",
    "get_payment_method",
    "list_payment_intents",
    "payment_intent_view",
    "record_draft",
    "record_payment_intent",
    "reopen",
    "unexpected_state",
]

CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
"""Statuses a PaymentIntent may be confirmed (or canceled) from."""

_NO_CREDENTIAL = "none"


def record_payment_intent(
    session: Session,
    intent_id: str,
    merchant: Merchant,
    params: PaymentIntentCreate,
    row: IssuedCredential | None,
    request: SpendRequest | None,
    status: str,
    now: datetime,
    *,
    error: StripeError | None = None,
    effect: Effect | None = None,
    existing: PaymentIntentRecord | None = None,
) -> dict[str, Any]:
    """Store the confirmed PaymentIntent (a new one, or ``existing`` confirmed now) and
    return its Stripe shape. Each confirmation gets a new PaymentMethod, as on Stripe."""
    last_error = None
    if error is not None:
        last_error = {k: v for k, v in error.to_body()["error"].items() if k != "payment_intent"}
    record = existing or _new_record(intent_id, merchant, params, now)
    record.status = status
    record.credential_kind = (
        "spt" if params.spt is not None else "lpt" if params.lpt is not None else "card"
    )
    record.credential_id = row.id if row is not None else None
    record.spend_request_id = request.id if request is not None else None
    record.payment_method_id = new_id("pm", 24)
    record.shared_payment_granted_token = params.spt
    record.last_payment_error = json.dumps(last_error) if last_error else None
    record.failure_effect = str(effect) if effect is not None else None
    card = params.card
    # What the presenter typed, never the stored credential: a PaymentMethod must not tell
    # a known card from an unknown one (docs/security.md).
    session.add(
        PaymentMethodRecord(
            id=record.payment_method_id,
            merchant_id=merchant.id,
            card_brand=detect_brand(card.number) if card is not None else None,
            card_last4=card.last4 if card is not None else None,
            card_exp_month=card.exp_month if card is not None else None,
            card_exp_year=card.exp_year if card is not None else None,
            created_at=now,
        )
    )
    if existing is None:
        session.add(record)
    session.flush()
    return payment_intent_view(record, livemode=merchant.livemode)


def record_draft(
    session: Session, merchant: Merchant, params: PaymentIntentCreate, now: datetime
) -> dict[str, Any]:
    """Store a PaymentIntent created without ``confirm``: nothing is examined or spent.

    ``requires_confirmation`` when an SPT was given, else ``requires_payment_method``.
    """
    record = _new_record(new_id("pi", 24), merchant, params, now)
    record.status = "requires_confirmation" if params.spt is not None else "requires_payment_method"
    record.credential_kind = "spt" if params.spt is not None else _NO_CREDENTIAL
    record.shared_payment_granted_token = params.spt
    session.add(record)
    session.flush()
    return payment_intent_view(record, livemode=merchant.livemode)


def _new_record(
    intent_id: str, merchant: Merchant, params: PaymentIntentCreate, now: datetime
) -> PaymentIntentRecord:
    return PaymentIntentRecord(
        id=intent_id,
        merchant_id=merchant.id,
        amount=params.amount,
        currency=params.currency,
        status="requires_payment_method",
        credential_kind=_NO_CREDENTIAL,
        payment_method_id="",
        payment_method_types=json.dumps(list(params.payment_method_types)),
        automatic_payment_methods=json.dumps(params.automatic_payment_methods)
        if params.automatic_payment_methods
        else None,
        metadata_json=json.dumps(params.metadata),
        description=params.description,
        created_at=now,
    )


def draft_params(record: PaymentIntentRecord) -> PaymentIntentCreate:
    """What a stored intent was created with (the SPT given at creation, no card)."""
    return PaymentIntentCreate(
        amount=record.amount,
        currency=record.currency,
        spt=record.shared_payment_granted_token,
        card=None,
        payment_method_types=tuple(json.loads(record.payment_method_types)),
        automatic_payment_methods=json.loads(record.automatic_payment_methods)
        if record.automatic_payment_methods
        else None,
        metadata=json.loads(record.metadata_json),
        description=record.description,
        confirm=False,
    )


def reopen(record: PaymentIntentRecord, error: StripeError) -> None:
    """A refused confirmation leaves the intent ``requires_payment_method`` with the error."""
    record.status = "requires_payment_method"
    record.last_payment_error = json.dumps(
        {k: v for k, v in error.to_body()["error"].items() if k != "payment_intent"}
    )


def claim_for_confirm(
    session: Session, *, merchant: Merchant, intent_id: str
) -> PaymentIntentRecord | None:
    """Take the merchant's intent out of a confirmable status for this transaction.

    None if it is not the merchant's or not confirmable (ask :func:`unexpected_state`). The
    final status is written before commit; a rollback leaves the intent as it was.
    """
    claimed = session.execute(
        update(PaymentIntentRecord)
        .where(
            PaymentIntentRecord.id == intent_id,
            PaymentIntentRecord.merchant_id == merchant.id,
            PaymentIntentRecord.status.in_(CONFIRMABLE),
        )
        .values(status="processing")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalars(
        select(PaymentIntentRecord)
        .where(PaymentIntentRecord.id == intent_id)
        .execution_options(populate_existing=True)
    ).one()


def unexpected_state(
    session: Session, *, merchant: Merchant, intent_id: str, action: str
) -> StripeError:
    """Why the intent cannot be confirmed or canceled: 404 if it is not the merchant's,
    else Stripe's ``payment_intent_unexpected_state`` naming its status."""
    record = _own(session, merchant, intent_id)
    error = invalid_request(
        f"You cannot {action} this PaymentIntent because it has a status of {record.status}.",
        code="payment_intent_unexpected_state",
    )
    error.payment_intent = payment_intent_view(record, livemode=merchant.livemode)
    return error


def cancel_payment_intent(
    session: Session, *, merchant: Merchant, intent_id: str, reason: str | None, now: datetime
) -> dict[str, Any]:
    """Cancel the merchant's intent if it is still confirmable (conditional ``UPDATE``)."""
    done = session.execute(
        update(PaymentIntentRecord)
        .where(
            PaymentIntentRecord.id == intent_id,
            PaymentIntentRecord.merchant_id == merchant.id,
            PaymentIntentRecord.status.in_(CONFIRMABLE),
        )
        .values(status="canceled", canceled_at=now, cancellation_reason=reason)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise unexpected_state(session, merchant=merchant, intent_id=intent_id, action="cancel")
    record = session.scalars(
        select(PaymentIntentRecord)
        .where(PaymentIntentRecord.id == intent_id)
        .execution_options(populate_existing=True)
    ).one()
    return payment_intent_view(record, livemode=merchant.livemode)


def list_payment_intents(
    session: Session, *, merchant: Merchant, params: ListParams
) -> dict[str, Any]:
    """The merchant's PaymentIntents, newest first, one page of Stripe's list object."""
    table = PaymentIntentRecord
    query = select(table).where(table.merchant_id == merchant.id)
    if params.created.since is not None:
        query = query.where(table.created_at >= _instant(params.created.since))
    if params.created.until is not None:
        query = query.where(table.created_at < _instant(params.created.until))
    cursor_id = params.starting_after or params.ending_before
    backwards = params.ending_before is not None
    if cursor_id is not None:
        cursor = session.get(table, cursor_id)
        if cursor is None or cursor.merchant_id != merchant.id:
            raise invalid_request(
                f"No such payment_intent: '{cursor_id[:64]}'",
                code="resource_missing",
                param="ending_before" if backwards else "starting_after",
            )
        if backwards:
            query = query.where(
                or_(
                    table.created_at > cursor.created_at,
                    and_(table.created_at == cursor.created_at, table.id > cursor.id),
                )
            )
        else:
            query = query.where(
                or_(
                    table.created_at < cursor.created_at,
                    and_(table.created_at == cursor.created_at, table.id < cursor.id),
                )
            )
    if backwards:
        query = query.order_by(table.created_at.asc(), table.id.asc())
    else:
        query = query.order_by(table.created_at.desc(), table.id.desc())
    rows = list(session.scalars(query.limit(params.limit + 1)))
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    if backwards:
        rows.reverse()
    data = [payment_intent_view(r, livemode=merchant.livemode) for r in rows]
    return list_object("/v1/payment_intents", data, has_more=has_more)


def _instant(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def get_payment_method(
    session: Session, *, merchant: Merchant, payment_method_id: str
) -> dict[str, Any]:
    """The PaymentMethod of one of the merchant's own confirmations; 404 for any other."""
    record = session.get(PaymentMethodRecord, payment_method_id[:40])
    if record is None or record.merchant_id != merchant.id:
        raise invalid_request(
            f"No such PaymentMethod: '{payment_method_id[:64]}'",
            code="resource_missing",
            param="payment_method",
            status=404,
        )
    return payment_method_object(
        id=record.id,
        created=record.created_at,
        brand=record.card_brand,
        last4=record.card_last4,
        exp_month=record.card_exp_month,
        exp_year=record.card_exp_year,
        livemode=merchant.livemode,
    )


def payment_intent_view(record: PaymentIntentRecord, *, livemode: bool) -> dict[str, Any]:
    """The stored PaymentIntent in Stripe's shape; ``livemode`` is its merchant's mode."""
    return payment_intent_object(
        id=record.id,
        amount=record.amount,
        currency=record.currency,
        status=record.status,
        created=record.created_at,
        payment_method=record.payment_method_id or None,
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
        canceled_at=record.canceled_at,
        cancellation_reason=record.cancellation_reason,
        livemode=livemode,
    )


def get_payment_intent(session: Session, *, merchant: Merchant, intent_id: str) -> dict[str, Any]:
    """One of the merchant's own PaymentIntents; 404 ``resource_missing`` otherwise."""
    return payment_intent_view(_own(session, merchant, intent_id), livemode=merchant.livemode)


def _own(session: Session, merchant: Merchant, intent_id: str) -> PaymentIntentRecord:
    record = session.get(PaymentIntentRecord, intent_id)
    if record is None or record.merchant_id != merchant.id:
        raise invalid_request(
            f"No such payment_intent: '{intent_id[:64]}'",
            code="resource_missing",
            param="intent",
            status=404,
        )
    return record


def get_granted_token(
    session: Session, *, merchant: Merchant, token_id: str, now: datetime
) -> dict[str, Any]:
    """An SPT granted to this merchant (its network id, in its mode); 404 for any other."""
    row = session.get(IssuedCredential, token_id)
    request = spend_request_of(session, row, now)
    if (
        row is None
        or request is None
        or row.kind != KIND_SPT
        or row.network_id is None
        or not hmac.compare_digest(row.network_id.encode(), merchant.network_id.encode())
        or not same_mode(credential_livemode=row.livemode, key_livemode=merchant.livemode)
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
    snapshot = spt_snapshot(row, request)
    return granted_token_object(
        snapshot,
        created=row.created_at,
        amount_captured=int(captured or 0),
        now=now,
        consumed_at=row.consumed_at,
        livemode=row.livemode,
    )
