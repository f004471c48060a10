"""Long-poll against real wallet processes (docs/long-poll.md): a held retrieve is woken by
approval, denial, cancellation and expiry; on PostgreSQL by a change made through another
process; shutdown answers it at once.

Nothing here reads the clock: a test waits until the wallet reports the hold
(``GET /__test__/long_poll``), changes the request, and asserts on ``Preference-Applied``,
the status the held answer carries and the order of events.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import (
    ApiAgent,
    approve_spend_request,
    deny_spend_request,
    new_agent,
)
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server

WAIT = 60  # the bound asked for; a held answer that says wait=60 came back early only if woken
ENV = {
    "LINK_WALLET_LONG_POLL_MAX_WAIT_SECONDS": "120",
    # One wallet, two processes: one key (a card issued by one is decrypted by the other).
    "LINK_WALLET_SECRET_KEY": "long-poll-test-secret-key-of-the-two-processes",
}
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)  # read at import: the autouse fixture clears LINK_*


class HeldRequest:
    """``GET /spend_requests/{id}`` with ``Prefer: wait``, sent from its own thread."""

    def __init__(self, wallet: WalletProcess, agent: ApiAgent, request_id: str) -> None:
        self.response: httpx2.Response | None = None
        headers = {**agent.client.headers, "Prefer": f"wait={WAIT}"}
        url = f"{wallet.url}/spend_requests/{request_id}?include=card"

        def send() -> None:
            self.response = httpx2.get(url, headers=headers, timeout=WAIT + 30)

        self.thread = threading.Thread(target=send, daemon=True)
        self.thread.start()

    def result(self) -> httpx2.Response:
        self.thread.join(timeout=WAIT + 30)
        assert self.response is not None, "the held request never came back"
        return self.response


def held_count(wallet: WalletProcess) -> int:
    return int(httpx2.get(f"{wallet.url}/__test__/long_poll", timeout=10).json()["held"])


def until_held(wallet: WalletProcess, count: int = 1) -> None:
    """Wait until ``wallet`` holds ``count`` requests (bounded; the held ones answer at most
    after WAIT seconds, so this cannot hang for ever either)."""
    for _ in range(3000):
        if held_count(wallet) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"the wallet never held {count} request(s)")


@pytest.fixture(scope="module")
def clock_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """A private SQLite wallet: the expiry test moves its clock."""
    with WalletProcess.start(tmp_path_factory.mktemp("long-poll"), env=ENV) as process:
        yield process


@pytest.fixture(scope="module")
def agent(clock_wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(clock_wallet)
    yield created
    created.close()


def _held_until(wallet: WalletProcess, agent: ApiAgent, change: Any) -> dict[str, Any]:
    created = agent.create_ok()
    held = HeldRequest(wallet, agent, created["id"])
    until_held(wallet)
    change(created)
    response = held.result()
    assert response.status_code == 200, response.text
    assert response.headers["preference-applied"] == f"wait={WAIT}"
    assert held_count(wallet) == 0
    return dict(response.json())


def test_approval_wakes_the_held_retrieve_with_the_card(
    clock_wallet: WalletProcess, agent: ApiAgent
) -> None:
    body = _held_until(
        clock_wallet, agent, lambda c: approve_spend_request(agent.person, c["approval_url"])
    )
    assert body["status"] == "approved"
    assert body["card"]["number"]  # the credential comes in the same answer


def test_denial_wakes_the_held_retrieve(clock_wallet: WalletProcess, agent: ApiAgent) -> None:
    body = _held_until(
        clock_wallet, agent, lambda c: deny_spend_request(agent.person, c["approval_url"])
    )
    assert body["status"] == "denied" and "card" not in body


def test_cancellation_wakes_the_held_retrieve(clock_wallet: WalletProcess, agent: ApiAgent) -> None:
    body = _held_until(clock_wallet, agent, lambda c: agent.cancel(c["id"]))
    assert body["status"] == "canceled"


def test_without_the_preference_or_once_decided_the_answer_is_immediate(
    clock_wallet: WalletProcess, agent: ApiAgent
) -> None:
    created = agent.create_ok()
    plain = agent.retrieve(created["id"])  # the official CLI: no Prefer, answered at once
    assert plain.json()["status"] == "pending_approval"
    assert "preference-applied" not in plain.headers
    agent.cancel(created["id"])
    done = agent.client.get(f"/spend_requests/{created['id']}", headers={"Prefer": "wait=60"})
    assert done.json()["status"] == "canceled"
    assert "preference-applied" not in done.headers  # nothing to wait for


def test_a_client_that_goes_away_frees_its_hold(
    clock_wallet: WalletProcess, agent: ApiAgent
) -> None:
    created = agent.create_ok()
    host, port = urlsplit(clock_wallet.url).hostname, urlsplit(clock_wallet.url).port
    with socket.create_connection((host, port)) as raw:
        raw.sendall(
            f"GET /spend_requests/{created['id']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: {agent.client.headers['authorization']}\r\n"
            f"Prefer: wait={WAIT}\r\n\r\n".encode()
        )
        until_held(clock_wallet)
    for _ in range(3000):  # closed: the wallet lets go of it without waiting for the bound
        if held_count(clock_wallet) == 0:
            break
        time.sleep(0.01)
    assert held_count(clock_wallet) == 0
    agent.cancel(created["id"])


def test_a_change_through_another_process_wakes_the_held_retrieve_on_sqlite(
    clock_wallet: WalletProcess, tmp_path: Path
) -> None:
    """No notifications between SQLite processes: the holder's bounded re-check sees it."""
    database = f"sqlite:///{clock_wallet.data_dir / 'wallet.db'}"
    with WalletProcess.start(tmp_path, env={**ENV, "LINK_WALLET_DATABASE_URL": database}) as other:
        agent = new_agent(other)
        try:
            created = agent.create_ok()
            held = HeldRequest(clock_wallet, agent, created["id"])
            until_held(clock_wallet)
            approve_spend_request(agent.person, created["approval_url"])
            response = held.result()
            assert response.status_code == 200, response.text
            assert response.headers["preference-applied"] == f"wait={WAIT}"
            assert response.json()["status"] == "approved" and response.json()["card"]["number"]
        finally:
            agent.close()


