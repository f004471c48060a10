"""Repository of spending policies, the requests they approved and the person's policy
preferences. Every read is scoped to the acting person.

Budgets are counted from ``policy_approvals`` joined with the spend requests they approved:
the request's status (with lazy expiry applied) says whether its amount is still reserved,
was settled (and for how much), or was given back (domain ``counted_amount``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..domain.policies import Period, Policy, PolicyKind, PolicyRules, Usage, counted_amount
from ..domain.spend_request import expire_if_due
from .models.base import new_id
from .models.policies import PolicyApproval, PolicyPreferences, SpendingPolicy
from .models.spend import SpendRequestRow
from .spend_requests import to_domain

__all__ = [
    "approval_summaries",
    "count_policies",
    "delete_policy",
    "get_policy",
    "insert_policy",
    "list_policies",
    "preferences",
    "recent_approvals",
    "record_approval",
    "save_policy",
    "set_preferences",
    "usage",
]


def _rules(row: SpendingPolicy) -> PolicyRules:
    raw: dict[str, Any] = dict(row.rules or {})
    period = raw.get("period")
    return PolicyRules(
        name=row.name,
        kind=PolicyKind(row.kind),
        agent_id=raw.get("agent_id"),
        max_amount=raw.get("max_amount"),
        currency=raw.get("currency"),
        credential_types=tuple(raw.get("credential_types") or ()),
        merchants=tuple(raw.get("merchants") or ()),
        test_only=bool(raw.get("test_only")),
        window_start=raw.get("window_start"),
        window_end=raw.get("window_end"),
        weekdays=tuple(raw.get("weekdays") or ()),
        budget=raw.get("budget"),
        agent_budget=raw.get("agent_budget"),
        period=Period(period) if period else None,
    )


def _to_domain(row: SpendingPolicy) -> Policy:
    return Policy(
        id=row.id,
        user_id=row.user_id,
        rules=_rules(row),
        paused=row.paused,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _stored_rules(rules: PolicyRules) -> dict[str, Any]:
    values = rules.as_dict()
    values.pop("name")
    values.pop("kind")
    return values


def list_policies(session: Session, user_id: str) -> list[Policy]:
    """The person's policies, oldest first (the order decisions look at them)."""
    rows = session.scalars(
        select(SpendingPolicy)
        .where(SpendingPolicy.user_id == user_id)
        .order_by(SpendingPolicy.created_at, SpendingPolicy.id)
    )
    return [_to_domain(row) for row in rows]


def count_policies(session: Session, user_id: str) -> int:
    """How many policies the person has."""
    query = select(func.count()).select_from(SpendingPolicy)
    return int(session.scalar(query.where(SpendingPolicy.user_id == user_id)) or 0)


def get_policy(session: Session, user_id: str, policy_id: str) -> Policy | None:
    """One of the person's policies, or None (also for others' ids)."""
    row = session.scalar(
        select(SpendingPolicy).where(
            SpendingPolicy.user_id == user_id, SpendingPolicy.id == policy_id
        )
    )
    return None if row is None else _to_domain(row)


def insert_policy(session: Session, user_id: str, rules: PolicyRules, now: datetime) -> Policy:
    """Store a new, active policy."""
    row = SpendingPolicy(
        id=new_id("pol"),
        user_id=user_id,
        name=rules.name,
        kind=str(rules.kind),
        rules=_stored_rules(rules),
        paused=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _to_domain(row)


def save_policy(
    session: Session, policy: Policy, *, rules: PolicyRules, paused: bool, now: datetime
) -> Policy:
    """Replace a policy's rules and paused flag."""
    row = session.get(SpendingPolicy, policy.id)
    assert row is not None and row.user_id == policy.user_id
    row.name = rules.name
    row.kind = str(rules.kind)
    row.rules = _stored_rules(rules)
    row.paused = paused
    row.updated_at = now
    session.flush()
    return _to_domain(row)


def delete_policy(session: Session, user_id: str, policy_id: str) -> bool:
    """Delete one of the person's policies; False when it is not theirs or gone."""
    result = session.execute(
        delete(SpendingPolicy).where(
            SpendingPolicy.user_id == user_id, SpendingPolicy.id == policy_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def preferences(session: Session, user_id: str) -> tuple[str, bool]:
    """(time zone, notify on auto-approval); ``("UTC", False)`` until set."""
    row = session.get(PolicyPreferences, user_id)
    return ("UTC", False) if row is None else (row.time_zone, row.notify)


def set_preferences(session: Session, user_id: str, *, time_zone: str, notify: bool) -> None:
    """Store the person's time zone and notification choice."""
    row = session.get(PolicyPreferences, user_id)
    if row is None:
        session.add(PolicyPreferences(user_id=user_id, time_zone=time_zone, notify=notify))
    else:
        row.time_zone = time_zone
        row.notify = notify
    session.flush()


def usage(session: Session, user_id: str, *, since: datetime, now: datetime) -> list[Usage]:
    """What the person's auto-approvals since ``since`` hold of their budgets at ``now``."""
    rows = session.execute(
        select(PolicyApproval, SpendRequestRow)
        .join(SpendRequestRow, SpendRequestRow.id == PolicyApproval.spend_request_id)
        .where(PolicyApproval.user_id == user_id, PolicyApproval.approved_at >= since)
        .execution_options(populate_existing=True)
    )
    found = []
    for approval, row in rows:
        request = expire_if_due(to_domain(row), now=now)
        counted = counted_amount(
            str(request.status), request.amount, request.payment_status_details
        )
        found.append(Usage(approval.policy_id, approval.grant_id, approval.approved_at, counted))
    return found


def record_approval(
    session: Session,
    *,
    user_id: str,
    spend_request_id: str,
    policy_id: str,
    grant_id: str | None,
    now: datetime,
    summary: str,
) -> None:
    """Note that ``policy_id`` approved the request (same transaction as the approval)."""
    session.add(
        PolicyApproval(
            spend_request_id=spend_request_id,
            user_id=user_id,
            policy_id=policy_id,
            grant_id=grant_id,
            approved_at=now,
            summary=summary,
        )
    )
    session.flush()


def recent_approvals(
    session: Session, user_id: str, *, now: datetime, limit: int = 20
) -> list[tuple[PolicyApproval, Any]]:
    """The person's latest auto-approvals with their request (as it stands at ``now``)."""
    rows = session.execute(
        select(PolicyApproval, SpendRequestRow)
        .join(SpendRequestRow, SpendRequestRow.id == PolicyApproval.spend_request_id)
        .where(PolicyApproval.user_id == user_id)
        .order_by(PolicyApproval.approved_at.desc(), PolicyApproval.spend_request_id.desc())
        .limit(limit)
    )
    return [(approval, expire_if_due(to_domain(row), now=now)) for approval, row in rows]


def approval_summaries(session: Session, request_ids: list[str]) -> dict[str, str]:
    """``{spend request id: policy approval summary}`` for those a policy approved."""
    if not request_ids:
        return {}
    rows = session.execute(
        select(PolicyApproval.spend_request_id, PolicyApproval.summary).where(
            PolicyApproval.spend_request_id.in_(request_ids)
        )
    )
    return {request_id: summary for request_id, summary in rows}
