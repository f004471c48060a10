"""Spending policies end to end: one wallet process for the module (its clock moves), people
and policies set up in-process, agents over the real Link API and the real ``link-cli``.

The many condition combinations are domain tests (tests/wallet/domain/test_policy_rules.py);
here each condition is shown once through the wire, with budgets that are reserved, given
back (cancel, expiry, the person's revoke), settled for what the merchant took, and that
start again at midnight in the person's time zone.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
from tests.redemption.delegated import confirm, register_merchant, spt_form
from tests.support.agent import Agent
from tests.support.approvals import CONTEXT, card_body, spt_body
from tests.support.person import Person, bearer, refresh_tokens
from tests.support.wallet import WalletProcess

from link_cli.wallet.domain.oauth import DEFAULT_SCOPES

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """This module's own wallet: the budget tests move its clock by days."""
    with WalletProcess.start(tmp_path_factory.mktemp("policies")) as process:
        yield process


class PolicyAgent:
    """A person with a card and one agent connection (tokens written in-process)."""

    def __init__(self, wallet: WalletProcess, person: Person | None = None) -> None:
        self.wallet = wallet
        self.person = person or wallet.create_person()
        self.tokens = wallet.store().grant_agent(self.person.email, list(DEFAULT_SCOPES))
        self.grant_id = wallet.store().agent_ids(self.person.email)[0]
        self.client = httpx2.Client(base_url=wallet.url, headers=bearer(self.tokens), timeout=30)

    def policy(self, **raw: Any) -> dict[str, Any]:
        raw.setdefault("name", "Coffee budget")
        return self.wallet.store().create_policy(self.person.email, **raw)

    def create(self, body: dict[str, Any]) -> httpx2.Response:
        return self.client.post("/spend_requests", json=body)

    def status(self, body: dict[str, Any]) -> str:
        response = self.create(body)
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    def refresh(self) -> None:
        """New tokens after the clock moved past the access token's hour."""
        self.tokens = refresh_tokens(self.wallet, self.tokens)
        self.client.headers.update(bearer(self.tokens))

    def close(self) -> None:
        self.client.close()
        self.person.close()


def test_each_condition_through_the_wire(wallet: WalletProcess) -> None:
    agent = PolicyAgent(wallet)
    seller = register_merchant(wallet, livemode=False)
    lpt_merchant = register_merchant(wallet, url="https://lamps.example")
    policy = agent.policy(
        max_amount=3000,
        currency="usd",
        credential_types=["card", "shared_payment_token"],
        merchants=["coffee.example", seller.network_id],
        test_only=True,
        budget=5000,
        agent_budget=4000,
        period="week",
    )
    agent.policy(name="Lamps", credential_types=["link_pay_token"], merchants=[lpt_merchant.id])
    coffee = {"merchant_url": "https://www.coffee.example/cart", "test": True}
    try:
        first = agent.create(card_body(amount=1000, **coffee)).json()
        assert first["status"] == "approved"
        assert first["approval_details"]["policy_id"] == policy["id"]
        assert first["approval_details"]["approval_method"] == "programmatic"
        spt = spt_body(network_id=seller.network_id, amount=500, test=True)
        assert agent.status(spt) == "approved"
        asked = {
            "max_amount": card_body(amount=3001, **coffee),
            "currency": card_body(currency="eur", **coffee),
            "merchant": card_body(merchant_url="https://tea.example/", test=True),
            "test_only": card_body(merchant_url="https://coffee.example/"),
        }
        for condition, body in asked.items():
            assert agent.status(body) == "pending_approval", condition
        lpt = {"credential_type": "card", "execution_method": "link_pay_token",
               "merchant_account_id": lpt_merchant.id, "amount": 900, "currency": "usd",
               "context": CONTEXT, "request_approval": True}  # fmt: skip
        assert agent.status(lpt) == "approved"  # the second policy: its merchant account

        # The time window: no day of the week the wallet is in now.
        now = datetime.fromtimestamp(wallet.advance_clock(0), UTC)
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        others = [d for i, d in enumerate(days) if i != now.weekday()]
        wallet.store().update_policy(agent.person.email, policy["id"], weekdays=others)
        assert agent.status(card_body(amount=100, **coffee)) == "pending_approval"
        wallet.store().update_policy(agent.person.email, policy["id"], weekdays=days)
        # The credential type: shared payment tokens only, so a card request asks.
        spt_only = ["shared_payment_token"]
        wallet.store().update_policy(agent.person.email, policy["id"], credential_types=spt_only)
        assert agent.status(card_body(amount=100, **coffee)) == "pending_approval"
        both = ["card", "shared_payment_token"]
        wallet.store().update_policy(agent.person.email, policy["id"], credential_types=both)

        # Agent budget 4000: 1000 + 500 held; 2600 more is over, until the agent cancels.
        big = card_body(amount=2600, **coffee)
        assert agent.status(big) == "pending_approval"
        assert agent.client.post(f"/spend_requests/{first['id']}/cancel").status_code == 200
        assert agent.status(card_body(amount=2600, **coffee)) == "approved"
    finally:
        agent.close()


