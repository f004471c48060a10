"""Counting failed attempts (sign-in, device phrases) in the database.

Counts live in the shared database, not in process memory, so the limits hold when several
wallet processes serve the same people. Keys are hashed: the table never holds emails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .crypto import sha256_hex
from .models.accounts import AuthAttempt


def recent_failures(
    session: Session, *, kind: str, key: str, now: datetime, window: timedelta
) -> int:
    """How many failures of ``kind`` for ``key`` happened within ``window`` before ``now``."""
    query = select(func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == kind,
        AuthAttempt.key_hash == sha256_hex(key),
        AuthAttempt.created_at > now - window,
    )
    return int(session.scalar(query) or 0)


def record_failure(session: Session, *, kind: str, key: str, now: datetime) -> None:
    """Remember one failure of ``kind`` for ``key``."""
    session.add(AuthAttempt(kind=kind, key_hash=sha256_hex(key), created_at=now))
    session.flush()


def forget_failures(session: Session, *, kind: str, key: str) -> None:
    """Clear the failures of ``key`` (after a successful sign-in)."""
    session.execute(
        delete(AuthAttempt).where(AuthAttempt.kind == kind, AuthAttempt.key_hash == sha256_hex(key))
    )
