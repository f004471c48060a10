"""``POST /agent_observations``: an agent reports how a purchase attempt went (contract §3.16).

The agent may report only on spend requests it created (its own grant); any other id answers
404 exactly like an unknown one. The person reads reports on the spend request's page and in
their recent requests.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ..deps import DbSession, Now, require_scope
from ..domain.oauth import SCOPE_PAYMENT_METHODS
from ..domain.validation import parse_report_body
from ..services import spend_requests as spend_service
from ..store import reports
from ..store import spend_requests as repository
from ..store.models.reports import AgentReport
from ..store.oauth import AccessContext
from .responses import ApiJSON
from .spend_requests import JsonBody, iso

router = APIRouter(tags=["reports"])

Reporter = Annotated[AccessContext, Depends(require_scope(SCOPE_PAYMENT_METHODS))]

REPORT_OBJECT = "agent_observation"
REPORT_STATUS = "received"


def report_json(report: AgentReport) -> dict[str, Any]:
    """The ReportRecord the official client prints (contract §7.8)."""
    return {
        "object": REPORT_OBJECT,
        "created_at": iso(report.created_at),
        "domain": report.domain,
        "outcome": report.outcome,
        "spend_request_id": report.spend_request_id,
        "status": REPORT_STATUS,
    }


@router.post("/agent_observations")
def create_report(agent: Reporter, db: DbSession, now: Now, body: JsonBody) -> ApiJSON:
    """Store the report next to the agent's own spend request."""
    draft = parse_report_body(body)
    spend = repository.get_for_agent(
        db, agent.user_id, agent.grant_id, draft.spend_request_id, now=now
    )
    if spend is None:
        raise spend_service.not_found(draft.spend_request_id)
    report = reports.add_report(
        db, user_id=agent.user_id, grant_id=agent.grant_id, draft=draft, now=now
    )
    return ApiJSON(report_json(report))
