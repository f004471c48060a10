"""Spending policies: the person manages them; spend requests are decided by them.

Deciding (:func:`decide_for`) runs inside the spend request's own transaction, after
``lock_person``: the budget a policy has left is read, and the approval that uses it is
written, while no other transaction of the same person (in any process) can do the same,
so concurrent requests never approve more than the budget (docs/policies.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..domain import limits as limit_rules
from ..domain import policies as rules
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.limits import LimitExceeded, LimitSettings
from ..domain.policies import Decision, Policy, PolicyRules, RequestFacts
from ..domain.spend_request import LINK_PAY_TOKEN, CredentialType, SpendRequest
from ..store import manage as manage_store
from ..store import policies as store
from ..store import spend_requests as repository
from . import issuing as outside

__all__ = [
    "create_policy",
    "decide_for",
    "delete_policy",
    "dry_run",
    "facts_of",
    "get_preferences",
    "list_policies",
    "policy_json",
    "set_paused",
    "set_preferences",
    "show_policy",
    "update_policy",
]


def facts_of(request: SpendRequest) -> RequestFacts:
    """What the policies look at in ``request``."""
    return RequestFacts.of(
        amount=request.amount,
        currency=request.currency,
        credential_type=str(request.credential_type),
        execution_method=request.execution_method,
        test=request.test,
        grant_id=request.grant_id,
        merchant_name=request.merchant_name,
        merchant_url=request.merchant_url,
        network_id=request.network_id,
        merchant_account_id=request.merchant_account_id,
    )


def _decide(
    session: Session, user_id: str, policies: list[Policy], facts: RequestFacts, now: datetime
) -> Decision:
    zone_name, _notify = store.preferences(session, user_id)
    zone = rules.time_zone(zone_name)
    periods = [p.rules.period for p in policies if p.rules.period is not None and not p.paused]
    usage: list[rules.Usage] = []
    if periods:
        since = min(rules.period_start(period, now, zone) for period in periods)
        usage = store.usage(session, user_id, since=since, now=now)
    return rules.decide(policies, facts, usage, now=now, zone=zone)


def decide_for(session: Session, request: SpendRequest, now: datetime) -> Decision | None:
    """The person's policies on ``request``; None when they have none (nothing to decide).

    Call after ``lock_person`` when the decision may approve.
    """
    policies = store.list_policies(session, request.user_id)
    if not policies:
        return None
    return _decide(session, request.user_id, policies, facts_of(request), now)


# --- management ------------------------------------------------------------------------


def policy_json(policy: Policy) -> dict[str, Any]:
    """A policy as the pages and ``link-wallet policy`` show it."""
    return {
        "id": policy.id,
        **policy.rules.as_dict(),
        "paused": policy.paused,
        "created_at": policy.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": policy.updated_at.isoformat().replace("+00:00", "Z"),
    }


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"No such policy: '{policy_id[:64]}'", code="policy_not_found")


def _check_agent(session: Session, user_id: str, rules_: PolicyRules) -> None:
    if rules_.agent_id is None:
        return
    live = manage_store.live_grants(session, user_id)
    if not any(grant.id == rules_.agent_id for grant in live):
        raise InvalidRequest(
            f"No connected agent '{rules_.agent_id[:64]}'; leave it empty for every agent.",
            code="invalid_policy",
            extra={"param": "agent_id"},
        )


def list_policies(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The person's policies, oldest first."""
    return [policy_json(p) for p in store.list_policies(session, user_id)]


def _get(session: Session, user_id: str, policy_id: str) -> Policy:
    policy = store.get_policy(session, user_id, policy_id)
    if policy is None:
        raise _not_found(policy_id)
    return policy


def show_policy(session: Session, user_id: str, policy_id: str) -> dict[str, Any]:
    """One policy."""
    return policy_json(_get(session, user_id, policy_id))


