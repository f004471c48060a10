"""Lazy expiry through the moveable clock: approval window, creation window, valid_until.

These tests move the wallet's clock, so they run on private wallets (one per database
kind for this module), never on the session-wide ones other tests share.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.wallet import WalletProcess

WINDOW = 600
# Real time also passes while a test runs; every boundary is checked with this much slack.
SLACK = 15

# Read at import: the autouse fixture clears LINK_* variables before each test.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clock_wallet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WalletProcess]:
    database_url = None
    if request.param == "postgres":
        if not POSTGRES_BASE:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
        database_url = fresh_postgres_database(POSTGRES_BASE, migrated=True)
    directory: Path = tmp_path_factory.mktemp(f"clock-{request.param}")
    with WalletProcess.start(directory, database_url=database_url) as process:
        yield process


@pytest.fixture
def agent(clock_wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(clock_wallet)
    yield created
    created.close()


def log_in_again(agent: ApiAgent, wallet: WalletProcess) -> None:
    """Access tokens live an hour; after a long jump the agent refreshes them (same grant,
    so it still sees its requests; a new device login is another connection)."""
    assert agent.person.wallet is wallet
    agent.refresh()


def csrf_token(agent: ApiAgent) -> str:
    """A valid CSRF token of the person's browser session (from the sign-out form)."""
    _, form = agent.person.get_form("/wallet", action="/signout")
    return form.fields["csrf_token"]


def test_pending_request_expires_when_the_window_closes(
    agent: ApiAgent, clock_wallet: WalletProcess
) -> None:
    created = agent.create_ok()
    page = agent.person.client.get(created["approval_url"])
    assert 'value="approve"' in page.text

    clock_wallet.advance_clock(WINDOW - SLACK)
    assert agent.status_of(created["id"]) == "pending_approval"
    clock_wallet.advance_clock(2 * SLACK)

    shown = agent.retrieve(created["id"]).json()
    assert shown["status"] == "expired"
    assert agent.list() == []
    assert [r["status"] for r in agent.list(include_history=True)] == ["expired"]

    page = agent.person.client.get(created["approval_url"])
    assert "Expired" in page.text
    assert 'value="approve"' not in page.text
    status = agent.person.client.get(created["approval_url"] + "/status")
    # The page follows its request by revision (docs/long-poll.md); expiry seen on a read
    # is not a stored move, so the revision is whatever the request had.
    assert status.json() == {
        "status": "expired",
        "revision": status.json()["revision"],
        "expires_at": None,
    }

    late = agent.person.client.post(
        f"/approve/{created['id']}", data={"action": "approve", "csrf_token": csrf_token(agent)}
    )
    assert late.status_code == 409
    assert "expired" in late.text
    for response in (agent.request_approval(created["id"]), agent.cancel(created["id"])):
        assert response.status_code == 409
    assert "card_last4" not in agent.retrieve(created["id"]).json()


def test_created_request_expires_unless_approval_is_requested_in_time(
    agent: ApiAgent, clock_wallet: WalletProcess
) -> None:
    idle = agent.create_ok(card_body(request_approval=...))
    asked = agent.create_ok(card_body(request_approval=...))
    clock_wallet.advance_clock(WINDOW // 2)

    pending = agent.request_approval(asked["id"]).json()
    assert pending["status"] == "pending_approval"
    # The window now runs from the request for approval, not from creation.
    assert pending["expires_at"] >= asked["expires_at"] + WINDOW // 2 - SLACK

    clock_wallet.advance_clock(WINDOW // 2 + SLACK)
    assert agent.status_of(idle["id"]) == "expired"
    assert agent.status_of(asked["id"]) == "pending_approval"
    clock_wallet.advance_clock(WINDOW // 2)
    assert agent.status_of(asked["id"]) == "expired"


def test_approved_credential_expires_at_valid_until(
    agent: ApiAgent, clock_wallet: WalletProcess
) -> None:
    created = agent.create_ok()
    approve_spend_request(agent.person, created["approval_url"])
    card = agent.retrieve(created["id"], include="card").json()["card"]
    assert card["number"]

    clock_wallet.advance_clock(12 * 3600 - 10 * SLACK)
    log_in_again(agent, clock_wallet)
    still = agent.retrieve(created["id"], include="card").json()
    assert still["status"] == "approved"
    assert still["card"] == card

    clock_wallet.advance_clock(20 * SLACK)
    gone = agent.retrieve(created["id"], include="card").json()
    assert gone["status"] == "expired"
    assert "card" not in gone
    assert agent.list() == []
    page = agent.person.client.get(created["approval_url"])
    assert "Expired" in page.text


def test_expired_requests_free_their_active_slot(
    agent: ApiAgent, clock_wallet: WalletProcess
) -> None:
    body = card_body()
    first = agent.create_ok(body)
    duplicate = agent.create(body)
    assert duplicate.status_code == 429
    clock_wallet.advance_clock(WINDOW + SLACK)
    log_in_again(agent, clock_wallet)
    again = agent.create_ok(body)
    assert again["id"] != first["id"]
    assert agent.status_of(first["id"]) == "expired"
