"""Tables of revision ``0004_throttle``: one lock row per throttled key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ThrottleKey(Base):
    """A throttled (kind, key), hashed; the row is locked while an attempt is reserved.

    Reserving an attempt upserts this row first, which on PostgreSQL holds its row lock until
    commit: concurrent reservations of one key are serialized, so count-then-insert is exact.
    """

    __tablename__ = "throttle_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
