"""Agent reports: stored per person beside the spend request they name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.validation import ReportDraft
from .models.base import new_id
from .models.reports import AgentReport

__all__ = ["add_report", "reports_for_request", "reports_for_requests"]


def add_report(
    session: Session, *, user_id: str, grant_id: str | None, draft: ReportDraft, now: datetime
) -> AgentReport:
    """Store one report; the caller has checked that the spend request is the agent's own."""
    report = AgentReport(
        id=new_id("aobs"),
        user_id=user_id,
        grant_id=grant_id,
        spend_request_id=draft.spend_request_id,
        domain=draft.domain,
        outcome=draft.outcome,
        tags=list(draft.tags),
        step=draft.step,
        freeform_context=draft.freeform_context,
        created_at=now,
    )
    session.add(report)
    session.flush()
    return report


def reports_for_request(session: Session, user_id: str, request_id: str) -> list[AgentReport]:
    """The person's reports about one spend request, oldest first."""
    query = (
        select(AgentReport)
        .where(AgentReport.user_id == user_id, AgentReport.spend_request_id == request_id)
        .order_by(AgentReport.created_at, AgentReport.id)
    )
    return list(session.scalars(query))


def reports_for_requests(
    session: Session, user_id: str, request_ids: list[str]
) -> dict[str, AgentReport]:
    """The latest report about each of ``request_ids`` that has one (for lists)."""
    if not request_ids:
        return {}
    query = (
        select(AgentReport)
        .where(AgentReport.user_id == user_id, AgentReport.spend_request_id.in_(request_ids))
        .order_by(AgentReport.created_at, AgentReport.id)
    )
    return {report.spend_request_id: report for report in session.scalars(query)}
