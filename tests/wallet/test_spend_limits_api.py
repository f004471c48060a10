"""Each published limit (contract §11.1), configured small through ``LINK_WALLET_LIMIT_*``
on dedicated wallets, plus the duplicate-request 429 the official client understands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx2
import pytest
from tests.support.approvals import (
    ApiAgent,
    approval_path,
    approve_spend_request,
    card_body,
    new_agent,
)
from tests.support.wallet import WalletProcess

LIMITS = {
    "LINK_WALLET_LIMIT_APPROVAL_WINDOW_SECONDS": "300",
    "LINK_WALLET_LIMIT_CREDENTIAL_VALIDITY_SECONDS": "3600",
    "LINK_WALLET_LIMIT_MAX_AMOUNT": "3000",
    "LINK_WALLET_LIMIT_DAILY_SPEND": "5000",
    "LINK_WALLET_LIMIT_MONTHLY_SPEND": "8000",
    "LINK_WALLET_LIMIT_MAX_ACTIVE": "3",
    "LINK_WALLET_LIMIT_MAX_APPROVED": "2",
    "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "5",
    "LINK_WALLET_LIMIT_CREATIONS_60D": "8",
}


@pytest.fixture(scope="module")
def limited_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    with WalletProcess.start(tmp_path_factory.mktemp("limited"), env=LIMITS) as process:
        yield process


@pytest.fixture
def agent(limited_wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(limited_wallet)
    yield created
    created.close()


def seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def refused(response: httpx2.Response, code: str, limit: str) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit"]) == (code, limit), error
    return error


def approve_page_post(agent: ApiAgent, approval_url: str) -> httpx2.Response:
    """Press Approve on the page without insisting on success."""
    path = approval_path(approval_url)
    return agent.person.submit_form(path, {"action": "approve"}, action=path)


def test_approval_window_and_validity_are_configurable(agent: ApiAgent) -> None:
    created = agent.create_ok(card_body(amount=1000))
    assert created["expires_at"] - seconds(created["created_at"]) == 300
    approve_spend_request(agent.person, created["approval_url"])
    card = agent.retrieve(created["id"], include="card").json()["card"]
    assert seconds(card["valid_until"]) - seconds(created["created_at"]) == 3600


def test_amount_cap(agent: ApiAgent) -> None:
    response = agent.create(card_body(amount=3001))
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "amount must be at most 3000 (got 3001)."
    agent.create_ok(card_body(amount=3000))


def test_daily_spend_counts_approved_requests_but_never_test_ones(agent: ApiAgent) -> None:
    first = agent.create_ok(card_body(amount=3000))
    approve_spend_request(agent.person, first["approval_url"])

    error = refused(agent.create(card_body(amount=2001)), "spend_limit_exceeded", "daily_spend")
    assert "3000 already approved + 2001 requested > 5000" in error["message"]
    assert 0 < error["retry_after"] <= 86400

    test_mode = agent.create_ok(card_body(amount=3000, test=True))
    approve_spend_request(agent.person, test_mode["approval_url"])
    assert agent.status_of(test_mode["id"]) == "approved"
    agent.create_ok(card_body(amount=2000))


def test_spend_is_checked_again_when_approving(agent: ApiAgent) -> None:
    first = agent.create_ok(card_body(amount=3000))
    second = agent.create_ok(card_body(amount=2500))
    approve_spend_request(agent.person, first["approval_url"])

    page = approve_page_post(agent, second["approval_url"])
    assert page.status_code == 429
    assert "daily spend limit" in page.text
    assert agent.status_of(second["id"]) == "pending_approval"
    assert "card_last4" not in agent.retrieve(second["id"]).json()


def test_concurrent_active_requests(agent: ApiAgent) -> None:
    made = [agent.create_ok(card_body(amount=100)) for _ in range(3)]
    error = refused(
        agent.create(card_body(amount=100)), "too_many_active_spend_requests", "max_active"
    )
    assert 0 < error["retry_after"] <= 300
    assert len(agent.list()) == 3
    assert agent.cancel(made[0]["id"]).status_code == 200
    agent.create_ok(card_body(amount=100))


def test_concurrent_approved_requests(agent: ApiAgent) -> None:
    made = [agent.create_ok(card_body(amount=100)) for _ in range(3)]
    for request in made[:2]:
        approve_spend_request(agent.person, request["approval_url"])
    page = approve_page_post(agent, made[2]["approval_url"])
    assert page.status_code == 429
    assert "Too many approved spend requests" in page.text
    assert agent.status_of(made[2]["id"]) == "pending_approval"

    agent.cancel(made[0]["id"])
    approve_spend_request(agent.person, made[2]["approval_url"])
    assert agent.status_of(made[2]["id"]) == "approved"


def test_hourly_creations_count_even_canceled_requests(agent: ApiAgent) -> None:
    for _ in range(5):
        created = agent.create_ok(card_body(amount=100))
        agent.cancel(created["id"])
    error = refused(
        agent.create(card_body(amount=100)), "spend_request_rate_limited", "hourly_creations"
    )
    assert 0 < error["retry_after"] <= 3600
    assert len(agent.list(include_history=True)) == 5


def test_limits_are_per_person(agent: ApiAgent, limited_wallet: WalletProcess) -> None:
    for _ in range(3):
        agent.create_ok(card_body(amount=100))
    refused(agent.create(card_body(amount=100)), "too_many_active_spend_requests", "max_active")
    other = new_agent(limited_wallet)
    try:
        other.create_ok(card_body(amount=100))
    finally:
        other.close()


@pytest.mark.parametrize("credential", ["card", "shared_payment_token"])
def test_duplicate_is_refused_with_the_existing_request(agent: ApiAgent, credential: str) -> None:
    body = card_body(amount=1200) if credential == "card" else agent.seller_spt_body(amount=1200)
    existing = agent.create_ok(body)
    response = agent.create(body)
    error = refused(response, "spend_request_rate_limited", "duplicate")
    assert error["duplicate_spend_request"] == agent.retrieve(existing["id"]).json()
    assert error["message"] == "This spend request repeats one that is still active."
    assert 0 < error["retry_after"] <= 300
    assert response.headers["Retry-After"] == str(error["retry_after"])
    assert [r["id"] for r in agent.list()] == [existing["id"]]

    # Anything that differs is a new request; once the first is gone, the same one is too.
    changed = {**body, "amount": 1201}
    if "totals" in changed:  # the total shown follows the amount
        changed["totals"] = [{"type": "total", "display_text": "Total", "amount": 1201}]
    agent.create_ok(changed)
    agent.cancel(existing["id"])
    agent.create_ok(body)


# -- limits over time (private wallets: these move the clock) -------------------------------


def log_in_again(agent: ApiAgent, wallet: WalletProcess) -> None:
    """Access tokens live an hour: refresh, which keeps the grant and so the agent's requests
    (a new device login is another connection and sees none of them)."""
    assert agent.person.wallet is wallet
    agent.refresh()


def test_thirty_day_spend_cap_and_unused_credentials_stop_counting(make_wallet) -> None:  # type: ignore[no-untyped-def]
    # A daily cap above the 30-day one isolates the 30-day rule.
    env = {
        **LIMITS,
        "LINK_WALLET_LIMIT_DAILY_SPEND": "10000",
        "LINK_WALLET_LIMIT_MAX_APPROVED": "5",
        "LINK_WALLET_LIMIT_MAX_ACTIVE": "10",
    }
    wallet: WalletProcess = make_wallet(env=env)
    agent = new_agent(wallet)
    try:
        for amount in (3000, 3000, 2000):
            created = agent.create_ok(card_body(amount=amount))
            approve_spend_request(agent.person, created["approval_url"])
        error = refused(agent.create(card_body(amount=1)), "spend_limit_exceeded", "monthly_spend")
        assert "8000 already approved + 1 requested > 8000" in error["message"]
        agent.create_ok(card_body(amount=1, test=True))

        # Credentials that expire unused (validity 1 h here) never spent anything.
        wallet.advance_clock(3600 + 60)
        log_in_again(agent, wallet)
        assert [r["status"] for r in agent.list(include_history=True)].count("expired") == 4
        agent.create_ok(card_body(amount=3000))
    finally:
        agent.close()


def test_creation_windows_roll(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet: WalletProcess = make_wallet(env=LIMITS)
    agent = new_agent(wallet)
    try:

        def create_and_cancel(count: int) -> None:
            for _ in range(count):
                created = agent.create_ok(card_body(amount=100))
                agent.cancel(created["id"])

        create_and_cancel(5)
        refused(
            agent.create(card_body(amount=100)), "spend_request_rate_limited", "hourly_creations"
        )
        wallet.advance_clock(3600 + 60)
        log_in_again(agent, wallet)
        create_and_cancel(3)
        refused(agent.create(card_body(amount=100)), "spend_request_rate_limited", "creations_60d")
        wallet.advance_clock(60 * 86400)
        log_in_again(agent, wallet)
        agent.create_ok(card_body(amount=100))
    finally:
        agent.close()
