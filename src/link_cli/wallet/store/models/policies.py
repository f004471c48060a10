"""Tables of revision ``0015_policy``: spending policies, the requests they approved (what
budgets count), and each person's policy preferences (time zone, notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

__all__ = ["PolicyApproval", "PolicyPreferences", "SpendingPolicy"]


class SpendingPolicy(Base):
    """One rule set of one person; ``rules`` holds the conditions (domain ``PolicyRules``)."""

    __tablename__ = "spending_policies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    paused: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyApproval(Base):
    """A spend request a policy approved: budgets sum these (with the request's status), and
    the history and the policy pages name the policy. Written in the approving transaction."""

    __tablename__ = "policy_approvals"
    __table_args__ = (Index("ix_policy_approvals_policy_approved", "policy_id", "approved_at"),)

    spend_request_id: Mapped[str] = mapped_column(
        ForeignKey("spend_requests.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # No foreign key: a deleted policy's approvals stay in the history.
    policy_id: Mapped[str] = mapped_column(String(40))
    grant_id: Mapped[str | None] = mapped_column(String(40))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[str] = mapped_column(Text)


class PolicyPreferences(Base):
    """The person's time zone (budgets reset at its midnight) and notification opt-in."""

    __tablename__ = "policy_preferences"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    notify: Mapped[bool] = mapped_column(Boolean)
