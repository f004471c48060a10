"""What one agent request costs the database on SQLite (docs/security.md, "SQLite under
concurrency").

The SQL statements each request sends are counted in-process, through the wallet's real app
and ASGI stack: a retrieve is two short read transactions (the bearer token, then the
request with its credential in one query), and no read ever takes the write lock
(``BEGIN IMMEDIATE``). Counting statements is deterministic, unlike timing them; the latency
figure comes from ``bench/wallet_sqlite_concurrency.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import event
from tests.support.approvals import card_body
from tests.support.wallet import copy_migrated_sqlite, wallet_env
from tests.support.wallet_store import WalletStore

from link_cli.wallet.app import create_app
from link_cli.wallet.domain.oauth import SCOPE_PAYMENT_METHODS
from link_cli.wallet.settings import load_settings

EMAIL = "cost@example.com"
BASE_URL = "http://127.0.0.1:8725"  # a Host the wallet answers for
CARD = {
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2034",
    "cvc": "123",
    "name": "Cost Person",
    "line1": "1 Main St",
    "country": "US",
}


class Agent:
    """The wallet's app in-process, an agent's token, and the statements each call sends."""

    def __init__(self, data_dir: Path) -> None:
        copy_migrated_sqlite(data_dir / "wallet.db")
        env = wallet_env()
        store = WalletStore(data_dir, None, env)
        try:
            store.create_user(EMAIL, "correct horse battery staple", "Cost Person")
            store.add_card(EMAIL, CARD, shipping=False)
            tokens = store.grant_agent(EMAIL, [SCOPE_PAYMENT_METHODS])
        finally:
            store.close()
        self.app = create_app(load_settings(data_dir=data_dir, env=env))
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        self.statements: list[str] = []
        event.listen(self.app.state.db.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.statements.append(" ".join(statement.split())[:60])

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, list[str]]:
        """One request through the app: its status, JSON body and the statements it sent."""

        async def send() -> httpx2.Response:
            transport = httpx2.ASGITransport(app=self.app)
            async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                return await client.request(method, path, json=body, headers=self.headers)

        self.statements.clear()
        response = asyncio.run(send())
        return response.status_code, response.json(), list(self.statements)

    def close(self) -> None:
        self.app.state.db.dispose()


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    agent = Agent(tmp_path_factory.mktemp("request-cost"))
    yield agent
    agent.close()


@pytest.fixture(scope="module")
def request_id(agent: Agent) -> str:
    status, created, _ = agent.call("POST", "/spend_requests", card_body())
    assert status == 200, created
    return str(created["id"])


def _begins(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("BEGIN")]


def test_a_retrieve_is_two_read_transactions_of_one_query_each(
    agent: Agent, request_id: str
) -> None:
    status, body, statements = agent.call("GET", f"/spend_requests/{request_id}")

    assert status == 200
    assert body["id"] == request_id
    assert statements[0] == "BEGIN" and statements[1].startswith("SELECT"), statements
    assert statements[2] == "BEGIN" and statements[3].startswith("SELECT"), statements
    assert len(statements) == 4, statements


def test_no_read_takes_the_write_lock(agent: Agent, request_id: str) -> None:
    for path in (
        f"/spend_requests/{request_id}",
        f"/spend_requests/{request_id}?include=card",
        "/spend_requests",
        "/payment-details",
        f"/spend_requests/lsrq_{'0' * 24}",
    ):
        status, _, statements = agent.call("GET", path)
        assert status in (200, 404), path
        assert _begins(statements) and set(_begins(statements)) == {"BEGIN"}, (path, statements)


def test_a_write_takes_the_write_lock_once_after_a_read_for_the_token(
    agent: Agent, request_id: str
) -> None:
    total = [{"type": "total", "display_text": "Total", "amount": 4321}]

    status, body, statements = agent.call(
        "POST", f"/spend_requests/{request_id}", {"amount": 4321, "totals": total}
    )

    assert status == 200, body
    assert body["amount"] == 4321
    assert _begins(statements) == ["BEGIN", "BEGIN IMMEDIATE"], statements