def test_expiry_wakes_the_held_retrieve(clock_wallet: WalletProcess, agent: ApiAgent) -> None:
    # One second before the 10-minute window closes: the wake-up at the clock move finds
    # it still pending, the deadline then ends the wait (long before the 60 s bound).
    body = _held_until(clock_wallet, agent, lambda _c: clock_wallet.advance_clock(599))
    assert body["status"] == "expired"


@pytest.fixture(scope="module")
def pg_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[WalletProcess]]:
    """Two wallet processes on one PostgreSQL database. The re-check is slowed far past
    the test's bounds: only LISTEN/NOTIFY can wake a held request in time."""
    if not POSTGRES_BASE:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(POSTGRES_BASE, migrated=True)
    env = {
        **ENV,
        "LINK_WALLET_LONG_POLL_RECHECK_MS": "3600000",
    }
    base: Path = tmp_path_factory.mktemp("long-poll-pg")
    first = WalletProcess.start(base / "a", database_url=url, env=env)
    try:
        second = WalletProcess.start(base / "b", database_url=url, env=env)
    except BaseException:
        first.stop()
        raise
    yield [first, second]
    second.stop()
    first.stop()


def test_a_change_through_another_process_wakes_the_held_retrieve_on_postgresql(
    pg_pair: list[WalletProcess],
) -> None:
    holder, other = pg_pair
    agent = new_agent(other)  # its person signs in and approves through the other process
    try:
        created = agent.create_ok()
        held = HeldRequest(holder, agent, created["id"])
        until_held(holder)
        approve_spend_request(agent.person, created["approval_url"])
        response = held.result()
        assert response.status_code == 200, response.text
        assert response.headers["preference-applied"] == f"wait={WAIT}"
        assert response.json()["status"] == "approved" and response.json()["card"]["number"]
    finally:
        agent.close()


def test_shutdown_answers_held_requests_at_once(pg_pair: list[WalletProcess]) -> None:
    holder, other = pg_pair
    agent = new_agent(other)
    try:
        created = agent.create_ok()
        held = HeldRequest(holder, agent, created["id"])
        until_held(holder)
        holder.stop()  # SIGTERM: the held request is answered, then the process exits
        response = held.result()
        assert response.status_code == 200
        assert response.json()["status"] == "pending_approval"
        assert holder.process is not None and holder.process.poll() == 0
    finally:
        agent.close()
