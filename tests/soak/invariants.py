"""The promises, read from the database: what every scenario and crash round checks.

* a spend request has at most one credential, and has one exactly when it was approved
  (``approved_at`` set): approved and succeeded requests always have theirs, created,
  pending and denied ones never;
* a credential is consumed at most once: at most one succeeded PaymentIntent names it, a
  succeeded PaymentIntent implies ``consumed_at``, and a consumed credential's request ended
  (``succeeded``, or ``failed`` when a charge broke the approval);
* a succeeded request's credential is consumed.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from link_cli.wallet.store.crypto import sha256_hex
from link_cli.wallet.store.models.accounts import AuthAttempt
from link_cli.wallet.store.models.merchants import PaymentIntentRecord
from link_cli.wallet.store.models.spend import IssuedCredential, SpendRequestRow

WITH_CREDENTIAL = {"approved", "succeeded"}
WITHOUT_CREDENTIAL = {"created", "pending_approval", "denied"}
AFTER_CONSUMPTION = {"succeeded", "failed"}


def request_row(session: Session, request_id: str) -> SpendRequestRow | None:
    return session.get(SpendRequestRow, request_id)


def credentials_for(session: Session, request_id: str) -> list[IssuedCredential]:
    query = select(IssuedCredential).where(IssuedCredential.spend_request_id == request_id)
    return list(session.scalars(query))


def succeeded_intents(session: Session, credential_id: str) -> list[PaymentIntentRecord]:
    query = select(PaymentIntentRecord).where(
        PaymentIntentRecord.credential_id == credential_id,
        PaymentIntentRecord.status == "succeeded",
    )
    return list(session.scalars(query))


def attempt_rows(session: Session, kind: str, key: str) -> int:
    """Throttle reservations kept for ``key`` (stored hashed)."""
    query = select(func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == kind, AuthAttempt.key_hash == sha256_hex(key)
    )
    return int(session.scalar(query) or 0)


def intents_of_merchant(session: Session, merchant_id: str) -> int:
    """PaymentIntents recorded for a merchant (every decline records one)."""
    query = select(func.count(PaymentIntentRecord.id)).where(
        PaymentIntentRecord.merchant_id == merchant_id
    )
    return int(session.scalar(query) or 0)


def requests_of(session: Session, user_id: str) -> int:
    query = select(func.count(SpendRequestRow.id)).where(SpendRequestRow.user_id == user_id)
    return int(session.scalar(query) or 0)


def consistency(session: Session) -> tuple[int, list[str]]:
    """Check every spend request, credential and PaymentIntent of the database.

    Returns how many requests were checked and one line per violation.
    """
    problems: list[str] = []
    requests = {row.id: row for row in session.scalars(select(SpendRequestRow))}
    credentials = list(session.scalars(select(IssuedCredential)))
    per_request = Counter(c.spend_request_id for c in credentials)
    by_request = {c.spend_request_id: c for c in credentials}
    succeeded = Counter(
        session.scalars(
            select(PaymentIntentRecord.credential_id).where(
                PaymentIntentRecord.status == "succeeded",
                PaymentIntentRecord.credential_id.is_not(None),
            )
        )
    )
    for request_id, count in per_request.items():
        if count > 1:
            problems.append(f"{request_id}: {count} credentials issued")
    for credential in credentials:
        request = requests.get(credential.spend_request_id)
        times = succeeded[credential.id]
        if times > 1:
            problems.append(f"{credential.id}: {times} succeeded PaymentIntents")
        if times and credential.consumed_at is None:
            problems.append(f"{credential.id}: charged but not consumed")
        if credential.consumed_at is not None and (
            request is None or request.status not in AFTER_CONSUMPTION
        ):
            status = request.status if request else "missing"
            problems.append(f"{credential.id}: consumed, request {status}")
        if request is not None and request.approved_at is None:
            problems.append(f"{request.id}: credential without approval")
    for request in requests.values():
        count = per_request[request.id]
        if request.status in WITH_CREDENTIAL and count != 1:
            problems.append(f"{request.id}: {request.status} with {count} credentials")
        if request.status in WITHOUT_CREDENTIAL and count:
            problems.append(f"{request.id}: {request.status} with a credential")
        if request.approved_at is not None and count != 1:
            problems.append(f"{request.id}: approved at {request.approved_at}, {count} credentials")
        if request.status == "succeeded":
            credential = by_request.get(request.id)
            if credential is None or credential.consumed_at is None:
                problems.append(f"{request.id}: succeeded, credential not consumed")
    return len(requests), problems
