"""Table of revision ``0009_agent_reports``: what agents reported about their attempts.

A report belongs to the person and names one of their spend requests (the agent's own); it
is read only next to that request, so it is indexed by spend request. Tags are a JSON list.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

__all__ = ["AgentReport"]


class AgentReport(Base):
    """One ``POST /agent_observations`` (contract §3.16)."""

    __tablename__ = "agent_reports"
    __table_args__ = (Index("ix_agent_reports_spend_request", "spend_request_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[str | None] = mapped_column(String(40))
    spend_request_id: Mapped[str] = mapped_column(
        ForeignKey("spend_requests.id", ondelete="CASCADE")
    )
    domain: Mapped[str] = mapped_column(String(253))
    outcome: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[str]] = mapped_column(JSON)
    step: Mapped[str | None] = mapped_column(Text)
    freeform_context: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
