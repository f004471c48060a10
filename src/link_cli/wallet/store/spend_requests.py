"""Repository of spend requests: every read is scoped to the acting person, and agent reads
(``*_for_agent``) also to the agent connection (OAuth grant) that created the request.

Rows become :class:`~..domain.spend_request.SpendRequest` values on the way out; the rules
live in ``domain/``. Two primitives make one-time things safe across processes:

* :func:`save_transition` writes a new state with ``UPDATE … WHERE id = :id AND revision =
  :seen`` and bumps the revision (compare-and-set): a change decided on a request that
  someone else changed meanwhile writes nothing, so two racing approvals cannot both win and
  an agent's update racing the person's approval cannot be lost;
* :func:`lock_person` bumps the person's row in ``spend_limit_locks`` first thing in a
  transaction, so limit decisions (count, then insert) of one person run one at a time.

Lazy expiry (domain ``expire_if_due``) is applied on every read, and persisted only in
write transactions (read transactions never write: ``engine.is_writable``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.limits import CREATION_WINDOW
from ..domain.spend_request import (
    ACTIVE_STATUSES,
    CredentialType,
    SpendRequest,
    Status,
    expire_if_due,
)
from .changes import mark_changed, person_key, spend_request_key
from .engine import is_writable
from .models.spend import IssuedCredential, SpendLimitLock, SpendRequestRow

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "get_for_agent",
    "get_for_user",
    "get_with_credential_for_agent",
    "insert_request",
    "list_for_agent",
    "list_for_user",
    "lock_person",
    "recent_for_user",
    "save_transition",
]

DEFAULT_LIST_LIMIT = 100
"""`GET /spend_requests` answers at most this many requests, newest first."""

_COLUMNS = (
    "id",
    "user_id",
    "credential_type",
    "amount",
    "currency",
    "context",
    "payment_method_id",
    "merchant_name",
    "merchant_url",
    "network_id",
    "line_items",
    "totals",
    "test",
    "approval_details",
    "status_details",
    "payment_status_details",
    "link_transaction_id",
    "created_at",
    "updated_at",
    "approval_expires_at",
    "expires_at",
    "approval_requested_at",
    "approved_at",
    "valid_until",
    "grant_id",
    "revision",
    "execution_method",
    "merchant_account_id",
)


def _to_domain(row: SpendRequestRow) -> SpendRequest:
    values: dict[str, Any] = {name: getattr(row, name) for name in _COLUMNS}
    values["status"] = Status(row.status)
    values["credential_type"] = CredentialType(row.credential_type)
    values["metadata"] = dict(row.metadata_ or {})
    values["line_items"] = list(row.line_items or [])
    values["totals"] = list(row.totals or [])
    return SpendRequest(**values)


def _to_values(request: SpendRequest) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(request, name) for name in _COLUMNS}
    values["status"] = str(request.status)
    values["credential_type"] = str(request.credential_type)
    values["metadata_"] = dict(request.metadata)
    return values


def lock_person(session: Session, user_id: str) -> None:
    """Serialise this person's limit decisions until the transaction ends.

    Call it before reading the snapshot the limits are decided on.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(SpendLimitLock).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(SpendLimitLock).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect: {dialect}")
    session.execute(statement.values(user_id=user_id, generation=0))
    session.execute(
        update(SpendLimitLock)
        .where(SpendLimitLock.user_id == user_id)
        .values(generation=SpendLimitLock.generation + 1)
    )


def insert_request(session: Session, request: SpendRequest) -> None:
    """Store a new request."""
    values = _to_values(request)
    values["metadata"] = values.pop("metadata_")
    session.execute(insert(SpendRequestRow.__table__).values(**values))
    mark_changed(session, person_key(request.user_id))


