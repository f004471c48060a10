"""Tables of revision ``0016_issuing``: what an outside issuer (Stripe Issuing) knows.

``issuing_cardholders`` maps a person to their Cardholder; ``issuing_events`` holds the id of
every webhook event applied (a redelivery changes nothing); ``issuing_authorizations`` records
every real-time decision with its reason, keyed by the issuer's authorization id, so a
repeated request gets the same answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class IssuingCardholder(Base):
    """A person's cardholder at the issuer and the profile last sent to it."""

    __tablename__ = "issuing_cardholders"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    issuer: Mapped[str] = mapped_column(String(30))
    cardholder_id: Mapped[str] = mapped_column(String(255))
    profile_fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IssuingEvent(Base):
    """A webhook event already applied."""

    __tablename__ = "issuing_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IssuingAuthorization(Base):
    """One authorization decision: approved or not, and why."""

    __tablename__ = "issuing_authorizations"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    issuer_card: Mapped[str] = mapped_column(String(255), index=True)
    credential_id: Mapped[str | None] = mapped_column(String(40))
    spend_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(60))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    merchant_name: Mapped[str | None] = mapped_column(String(255))
    merchant_url: Mapped[str | None] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(30))
    """``realtime`` (our answer) or ``event`` (what the issuer reported afterwards)."""
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