def create_policy(
    session: Session, *, user_id: str, raw: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Validate and store a new policy (at most :data:`~..domain.policies.MAX_POLICIES`)."""
    parsed = rules.validate_rules(raw)
    _check_agent(session, user_id, parsed)
    if store.count_policies(session, user_id) >= rules.MAX_POLICIES:
        raise Conflict(
            f"At most {rules.MAX_POLICIES} policies per person; delete one first.",
            code="too_many_policies",
        )
    return policy_json(store.insert_policy(session, user_id, parsed, now))


def update_policy(
    session: Session, *, user_id: str, policy_id: str, raw: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Change some fields: ``raw`` keys absent (or None) keep their current value."""
    policy = _get(session, user_id, policy_id)
    merged = policy.rules.as_dict()
    merged.update({k: v for k, v in raw.items() if v is not None})
    parsed = rules.validate_rules(merged)
    _check_agent(session, user_id, parsed)
    saved = store.save_policy(session, policy, rules=parsed, paused=policy.paused, now=now)
    return policy_json(saved)


def set_paused(
    session: Session, *, user_id: str, policy_id: str, paused: bool, now: datetime
) -> dict[str, Any]:
    """Pause (decides nothing until resumed) or resume a policy."""
    policy = _get(session, user_id, policy_id)
    saved = store.save_policy(session, policy, rules=policy.rules, paused=paused, now=now)
    return policy_json(saved)


def delete_policy(session: Session, *, user_id: str, policy_id: str) -> dict[str, Any]:
    """Delete a policy; what it approved stays in the history."""
    if not store.delete_policy(session, user_id, policy_id):
        raise _not_found(policy_id)
    return {"id": policy_id, "deleted": True}


def get_preferences(session: Session, user_id: str) -> dict[str, Any]:
    """``{time_zone, notify}``."""
    zone, notify = store.preferences(session, user_id)
    return {"time_zone": zone, "notify": notify}


def set_preferences(
    session: Session, *, user_id: str, time_zone: str | None, notify: bool | None
) -> dict[str, Any]:
    """Set the time zone budgets reset in and whether auto-approvals are notified."""
    zone, current_notify = store.preferences(session, user_id)
    if time_zone is not None:
        rules.time_zone(time_zone)
        zone = time_zone.strip()
    store.set_preferences(
        session,
        user_id,
        time_zone=zone,
        notify=current_notify if notify is None else notify,
    )
    return get_preferences(session, user_id)


def dry_run(
    session: Session,
    *,
    user_id: str,
    raw: Mapping[str, Any],
    now: datetime,
    limits: LimitSettings,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """What would happen to a request like ``raw`` right now (nothing is written): the
    policies' decision, then the wallet's own ``limits`` as a real request meets them (over
    the per-request cap it is refused; a policy approval those limits refuse asks the person),
    and a card approval asks the person while they have not accepted the issuer's terms
    (``terms_url``, the stripe issuer's ``LINK_WALLET_STRIPE_USER_TERMS_URL``).

    ``raw``: ``amount`` (minor units), ``currency``, ``credential_type`` (``card``,
    ``shared_payment_token`` or ``link_pay_token``), ``merchant_url``, ``network_id``,
    ``merchant_account_id``, ``test``, ``agent_id``."""
    amount = raw.get("amount")
    text = str(amount if amount is not None else "").strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= rules.MAX_AMOUNT:
        raise InvalidRequest(
            "amount must be a positive amount in minor units (cents)",
            code="invalid_dry_run",
            extra={"param": "amount"},
        )
    kind = str(raw.get("credential_type") or "card").strip()
    if kind not in rules.CREDENTIAL_KINDS:
        raise InvalidRequest(
            f"credential_type must be among {', '.join(rules.CREDENTIAL_KINDS)}",
            code="invalid_dry_run",
            extra={"param": "credential_type"},
        )
    if int(text) > limits.max_amount:
        raise InvalidRequest(
            f"amount is over this wallet's per-request limit of {limits.max_amount} (minor "
            "units): such a request is refused when the agent creates it",
            code="invalid_dry_run",
            extra={"param": "amount"},
        )
    currency = str(raw.get("currency") or "usd").strip().lower()[:3]

    def text_of(name: str) -> str | None:
        return str(raw.get(name) or "").strip()[:2048] or None

    facts = RequestFacts.of(
        amount=int(text),
        currency=currency,
        credential_type=str(
            CredentialType.SHARED_PAYMENT_TOKEN
            if kind == "shared_payment_token"
            else CredentialType.CARD
        ),
        execution_method=LINK_PAY_TOKEN if kind == "link_pay_token" else None,
        test=str(raw.get("test") or "").lower() in {"1", "true", "yes", "on"},
        grant_id=text_of("agent_id"),
        merchant_name=None,
        merchant_url=text_of("merchant_url"),
        network_id=text_of("network_id"),
        merchant_account_id=text_of("merchant_account_id"),
    )
    policies = store.list_policies(session, user_id)
    decision = _decide(session, user_id, policies, facts, now)
    if decision.outcome is rules.Outcome.APPROVE:
        try:
            limit_rules.check_approval(
                facts.amount,
                facts.currency,
                test=facts.test,
                recent=repository.recent_for_user(session, user_id, now=now),
                limits=limits,
                now=now,
            )
        except LimitExceeded as refusal:
            decision = dataclasses.replace(
                decision,
                outcome=rules.Outcome.ASK,
                rule="wallet_limit",
                message=f"{decision.policy_name} would approve it, but the wallet's own "
                f"limit asks the person: {refusal.message}",
                remaining=None,
            )
    if (
        decision.outcome is rules.Outcome.APPROVE
        and terms_url
        and kind == "card"
        and outside.terms_pending(session, user_id)
    ):
        decision = dataclasses.replace(
            decision,
            outcome=rules.Outcome.ASK,
            rule="issuing_terms",
            message=f"{decision.policy_name} would approve it, but the person first accepts "
            "the card issuer's Authorized User Terms on the approval page",
            remaining=None,
        )
    return decision.as_dict()
