"""Spending policies: the person's standing rules for their agents' spend requests.

Pure: no I/O. A policy belongs to one person and applies to one connected agent (an OAuth
grant) or to all of them. Two kinds:

* ``auto_approve``: the request is approved without asking when *every* condition the
  policy sets holds (amount per request, currency, credential type, merchant allow-list,
  test mode only, time window, remaining budget per policy and per agent);
* ``deny``: a request to a merchant on the deny-list is refused outright, so the agent
  learns why at once.

Anything no policy approves asks the person, as without policies. :func:`decide` looks at
one request and returns a :class:`Decision` naming the policy and the rule that made it.
Budgets are counted from what earlier auto-approvals hold (:func:`counted_amount`): an
open credential reserves its amount, a settled one counts what the merchant took, and a
canceled, expired, denied or failed one counts nothing. Periods (day, week from Monday,
calendar month) begin at midnight in the person's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from link_cli.money import format_amount, is_ascii_digits, is_currency_code

from .errors import Forbidden, InvalidRequest
from .sites import registrable_domain, registrable_domain_of_url

__all__ = [
    "CREDENTIAL_KINDS",
    "MAX_POLICIES",
    "Decision",
    "Outcome",
    "Period",
    "Policy",
    "PolicyKind",
    "PolicyRules",
    "RequestFacts",
    "Usage",
    "counted_amount",
    "decide",
    "denied_error",
    "period_start",
    "policy_approval_details",
    "summary_text",
    "time_zone",
    "validate_rules",
]

CREDENTIAL_KINDS = ("card", "shared_payment_token", "link_pay_token")
"""What a policy can name: a card, a shared payment token, or a Link Pay Token request."""
MAX_POLICIES = 50
"""Policies per person."""
MAX_MERCHANTS = 100
MAX_NAME = 80
MAX_AMOUNT = 100_000_000
APP_NAME = "link-wallet policy"
"""``approval_details.app_name`` of a request a policy approved."""
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]{1,60}$")
_NETWORK = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")


class PolicyKind(StrEnum):
    """What a policy does with the requests it matches."""

    AUTO_APPROVE = "auto_approve"
    DENY = "deny"


class Period(StrEnum):
    """How often a budget starts again (at midnight in the person's time zone)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Outcome(StrEnum):
    """What happens to the request."""

    APPROVE = "approve"
    DENY = "deny"
    ASK = "ask"


def _invalid(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, code="invalid_policy", extra={"param": param})


@dataclass(frozen=True)
class PolicyRules:
    """What a person sets on a policy (validated by :func:`validate_rules`)."""

    name: str
    kind: PolicyKind = PolicyKind.AUTO_APPROVE
    agent_id: str | None = None
    """The connected agent (grant id) it applies to; None: every agent of the person."""
    max_amount: int | None = None
    currency: str | None = None
    credential_types: tuple[str, ...] = ()
    merchants: tuple[str, ...] = ()
    """Registrable domains (cards), network ids (SPT), merchant accounts ``acct_…`` (LPT)."""
    test_only: bool = False
    window_start: str | None = None
    """``HH:MM`` in the person's time zone; with ``window_end``; may wrap past midnight."""
    window_end: str | None = None
    weekdays: tuple[str, ...] = ()
    """``mon`` … ``sun``; empty: every day."""
    budget: int | None = None
    """Total the policy may approve per ``period``, all its agents together."""
    agent_budget: int | None = None
    """Total each agent may get approved under the policy per ``period``."""
    period: Period | None = None

    def as_dict(self) -> dict[str, Any]:
        """The rules as JSON-ready values."""
        return {
            "name": self.name,
            "kind": str(self.kind),
            "agent_id": self.agent_id,
            "max_amount": self.max_amount,
            "currency": self.currency,
            "credential_types": list(self.credential_types),
            "merchants": list(self.merchants),
            "test_only": self.test_only,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "weekdays": list(self.weekdays),
            "budget": self.budget,
            "agent_budget": self.agent_budget,
            "period": str(self.period) if self.period else None,
        }


@dataclass(frozen=True)
class Policy:
    """A stored policy."""

    id: str
    user_id: str
    rules: PolicyRules
    paused: bool
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.rules.name

    def applies_to(self, grant_id: str | None) -> bool:
        """Whether the policy covers requests of the agent connection ``grant_id``."""
        return self.rules.agent_id is None or self.rules.agent_id == grant_id


def _amount(value: Any, param: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _invalid(f"{param} must be an amount in minor units (cents)", param)
    text = str(value).strip()
    if not is_ascii_digits(text) or len(text) > 12:
        raise _invalid(f"{param} must be an amount in minor units (cents)", param)
    number = int(text)
    if not 0 < number <= MAX_AMOUNT:
        raise _invalid(f"{param} must be between 1 and {MAX_AMOUNT}", param)
    return number


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    return [str(v).strip() for v in value if str(v).strip()]


def normalize_merchant(entry: str) -> str:
    """One allow- or deny-list entry as it is matched: a merchant account (``acct_…``) and a
    network id as given, a site or domain as its registrable domain."""
    entry = entry.strip()
    if _ACCOUNT.match(entry):
        return entry
    if "://" in entry:
        found = registrable_domain_of_url(entry)
        if found is None:
            raise _invalid(f"merchant {entry[:80]!r} is not a valid http(s) address", "merchants")
        return found
    if "." in entry:
        host = entry.split("/", 1)[0]
        found = registrable_domain_of_url(f"https://{host}")
        if found is None:
            raise _invalid(f"merchant {entry[:80]!r} is not a valid domain", "merchants")
        return found
    if _NETWORK.match(entry):
        return entry
    raise _invalid(
        f"merchant {entry[:80]!r} is neither a domain, a network id nor an acct_ id",
        "merchants",
    )


def validate_rules(raw: Mapping[str, Any]) -> PolicyRules:
    """Check what the person typed (page, command line); raise ``invalid_policy`` naming
    the field."""
    name = " ".join(str(raw.get("name") or "").split())
    if not name or len(name) > MAX_NAME:
        raise _invalid(f"name is required, at most {MAX_NAME} characters", "name")
    try:
        kind = PolicyKind(str(raw.get("kind") or PolicyKind.AUTO_APPROVE))
    except ValueError:
        raise _invalid("kind must be auto_approve or deny", "kind") from None
    agent_id = str(raw.get("agent_id") or "").strip() or None
    currency = str(raw.get("currency") or "").strip().lower() or None
    if currency is not None and not is_currency_code(currency):
        raise _invalid("currency must be an ISO 4217 code such as usd", "currency")
    types = tuple(dict.fromkeys(t.lower() for t in _list(raw.get("credential_types"))))
    for kind_name in types:
        if kind_name not in CREDENTIAL_KINDS:
            raise _invalid(
                f"credential_types must be among {', '.join(CREDENTIAL_KINDS)}", "credential_types"
            )
    merchants = tuple(dict.fromkeys(normalize_merchant(m) for m in _list(raw.get("merchants"))))
    if len(merchants) > MAX_MERCHANTS:
        raise _invalid(f"at most {MAX_MERCHANTS} merchants", "merchants")
    window_start = str(raw.get("window_start") or "").strip() or None
    window_end = str(raw.get("window_end") or "").strip() or None
    for param, value in (("window_start", window_start), ("window_end", window_end)):
        if value is not None and not _TIME.match(value):
            raise _invalid(f"{param} must be a time such as 09:00", param)
    if (window_start is None) != (window_end is None) or (
        window_start is not None and window_start == window_end
    ):
        raise _invalid("give both window_start and window_end, and different", "window_start")
    weekdays = tuple(dict.fromkeys(d.lower()[:3] for d in _list(raw.get("weekdays"))))
    for day in weekdays:
        if day not in _WEEKDAYS:
            raise _invalid("weekdays must be among mon, tue, wed, thu, fri, sat, sun", "weekdays")
    weekdays = tuple(d for d in _WEEKDAYS if d in weekdays)
    period_text = str(raw.get("period") or "").strip().lower() or None
    try:
        period = Period(period_text) if period_text else None
    except ValueError:
        raise _invalid("period must be day, week or month", "period") from None
    rules = PolicyRules(
        name=name,
        kind=kind,
        agent_id=agent_id,
        max_amount=_amount(raw.get("max_amount"), "max_amount"),
        currency=currency,
        credential_types=types,
        merchants=merchants,
        test_only=_flag(raw.get("test_only")),
        window_start=window_start,
        window_end=window_end,
        weekdays=weekdays,
        budget=_amount(raw.get("budget"), "budget"),
        agent_budget=_amount(raw.get("agent_budget"), "agent_budget"),
        period=period,
    )
    return _check_consistent(rules)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def _check_consistent(rules: PolicyRules) -> PolicyRules:
    if rules.kind is PolicyKind.DENY:
        if not rules.merchants:
            raise _invalid("a deny policy needs the merchants it refuses", "merchants")
        # A deny-list refuses by merchant only; other conditions would read as exceptions.
        return PolicyRules(name=rules.name, kind=rules.kind, agent_id=rules.agent_id,
                           merchants=rules.merchants)  # fmt: skip
    budgeted = rules.budget is not None or rules.agent_budget is not None
    if budgeted and rules.period is None:
        raise _invalid("a budget needs a period: day, week or month", "period")
    if rules.period is not None and not budgeted:
        raise _invalid("a period needs a budget or an agent_budget", "budget")
    if budgeted and rules.currency is None:
        raise _invalid("a budget is counted in one currency: set currency", "currency")
    return rules


def time_zone(name: str | None) -> ZoneInfo:
    """The person's time zone (``UTC`` when unset); ``invalid_time_zone`` when unknown."""
    try:
        return ZoneInfo((name or "UTC").strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidRequest(
            "time_zone must be an IANA name such as Europe/Paris or America/New_York",
            code="invalid_time_zone",
            extra={"param": "time_zone"},
        ) from None


def period_start(period: Period, now: datetime, zone: ZoneInfo) -> datetime:
    """When the current ``period`` began, at local midnight, as UTC."""
    local = now.astimezone(zone)
    day = local.date()
    if period is Period.WEEK:
        day -= timedelta(days=day.weekday())
    elif period is Period.MONTH:
        day = day.replace(day=1)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class RequestFacts:
    """What the policies look at in a spend request."""

    amount: int
    currency: str
    credential_kind: str
    """``card``, ``shared_payment_token`` or ``link_pay_token``."""
    test: bool
    grant_id: str | None
    merchant_key: str | None
    """The allow-list key: registrable domain (card), network id (SPT), acct id (LPT)."""
    merchant_keys: frozenset[str] = field(default_factory=frozenset)
    """Everything that names the merchant (deny-lists match any of them)."""
    merchant_label: str = "this merchant"

    @classmethod
    def of(
        cls,
        *,
        amount: int,
        currency: str,
        credential_type: str,
        execution_method: str | None,
        test: bool,
        grant_id: str | None,
        merchant_name: str | None,
        merchant_url: str | None,
        network_id: str | None,
        merchant_account_id: str | None,
    ) -> RequestFacts:
        domain = registrable_domain_of_url(merchant_url)
        if execution_method == "link_pay_token":
            kind, key = "link_pay_token", merchant_account_id
        elif credential_type == "shared_payment_token":
            kind, key = "shared_payment_token", network_id
        else:
            kind, key = "card", domain
        keys = frozenset(k for k in (domain, network_id, merchant_account_id) if k)
        label = merchant_name or domain or network_id or merchant_account_id or "this merchant"
        return cls(
            amount=amount,
            currency=currency.lower(),
            credential_kind=kind,
            test=test,
            grant_id=grant_id,
            merchant_key=key,
            merchant_keys=keys,
            merchant_label=" ".join(label.split())[:100],
        )


@dataclass(frozen=True)
class Usage:
    """One earlier auto-approval, as budgets count it."""

    policy_id: str
    grant_id: str | None
    approved_at: datetime
    counted: int
    """From :func:`counted_amount`."""


def counted_amount(status: str, amount: int, payment_status_details: Any) -> int:
    """What an auto-approved request holds of its budget in ``status`` (after lazy expiry):
    its amount while the credential is open, what the merchant took once settled, nothing
    once canceled, expired, denied or failed (the reservation is given back)."""
    if status in ("approved", "requires_action"):
        return amount
    if status == "succeeded":
        if isinstance(payment_status_details, Mapping):
            settled = payment_status_details.get("amount")
            if isinstance(settled, int) and not isinstance(settled, bool) and settled >= 0:
                return settled
        return amount
    return 0


@dataclass(frozen=True)
class Check:
    """One policy looked at, and the first condition that did not hold (None: all held)."""

    policy_id: str
    policy_name: str
    failed: str | None
    message: str


@dataclass(frozen=True)
class Decision:
    """What happens to a request, and which policy and rule made it so."""

    outcome: Outcome
    rule: str
    """``deny_list``, ``all_conditions`` (approved), ``no_policy``, or the first condition
    that failed: ``max_amount``, ``currency``, ``credential_type``, ``merchant``,
    ``test_only``, ``time_window``, ``budget``, ``agent_budget``. The wallet's own limits
    apply on top, in the service: when they refuse an approval, the person is asked (a dry
    run then says ``wallet_limit``)."""
    message: str
    policy_id: str | None = None
    policy_name: str | None = None
    remaining: int | None = None
    """Budget left after this request (the tighter of policy and agent budget)."""
    period: Period | None = None
    currency: str | None = None
    checks: tuple[Check, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "rule": self.rule,
            "message": self.message,
            "policy_id": self.policy_id,
            "policy_name": self.policy_name,
            "remaining": self.remaining,
            "period": str(self.period) if self.period else None,
            "checks": [
                {"policy_id": c.policy_id, "policy_name": c.policy_name, "failed": c.failed,
                 "message": c.message}
                for c in self.checks
            ],
        }  # fmt: skip


def _in_window(rules: PolicyRules, local: datetime) -> bool:
    if rules.weekdays and _WEEKDAYS[local.weekday()] not in rules.weekdays:
        return False
    if rules.window_start is None or rules.window_end is None:
        return True
    now = local.strftime("%H:%M")
    if rules.window_start < rules.window_end:
        return rules.window_start <= now < rules.window_end
    return now >= rules.window_start or now < rules.window_end


def _spent(usage: Iterable[Usage], policy_id: str, since: datetime, grant: str | None,
           *, per_agent: bool) -> int:  # fmt: skip
    return sum(
        u.counted
        for u in usage
        if u.policy_id == policy_id
        and u.approved_at >= since
        and (not per_agent or u.grant_id == grant)
    )


def _check(
    policy: Policy, facts: RequestFacts, usage: Sequence[Usage], now: datetime, zone: ZoneInfo
) -> tuple[str | None, str, int | None]:
    """(first failed condition or None, why, budget left after this request)."""
    r = policy.rules
    money = format_amount
    if r.max_amount is not None and facts.amount > r.max_amount:
        return "max_amount", f"the amount is over {money(r.max_amount, facts.currency)}", None
    if r.currency is not None and facts.currency != r.currency:
        return "currency", f"only {r.currency.upper()} requests are covered", None
    if r.credential_types and facts.credential_kind not in r.credential_types:
        return "credential_type", f"{facts.credential_kind} requests are not covered", None
    if r.merchants and facts.merchant_key not in r.merchants:
        return "merchant", f"{facts.merchant_label} is not on the allow-list", None
    if r.test_only and not facts.test:
        return "test_only", "only test-mode requests are covered", None
    if not _in_window(r, now.astimezone(zone)):
        return "time_window", "outside the policy's time window", None
    remaining: int | None = None
    if r.period is not None:
        since = period_start(r.period, now, zone)
        for limit, rule, per_agent in ((r.budget, "budget", False),
                                       (r.agent_budget, "agent_budget", True)):  # fmt: skip
            if limit is None:
                continue
            left = limit - _spent(usage, policy.id, since, facts.grant_id, per_agent=per_agent)
            if facts.amount > left:
                who = "this agent's" if per_agent else "the"
                return (
                    rule,
                    f"{who} {r.period} budget has {money(max(left, 0), facts.currency)} left",
                    None,
                )
            after = left - facts.amount
            remaining = after if remaining is None else min(remaining, after)
    return None, "every condition holds", remaining


def decide(
    policies: Sequence[Policy],
    facts: RequestFacts,
    usage: Sequence[Usage],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> Decision:
    """What the person's policies say about a request (oldest policy first).

    A matching deny-list wins over everything; then the first auto-approve policy whose
    conditions all hold approves; otherwise the person is asked, and the decision names the
    condition that stopped the closest policy.
    """
    active = [p for p in policies if not p.paused and p.applies_to(facts.grant_id)]
    for policy in active:
        if policy.rules.kind is PolicyKind.DENY and facts.merchant_keys & set(
            policy.rules.merchants
        ):
            return Decision(
                Outcome.DENY,
                "deny_list",
                f"Policy '{policy.name}' refuses payments to {facts.merchant_label}.",
                policy_id=policy.id,
                policy_name=policy.name,
            )
    checks: list[Check] = []
    for policy in active:
        if policy.rules.kind is not PolicyKind.AUTO_APPROVE:
            continue
        failed, why, remaining = _check(policy, facts, usage, now, zone)
        checks.append(Check(policy.id, policy.name, failed, why))
        if failed is None:
            return Decision(
                Outcome.APPROVE,
                "all_conditions",
                f"Approved by policy '{policy.name}': {why}.",
                policy_id=policy.id,
                policy_name=policy.name,
                remaining=remaining,
                period=policy.rules.period,
                currency=facts.currency,
                checks=tuple(checks),
            )
    if not checks:
        return Decision(Outcome.ASK, "no_policy", "No policy covers this request: ask the person.")
    first = checks[0]
    return Decision(
        Outcome.ASK,
        first.failed or "no_policy",
        f"Policy '{first.policy_name}' does not cover it ({first.message}): ask the person.",
        policy_id=first.policy_id,
        policy_name=first.policy_name,
        checks=tuple(checks),
    )


def denied_error(decision: Decision) -> Forbidden:
    """403 ``spend_request_denied_by_policy``: what the agent is told."""
    # The code is in the message too: clients (ours, the official one) print the message.
    return Forbidden(
        f"Refused by a spending policy (spend_request_denied_by_policy): {decision.message} "
        "Do not retry; ask the person if this purchase is needed.",
        code="spend_request_denied_by_policy",
        extra={"policy_id": decision.policy_id},
    )


def policy_approval_details(decision: Decision, *, user_id: str, now: datetime) -> dict[str, Any]:
    """``approval_details`` of a request a policy approved (contract §7.3 shape, plus the
    policy's id and name; docs/policies.md)."""
    return {
        "approved_at": int(now.timestamp()),
        "approval_method": "programmatic",
        "app_name": APP_NAME,
        "external_user_id": user_id,
        "approved_by": "policy",
        "policy_id": decision.policy_id,
        "policy_name": decision.policy_name,
    }


def summary_text(decision: Decision, facts: RequestFacts) -> str:
    """One line for the person: ``auto-approved $12.00 at … under 'X', $38.00 left this week``."""
    text = (
        f"auto-approved {format_amount(facts.amount, facts.currency)} at {facts.merchant_label} "
        f"under '{decision.policy_name}'"
    )
    if decision.remaining is not None and decision.period is not None:
        text += f", {format_amount(decision.remaining, facts.currency)} left this {decision.period}"
    return text


def describe_domain(host: str) -> str:
    """The registrable domain of a host (for the pages' hints)."""
    return registrable_domain(host)
