"""Idempotency records of the redemption routes: one answer per (merchant, key).

A key is claimed before the work starts (a unique row); the answer is stored with it, and a
retry with the same key and parameters gets that answer back. Parameters are compared by a
keyed MAC, never stored in clear (they may hold card data).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.stripe_errors import StripeError, invalid_request
from .crypto import derive_key
from .models.merchants import IdempotencyRecord

__all__ = ["StoredAnswer", "claim", "idempotency_mac", "replay", "store_answer"]


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept under an idempotency key: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


def idempotency_mac(secret_key: bytes, canonical: bytes) -> str:
    """A keyed MAC of a request's canonical parameters (never stored in clear: cards)."""
    key = derive_key(secret_key, "redemption/idempotency")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def _conflict(key: str) -> StripeError:
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key[:80]}' if you meant to execute "
        "a different request.",
    )


def replay(session: Session, merchant_id: str, key: str, mac: str) -> StoredAnswer:
    """The answer stored under ``key``; refuses a reuse with other parameters."""
    record = session.get(IdempotencyRecord, (merchant_id, key))
    if record is None:  # cannot happen after a unique violation, but never guess
        raise invalid_request("The idempotent request could not be replayed; retry.", status=409)
    if not hmac.compare_digest(record.request_mac, mac):
        raise _conflict(key)
    return StoredAnswer(record.status_code, json.loads(record.response_body))


def claim(
    session: Session, *, merchant_id: str, key: str, mac: str, now: datetime
) -> StoredAnswer | None:
    """Claim ``key`` for this request, or return the answer of the request that holds it.

    On a concurrent claim, waits for the other transaction (unique index) and answers like it.
    A returned answer leaves the session rolled back.
    """
    if session.get(IdempotencyRecord, (merchant_id, key)) is not None:
        answer = replay(session, merchant_id, key, mac)
        session.rollback()
        return answer
    session.add(
        IdempotencyRecord(
            merchant_id=merchant_id,
            key=key,
            request_mac=mac,
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
        answer = replay(session, merchant_id, key, mac)
        session.rollback()
        return answer
    return None


def store_answer(
    session: Session, *, merchant_id: str, key: str, status: int, body: dict[str, Any]
) -> None:
    """Keep the answer under the claimed ``key``."""
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.merchant_id == merchant_id, IdempotencyRecord.key == key)
        .values(status_code=status, response_body=json.dumps(body))
    )