def save_transition(
    session: Session, before: SpendRequest, after: SpendRequest
) -> SpendRequest | None:
    """Write ``after`` only if the stored revision is still ``before.revision``.

    Returns the stored request (with its new revision); None means someone else changed
    the request first and nothing was written.
    """
    saved = dataclasses.replace(after, revision=before.revision + 1)
    values = _to_values(saved)
    for fixed in ("id", "user_id", "created_at", "grant_id"):
        values.pop(fixed)
    result = session.execute(
        update(SpendRequestRow)
        .where(
            SpendRequestRow.id == before.id,
            SpendRequestRow.user_id == before.user_id,
            SpendRequestRow.revision == before.revision,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    # The one place a request's state moves: whoever waits on it hears of the commit.
    mark_changed(session, spend_request_key(before.id), person_key(before.user_id))
    return saved


def _current(session: Session, row: SpendRequestRow, now: datetime) -> SpendRequest:
    stored = _to_domain(row)
    current = expire_if_due(stored, now=now)
    if current is stored:
        return current
    if not is_writable(session):
        return current  # shown as expired; the next write transaction stores it
    # Someone else may have changed it meanwhile; then their write stands.
    return save_transition(session, stored, current) or current


def _scoped(user_id: str) -> Any:
    return (
        select(SpendRequestRow)
        .where(SpendRequestRow.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def get_for_user(
    session: Session, user_id: str, request_id: str, *, now: datetime
) -> SpendRequest | None:
    """The person's request as it stands at ``now``, or None (also for others' ids)."""
    row = session.scalar(_scoped(user_id).where(SpendRequestRow.id == request_id))
    return None if row is None else _current(session, row, now)


# An agent's own request (by person, grant and id), built once: agents poll it.
_AGENT_REQUEST = (
    select(SpendRequestRow)
    .where(
        SpendRequestRow.user_id == bindparam("user_id"),
        SpendRequestRow.grant_id == bindparam("grant_id"),
        SpendRequestRow.id == bindparam("request_id"),
    )
    .execution_options(populate_existing=True)
)
_AGENT_REQUEST_WITH_CREDENTIAL = (
    select(SpendRequestRow, IssuedCredential)
    .outerjoin(
        IssuedCredential,
        (IssuedCredential.spend_request_id == SpendRequestRow.id)
        & (IssuedCredential.user_id == SpendRequestRow.user_id),
    )
    .where(
        SpendRequestRow.user_id == bindparam("user_id"),
        SpendRequestRow.grant_id == bindparam("grant_id"),
        SpendRequestRow.id == bindparam("request_id"),
    )
    .execution_options(populate_existing=True)
)


def get_for_agent(
    session: Session, user_id: str, grant_id: str, request_id: str, *, now: datetime
) -> SpendRequest | None:
    """The request if the agent connection ``grant_id`` created it, else None, exactly as
    for an unknown id."""
    keys = {"user_id": user_id, "grant_id": grant_id, "request_id": request_id}
    row = session.scalar(_AGENT_REQUEST, keys)
    return None if row is None else _current(session, row, now)


def get_with_credential_for_agent(
    session: Session, user_id: str, grant_id: str, request_id: str, *, now: datetime
) -> tuple[SpendRequest, IssuedCredential | None] | None:
    """:func:`get_for_agent` and the request's issued credential (or None), in one query."""
    keys = {"user_id": user_id, "grant_id": grant_id, "request_id": request_id}
    found = session.execute(_AGENT_REQUEST_WITH_CREDENTIAL, keys).first()
    if found is None:
        return None
    row, credential = found
    return _current(session, row, now), credential


def _list(
    session: Session, query: Any, *, now: datetime, include_history: bool, limit: int
) -> list[SpendRequest]:
    query = query.order_by(SpendRequestRow.created_at.desc(), SpendRequestRow.id.desc())
    if not include_history:
        query = query.where(SpendRequestRow.status.in_([str(s) for s in ACTIVE_STATUSES]))
    requests = [_current(session, row, now) for row in session.scalars(query.limit(limit))]
    if include_history:
        return requests
    return [r for r in requests if r.is_active]


def list_for_user(
    session: Session,
    user_id: str,
    *,
    now: datetime,
    include_history: bool,
    limit: int = DEFAULT_LIST_LIMIT,
) -> list[SpendRequest]:
    """The person's requests, newest first: active ones, or all with ``include_history``."""
    return _list(session, _scoped(user_id), now=now, include_history=include_history, limit=limit)


def list_for_agent(
    session: Session,
    user_id: str,
    grant_id: str,
    *,
    now: datetime,
    include_history: bool,
    limit: int = DEFAULT_LIST_LIMIT,
) -> list[SpendRequest]:
    """Like :func:`list_for_user`, but only the requests the connection ``grant_id`` created."""
    query = _scoped(user_id).where(SpendRequestRow.grant_id == grant_id)
    return _list(session, query, now=now, include_history=include_history, limit=limit)


def recent_for_user(session: Session, user_id: str, *, now: datetime) -> Sequence[SpendRequest]:
    """The snapshot for limit decisions: requests created within the limits' longest
    window, plus any older one still active (``domain.limits``)."""
    query = _scoped(user_id).where(
        or_(
            SpendRequestRow.created_at > now - CREATION_WINDOW,
            SpendRequestRow.status.in_([str(s) for s in ACTIVE_STATUSES]),
        )
    )
    return [_current(session, row, now) for row in session.scalars(query)]


def to_domain(row: SpendRequestRow) -> SpendRequest:
    """The stored row as the domain's request (as stored: not expired on reading)."""
    return _to_domain(row)
