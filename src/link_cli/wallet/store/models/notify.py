"""Tables of revision ``0013_notify``: where a person wants to hear about pending approvals,
and the outbox of deliveries still to make.

A channel is one destination (``email``, ``webpush`` or ``webhook``) with its last delivery
result. The outbox holds one row per (event, channel), written in the transaction that moved
the spend request to ``pending_approval``; a worker claims a row by compare-and-set on
``claimed_until``, so several wallet processes never send the same row twice at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

__all__ = ["NotificationChannel", "NotificationOutbox"]


class NotificationChannel(Base):
    """One destination of one person."""

    __tablename__ = "notification_channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(Text)
    """E-mail address, push endpoint or webhook URL."""
    label: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, str]] = mapped_column(JSON)
    """Push keys (``p256dh``, ``auth``) or the webhook's encrypted secret (``secret``)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failed attempts; 0 after a success."""


class NotificationOutbox(Base):
    """One delivery to make: an event of a spend request, to one channel."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    spend_request_id: Mapped[str] = mapped_column(
        ForeignKey("spend_requests.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    """``pending``, ``sent`` or ``failed`` (attempts exhausted)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Revision ``0015_policy``: the line an auto-approval notice says (None: pending approval).
    summary: Mapped[str | None] = mapped_column(Text)
