"""Repository of PaymentIntents created at this wallet, and the merchants' reads of their own
PaymentIntents and granted tokens (404 for anyone else's)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.payment_intent_params import PaymentIntentCreate
from ..domain.redemption import Effect, same_mode
from ..domain.spend_request import SpendRequest
from ..domain.stripe_errors import StripeError, invalid_request
from ..domain.stripe_objects import granted_token_object, payment_intent_object
from .issued_credentials import KIND_SPT, spend_request_of, spt_snapshot
from .models.merchants import Merchant, PaymentIntentRecord
from .models.spend import IssuedCredential

__all__ = [
    "get_granted_token",
    "get_payment_intent",
    "payment_intent_view",
    "record_payment_intent",
]


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
    return payment_intent_view(record, livemode=merchant.livemode)


def payment_intent_view(record: PaymentIntentRecord, *, livemode: bool) -> dict[str, Any]:
    """The stored PaymentIntent in Stripe's shape; ``livemode`` is its merchant's mode."""
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
        livemode=livemode,
    )


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
    return payment_intent_view(record, livemode=merchant.livemode)


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
