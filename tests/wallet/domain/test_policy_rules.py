"""Spending policies as pure rules: every condition, deny-lists, budgets per policy and per
agent across day/week/month boundaries in the person's time zone, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.policies import (
    Outcome,
    Period,
    Policy,
    RequestFacts,
    Usage,
    counted_amount,
    decide,
    denied_error,
    period_start,
    summary_text,
    time_zone,
    validate_rules,
)

# A Wednesday, 10:30 in Paris (09:30 UTC).
NOW = datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
PARIS = time_zone("Europe/Paris")


def policy(pid: str = "pol_1", *, paused: bool = False, **raw: Any) -> Policy:
    raw.setdefault("name", "Coffee budget")
    return Policy(pid, "usr_1", validate_rules(raw), paused, NOW, NOW)


def facts(**changes: Any) -> RequestFacts:
    values: dict[str, Any] = {
        "amount": 1200,
        "currency": "usd",
        "credential_type": "card",
        "execution_method": None,
        "test": False,
        "grant_id": "grt_a",
        "merchant_name": "Coffee Shop",
        "merchant_url": "https://shop.coffee.example/checkout",
        "network_id": None,
        "merchant_account_id": None,
    }
    values.update(changes)
    return RequestFacts.of(**values)


def outcome(policies: list[Policy], request: RequestFacts, usage: list[Usage] | None = None,
            now: datetime = NOW) -> tuple[Outcome, str]:  # fmt: skip
    decision = decide(policies, request, usage or [], now=now, zone=PARIS)
    return decision.outcome, decision.rule


@pytest.mark.parametrize(
    ("raw", "changes", "rule"),
    [
        ({"max_amount": "2000"}, {"amount": 2001}, "max_amount"),
        ({"currency": "usd"}, {"currency": "eur"}, "currency"),
        ({"credential_types": ["shared_payment_token"]}, {}, "credential_type"),
        (
            {"credential_types": ["card"]},
            {"execution_method": "link_pay_token", "merchant_account_id": "acct_1"},
            "credential_type",
        ),
        (
            {"merchants": ["coffee.example"]},
            {"merchant_url": "https://coffee.example.evil.test/"},
            "merchant",
        ),
        (
            {"merchants": ["profile_ok"]},
            {"credential_type": "shared_payment_token", "network_id": "profile_other"},
            "merchant",
        ),
        (
            {"merchants": ["acct_ok"]},
            {"execution_method": "link_pay_token", "merchant_account_id": "acct_other"},
            "merchant",
        ),
        ({"test_only": True}, {"test": False}, "test_only"),
        ({"window_start": "11:00", "window_end": "18:00"}, {}, "time_window"),
        ({"weekdays": "sat,sun"}, {}, "time_window"),
        ({"agent_id": "grt_b"}, {}, "no_policy"),
    ],
)
def test_each_condition_that_does_not_hold_asks_the_person_and_is_named(
    raw: dict[str, Any], changes: dict[str, Any], rule: str
) -> None:
    assert outcome([policy(**raw)], facts(**changes)) == (Outcome.ASK, rule)


@pytest.mark.parametrize(
    ("raw", "changes"),
    [
        ({"max_amount": "1200", "currency": "usd"}, {}),
        ({"merchants": "https://www.coffee.example/x"}, {}),  # same registrable domain
        (
            {"merchants": "profile_ok", "credential_types": "shared_payment_token"},
            {
                "credential_type": "shared_payment_token",
                "network_id": "profile_ok",
                "merchant_url": None,
            },
        ),
        (
            {"merchants": "acct_ok", "credential_types": "link_pay_token"},
            {"execution_method": "link_pay_token", "merchant_account_id": "acct_ok"},
        ),
        ({"test_only": True}, {"test": True}),
        ({"window_start": "22:00", "window_end": "11:00"}, {}),  # wraps past midnight
        ({"weekdays": ["wed"], "agent_id": "grt_a"}, {}),
    ],
)
def test_every_condition_holding_approves_and_names_the_policy(
    raw: dict[str, Any], changes: dict[str, Any]
) -> None:
    decision = decide([policy(**raw)], facts(**changes), [], now=NOW, zone=PARIS)
    assert (decision.outcome, decision.rule, decision.policy_id) == (
        Outcome.APPROVE, "all_conditions", "pol_1",
    )  # fmt: skip


def test_a_deny_list_wins_over_an_approving_policy_and_tells_the_agent_why() -> None:
    approving = policy("pol_1", merchants="coffee.example")
    deny = policy("pol_2", name="No casinos", kind="deny", merchants="casino.example, acct_bad")
    assert outcome([approving, deny], facts()) == (Outcome.APPROVE, "all_conditions")
    decision = decide([approving, deny], facts(merchant_url="https://play.casino.example/"),
                      [], now=NOW, zone=PARIS)  # fmt: skip
    assert (decision.outcome, decision.rule, decision.policy_id) == (
        Outcome.DENY, "deny_list", "pol_2",
    )  # fmt: skip
    error = denied_error(decision)
    assert (error.status, error.code) == (403, "spend_request_denied_by_policy")
    assert "No casinos" in error.message and "spend_request_denied_by_policy" in error.message
    lpt = facts(execution_method="link_pay_token", merchant_account_id="acct_bad")
    assert outcome([deny], lpt) == (Outcome.DENY, "deny_list")
    assert outcome([policy("pol_2", kind="deny", merchants="casino.example", paused=True)],
                   facts(merchant_url="https://casino.example/")) == (Outcome.ASK, "no_policy")  # fmt: skip


def test_budgets_count_reservations_and_settlements_per_policy_and_per_agent() -> None:
    weekly = policy(currency="usd", budget="5000", agent_budget="3000", period="week")
    spent = [
        Usage("pol_1", "grt_a", NOW - timedelta(days=1), 2000),
        Usage("pol_1", "grt_b", NOW - timedelta(days=1), 1500),
        Usage("pol_1", "grt_a", NOW - timedelta(days=3), 9999),  # last week (Sunday)
        Usage("pol_other", "grt_a", NOW, 9999),
    ]
    decision = decide([weekly], facts(amount=1000), spent, now=NOW, zone=PARIS)
    assert decision.outcome is Outcome.APPROVE
    assert decision.remaining == 0  # agent: 3000 - 2000 - 1000
    assert summary_text(decision, facts(amount=1000)) == (
        "auto-approved $10.00 at Coffee Shop under 'Coffee budget', $0.00 left this week"
    )
    assert outcome([weekly], facts(amount=1001), spent) == (Outcome.ASK, "agent_budget")
    assert outcome([weekly], facts(amount=1600, grant_id="grt_c"), spent) == (
        Outcome.ASK, "budget",
    )  # fmt: skip


def test_what_a_request_holds_of_a_budget_follows_its_status() -> None:
    assert counted_amount("approved", 1200, None) == 1200
    assert counted_amount("requires_action", 1200, None) == 1200
    assert counted_amount("succeeded", 1200, {"amount": 900}) == 900  # what was settled
    assert counted_amount("succeeded", 1200, None) == 1200
    for given_back in ("canceled", "expired", "failed", "denied"):
        assert counted_amount(given_back, 1200, None) == 0


def test_periods_start_at_midnight_in_the_persons_time_zone() -> None:
    # 23:30 UTC on Sunday 13 Dec is already Monday 00:30 in Paris: a new day and week there.
    late = datetime(2026, 12, 13, 23, 30, tzinfo=UTC)
    assert period_start(Period.DAY, late, PARIS) == datetime(2026, 12, 13, 23, 0, tzinfo=UTC)
    assert period_start(Period.WEEK, late, PARIS) == datetime(2026, 12, 13, 23, 0, tzinfo=UTC)
    assert period_start(Period.WEEK, late, time_zone("UTC")) == datetime(2026, 12, 7, tzinfo=UTC)
    assert period_start(Period.MONTH, late, PARIS) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    daily = policy(currency="usd", budget="1500", period="day")
    yesterday = [Usage("pol_1", "grt_a", datetime(2026, 12, 13, 22, 0, tzinfo=UTC), 1500)]
    assert outcome([daily], facts(), yesterday, now=late) == (Outcome.APPROVE, "all_conditions")
    assert outcome([daily], facts(), yesterday, now=late - timedelta(hours=1)) == (
        Outcome.ASK, "budget",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"name": ""}, "name"),
        ({"kind": "maybe"}, "kind"),
        ({"max_amount": "-5"}, "max_amount"),
        ({"max_amount": "²"}, "max_amount"),
        ({"currency": "xyz"}, "currency"),
        ({"credential_types": "cash"}, "credential_types"),
        ({"merchants": "not a merchant!"}, "merchants"),
        ({"window_start": "25:00", "window_end": "01:00"}, "window_start"),
        ({"window_start": "09:00"}, "window_start"),
        ({"weekdays": "someday"}, "weekdays"),
        ({"budget": "100", "period": "week"}, "currency"),
        ({"budget": "100", "currency": "usd"}, "period"),
        ({"period": "week"}, "budget"),
        ({"kind": "deny"}, "merchants"),
    ],
)
def test_invalid_policies_are_refused_naming_the_field(raw: dict[str, Any], param: str) -> None:
    raw = {"name": "x", **raw}
    with pytest.raises(InvalidRequest) as caught:
        validate_rules(raw)
    assert (caught.value.code, caught.value.extra["param"]) == ("invalid_policy", param)


def test_merchants_are_matched_by_registrable_domain_and_time_zones_are_checked() -> None:
    rules = validate_rules(
        {"name": "x", "merchants": "https://a.b.shop.co.uk/p\nacct_12\nprofile_9"}
    )
    assert rules.merchants == ("shop.co.uk", "acct_12", "profile_9")
    with pytest.raises(InvalidRequest) as caught:
        time_zone("Mars/Olympus")
    assert caught.value.code == "invalid_time_zone"


def test_an_auto_approval_notice_says_the_summary_on_every_channel() -> None:
    from link_cli.wallet.domain.notifications import Notice

    summary = "auto-approved $12.00 at Bean Bar under 'Coffee budget', $38.00 left this week"
    notice = Notice(
        spend_request_id="lsrq_1", amount=1200, currency="usd", merchant_name="Bean Bar",
        merchant_url=None, agent_name="Claude", context="x" * 100, credential_type="card",
        approval_url="https://wallet.example/wallet/policies", created_at=NOW, summary=summary,
    )  # fmt: skip
    assert notice.title == "A" + summary[1:]
    assert summary[1:] in notice.email_text() and "wallet/policies" in notice.email_text()
    assert notice.push_payload()["title"] == notice.title
    assert notice.webhook_payload("spend_request.auto_approved", "nob_1")["data"]["summary"] == (
        summary
    )