def test_the_wallets_own_limits_still_apply_on_top(wallet: WalletProcess) -> None:
    agent = PolicyAgent(wallet)
    agent.policy(name="Anything small", max_amount=100)
    try:
        statuses = [agent.status(card_body(amount=100)) for _ in range(11)]
        # At most 10 approved at once (contract §11.1): the 11th asks the person.
        assert statuses == ["approved"] * 10 + ["pending_approval"]
    finally:
        agent.close()


def test_the_official_path_gets_a_card_with_no_person_and_the_history_says_so(
    wallet: WalletProcess, tmp_path: Path
) -> None:
    agent = PolicyAgent(wallet)
    policy = agent.policy(name="Lamp money", max_amount=2500, merchants=["lamps.example"])
    cli = Agent(wallet.url, tmp_path / "auth.json")
    token = {"LINK_ACCESS_TOKEN": agent.tokens["access_token"]}
    try:
        code, chunks = cli.json(
            "spend-request", "create", "--amount", "1999", "-m", "Lamp Store",
            "--merchant-url", "https://www.lamps.example/cart", "--context", CONTEXT, **token,
        )  # fmt: skip
        assert code == 0, chunks
        created = chunks[0] if isinstance(chunks, list) else chunks
        assert created["status"] == "approved"
        code, retrieved = cli.json(
            "spend-request", "retrieve", created["id"], "--include", "card", **token
        )
        assert code == 0, retrieved
        retrieved = retrieved[-1] if isinstance(retrieved, list) else retrieved
        assert retrieved["card"]["number"].isdigit()
        assert retrieved["approval_details"]["policy_name"] == "Lamp money"

        agent.person.sign_in()
        page = agent.person.client.get("/wallet/history")
        assert "auto-approved by Lamp money" in page.text
        recent = agent.person.client.get("/wallet/policies").text
        assert "auto-approved $19.99 at Lamp Store under &#39;Lamp money&#39;" in recent
        assert policy["id"] in recent
    finally:
        agent.close()


def test_a_denied_merchant_is_refused_at_creation_and_the_cli_says_why(
    wallet: WalletProcess, tmp_path: Path
) -> None:
    agent = PolicyAgent(wallet)
    agent.policy(name="No casinos", kind="deny", merchants=["casino.example"])
    cli = Agent(wallet.url, tmp_path / "auth.json")
    try:
        result = cli.run(
            "spend-request", "create", "--amount", "500", "-m", "Casino",
            "--merchant-url", "https://play.casino.example/", "--context", CONTEXT,
            "--format", "json", LINK_ACCESS_TOKEN=agent.tokens["access_token"],
        )  # fmt: skip
        assert result.returncode == 1
        error = json.loads(result.stdout)
        assert set(error) >= {"code", "message"}
        assert "(403)" in error["message"]
        assert "spend_request_denied_by_policy" in error["message"]
        assert "No casinos" in error["message"]
        response = agent.create(card_body(merchant_url="https://casino.example/x"))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "spend_request_denied_by_policy"
        listed = agent.client.get("/spend_requests", params={"include_history": "true"}).json()
        assert listed["data"] == []  # nothing was stored
    finally:
        agent.close()


def test_request_approval_is_answered_by_the_policy_and_the_person_can_revoke(
    wallet: WalletProcess,
) -> None:
    agent = PolicyAgent(wallet)
    agent.policy(currency="usd", budget=1000, period="month", merchants=["shop.example"])
    try:
        created = agent.create(card_body(amount=1000, request_approval=False)).json()
        assert created["status"] == "created"
        answer = agent.client.post(f"/spend_requests/{created['id']}/request_approval")
        assert answer.status_code == 200 and answer.json()["status"] == "approved"
        assert answer.json()["approval_link"].endswith(f"/approve/{created['id']}")
        assert agent.status(card_body(amount=1000)) == "pending_approval"  # budget spent

        agent.person.sign_in()
        revoked = agent.person.submit_form(
            "/wallet/policies", {}, action=f"/wallet/policies/approvals/{created['id']}/revoke"
        )
        assert revoked.status_code == 200 and "Credential revoked" in revoked.text
        retrieved = agent.client.get(f"/spend_requests/{created['id']}").json()
        assert retrieved["status"] == "canceled"
        assert agent.status(card_body(amount=1000)) == "approved"  # given back
    finally:
        agent.close()


