"""Change keys: what a committed transaction changed, for requests waiting on it (long-poll).

A write marks the keys it changes (``spend_request:<id>``, ``person:<user id>``,
``device:<id>``) with :func:`mark_changed`. On PostgreSQL that also queues a ``NOTIFY`` in the
same transaction, so other processes hear of it exactly when (and only if) it commits;
within the process ``Database`` hands the keys to its commit listeners after the commit.
:func:`versions` reads the current version of waited-for keys in one query each kind: the
bounded re-check across SQLite processes, which have no notifications.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from .models.accounts import DeviceAuthorization
from .models.spend import SpendRequestRow

CHANNEL = "link_wallet_changes"
"""The PostgreSQL ``LISTEN``/``NOTIFY`` channel; the payload is one change key."""
SESSION_KEYS = "changed_keys"
"""``Session.info`` entry holding this transaction's change keys until it commits."""

SPEND_REQUEST = "spend_request:"
PERSON = "person:"
DEVICE = "device:"


def spend_request_key(request_id: str) -> str:
    return SPEND_REQUEST + request_id


def person_key(user_id: str) -> str:
    return PERSON + user_id


def device_key(device_code_hash: str) -> str:
    return DEVICE + device_code_hash


def mark_changed(session: Session, *keys: str) -> None:
    """Record that this transaction changes ``keys`` (announced only if it commits)."""
    pending: set[str] = session.info.setdefault(SESSION_KEYS, set())
    fresh = [key for key in keys if key not in pending]
    if not fresh:
        return
    pending.update(fresh)
    if session.get_bind().dialect.name == "postgresql":
        for key in fresh:  # delivered by PostgreSQL at commit, dropped on rollback
            session.execute(select(func.pg_notify(CHANNEL, key)))


def versions(connection: Connection, keys: Collection[str]) -> dict[str, str]:
    """The current version of each key (absent when the row is gone): a spend request's
    revision, a device login's status, a person's count and sum of request revisions."""
    found: dict[str, str] = {}
    requests = [key.removeprefix(SPEND_REQUEST) for key in keys if key.startswith(SPEND_REQUEST)]
    if requests:
        rows = connection.execute(
            select(SpendRequestRow.id, SpendRequestRow.revision).where(
                SpendRequestRow.id.in_(requests)
            )
        )
        found.update((spend_request_key(i), str(revision)) for i, revision in rows)
    devices = [key.removeprefix(DEVICE) for key in keys if key.startswith(DEVICE)]
    if devices:
        rows = connection.execute(
            select(DeviceAuthorization.device_code_hash, DeviceAuthorization.status).where(
                DeviceAuthorization.device_code_hash.in_(devices)
            )
        )
        found.update((device_key(i), str(status)) for i, status in rows)
    for key in keys:
        if key.startswith(PERSON):
            found[key] = person_version(connection, key.removeprefix(PERSON))
    return found


def person_version(connection: Connection | Session, user_id: str) -> str:
    """Changes whenever one of the person's spend requests is created or moves."""
    row: Any = connection.execute(
        select(func.count(), func.coalesce(func.sum(SpendRequestRow.revision), 0)).where(
            SpendRequestRow.user_id == user_id
        )
    ).one()
    return f"{row[0]}.{row[1]}"
