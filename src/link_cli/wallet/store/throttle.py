"""Attempt budgets (sign-in, device phrases, device logins) decided atomically in the database.

:func:`reserve` locks one ``throttle_keys`` row per budget (an upsert, in sorted order so two
reservations never deadlock), counts the budget's attempts in its sliding window and, when
every budget has room, inserts one ``auth_attempts`` row per budget, all in one transaction.
On SQLite every transaction is ``BEGIN IMMEDIATE`` (store/engine.py) and on PostgreSQL the
upsert holds the row lock until commit, so N concurrent reservations of one key are
serialized and at most ``limit`` of them succeed, across processes. Callers commit the
reservation *before* the slow check (argon2, phrase lookup), then :func:`release` it when the
check succeeds. Keys are hashed: the tables never hold emails or addresses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.throttle import LONGEST_WINDOW, Budget
from .crypto import sha256_hex
from .models.accounts import AuthAttempt
from .models.throttle import ThrottleKey

PURGE_BATCH = 100


@dataclass(frozen=True)
class Reservation:
    """The attempt rows one reservation inserted (one per budget)."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class Refusal:
    """The first budget that had no room, and when it will have room again."""

    budget: Budget
    retry_after: int


def reserve(session: Session, budgets: list[Budget], *, now: datetime) -> Reservation | Refusal:
    """Reserve one attempt in every budget, or none when any budget is spent."""
    for lock_hash in sorted({_lock_hash(b) for b in budgets}):
        _lock(session, lock_hash, now)
    for budget in budgets:
        count, oldest = session.execute(
            select(func.count(AuthAttempt.id), func.min(AuthAttempt.created_at)).where(
                AuthAttempt.kind == budget.kind,
                AuthAttempt.key_hash == sha256_hex(budget.key),
                AuthAttempt.created_at > now - budget.window,
            )
        ).one()
        if count >= budget.limit:
            frees_at = (oldest + budget.window) if oldest is not None else now + budget.window
            wait = math.ceil((frees_at - now).total_seconds())
            # Another process may have recorded its attempt a moment "after" this request's
            # now; a place frees within one window in any case.
            window = math.ceil(budget.window.total_seconds())
            return Refusal(budget=budget, retry_after=min(max(1, wait), window))
    rows = [AuthAttempt(kind=b.kind, key_hash=sha256_hex(b.key), created_at=now) for b in budgets]
    session.add_all(rows)
    session.flush()
    _purge_old(session, now)
    return Reservation(ids=tuple(row.id for row in rows))


def release(session: Session, reservation: Reservation) -> None:
    """Give a reservation back (the check succeeded: it was not a failure)."""
    session.execute(delete(AuthAttempt).where(AuthAttempt.id.in_(reservation.ids)))


def forget(session: Session, budget: Budget) -> None:
    """Clear every attempt counted against ``budget``'s key (after a successful sign-in)."""
    session.execute(
        delete(AuthAttempt).where(
            AuthAttempt.kind == budget.kind, AuthAttempt.key_hash == sha256_hex(budget.key)
        )
    )


def count(session: Session, budget: Budget, *, now: datetime) -> int:
    """Attempts counted against ``budget`` within its window before ``now``."""
    query = select(func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == budget.kind,
        AuthAttempt.key_hash == sha256_hex(budget.key),
        AuthAttempt.created_at > now - budget.window,
    )
    return int(session.scalar(query) or 0)


def _lock_hash(budget: Budget) -> str:
    return sha256_hex(f"{budget.kind}\0{budget.key}")


def _lock(session: Session, lock_hash: str, now: datetime) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ThrottleKey).values(key_hash=lock_hash, touched_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ThrottleKey.key_hash],
            set_={"touched_at": statement.excluded.touched_at},
        )
    )


def _purge_old(session: Session, now: datetime) -> None:
    # Bounded per call; SKIP LOCKED (PostgreSQL) so purging never waits on, or deadlocks
    # with, another reservation.
    cutoff = now - LONGEST_WINDOW
    old_attempts = (
        select(AuthAttempt.id)
        .where(AuthAttempt.created_at <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(AuthAttempt).where(AuthAttempt.id.in_(old_attempts)))
    old_keys = (
        select(ThrottleKey.key_hash)
        .where(ThrottleKey.touched_at <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(ThrottleKey).where(ThrottleKey.key_hash.in_(old_keys)))