def test_an_auto_approval_is_notified_when_the_person_opts_in(wallet: WalletProcess) -> None:
    agent = PolicyAgent(wallet)
    email = agent.person.email
    wallet.store().policy_settings(email, time_zone="UTC", notify=True)
    agent.person.sign_in()
    added = agent.person.submit_form(
        "/wallet/notifications", {"email": email}, action="/wallet/notifications/email"
    )
    assert added.status_code == 200
    agent.policy(name="Snacks", currency="usd", budget=5000, period="week")
    try:
        body = card_body(amount=1200, merchant_name=f"Deli {secrets.token_hex(3)}")
        assert agent.status(body) == "approved"
        (summary,) = wallet.store().outbox_summaries(email)
        assert summary.startswith(f"auto-approved $12.00 at {body['merchant_name']} under 'Snacks'")
        assert summary.endswith("$38.00 left this week")
    finally:
        agent.close()


def _next_local_midnight(now: datetime, zone: ZoneInfo, *, monday: bool = False) -> datetime:
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=1)
    while monday and day.weekday() != 0:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)


def _advance_to(wallet: WalletProcess, moment: datetime) -> datetime:
    now = datetime.fromtimestamp(wallet.advance_clock(0), UTC)
    seconds = int((moment - now).total_seconds()) + 60
    return datetime.fromtimestamp(wallet.advance_clock(seconds), UTC)


def _spt(agent: PolicyAgent, request_id: str) -> str:
    found = agent.client.get(
        f"/spend_requests/{request_id}", params={"include": "shared_payment_token"}
    ).json()
    return str(found["shared_payment_token"]["id"])


def test_budgets_start_again_at_local_midnight_and_count_what_was_settled(
    wallet: WalletProcess,
) -> None:
    zone = ZoneInfo("America/New_York")
    daily = PolicyAgent(wallet)
    weekly = PolicyAgent(wallet, daily.person)  # a second agent of the same person
    seller = register_merchant(wallet)
    email = daily.person.email
    wallet.store().policy_settings(email, time_zone="America/New_York", notify=False)
    spt = {"network_id": seller.network_id}
    daily.policy(name="Daily", agent_id=daily.grant_id, currency="usd", budget=1000,
                 period="day", merchants=[seller.network_id])  # fmt: skip
    weekly.policy(name="Weekly", agent_id=weekly.grant_id, currency="usd", budget=1000,
                  period="week", merchants=[seller.network_id])  # fmt: skip
    try:
        start = _advance_to(wallet, _next_local_midnight(
            datetime.fromtimestamp(wallet.advance_clock(0), UTC), zone, monday=True))  # fmt: skip
        for agent in (daily, weekly):
            agent.refresh()
        # Monday: 700 approved, the merchant takes 600; 400 more fits, 100 more does not.
        first = daily.create(spt_body(amount=700, **spt)).json()
        assert first["status"] == "approved"
        paid = confirm(wallet, seller, spt_form(_spt(daily, first["id"]), amount=600))
        assert paid.status_code == 200, paid.text
        assert daily.status(spt_body(amount=400, **spt)) == "approved"
        assert daily.status(spt_body(amount=100, **spt)) == "pending_approval"
        week_spend = weekly.create(spt_body(amount=1000, **spt)).json()
        assert week_spend["status"] == "approved"
        confirm(wallet, seller, spt_form(_spt(weekly, week_spend["id"]), amount=1000))

        # The unredeemed 400 expires 12 hours later, the same local day: given back.
        wallet.advance_clock(12 * 3600 + 60)
        for agent in (daily, weekly):
            agent.refresh()
        assert daily.status(spt_body(amount=400, **spt)) == "approved"
        assert daily.status(spt_body(amount=1, **spt)) == "pending_approval"

        # Tuesday, local midnight: the day starts again, the week does not.
        _advance_to(wallet, _next_local_midnight(start, zone))
        for agent in (daily, weekly):
            agent.refresh()
        assert daily.status(spt_body(amount=1000, **spt)) == "approved"
        assert weekly.status(spt_body(amount=100, **spt)) == "pending_approval"

        # Next Monday, local midnight: a new week.
        _advance_to(wallet, _next_local_midnight(start, zone, monday=True))
        for agent in (daily, weekly):
            agent.refresh()
        assert weekly.status(spt_body(amount=1000, **spt)) == "approved"
    finally:
        daily.close()
        weekly.client.close()
