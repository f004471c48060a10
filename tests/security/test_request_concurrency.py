"""Many agents at once on one wallet process: every request is answered, none waits for ever
(docs/security.md, "Requests under load").

Ending a request's database session gives its connection back to the pool, so it runs on
threads of its own: were it queued behind route handlers in the shared thread pool, 200
concurrent requests would deadlock (every thread a handler waiting for a connection, every
connection held by a finished request waiting for a thread) until the pool's checkout timeout
answered 500s. In-process, through the wallet's real app and ASGI stack, with more requests in
flight than the thread pool has threads and the pool has connections.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import httpx2
import pytest
from tests.security.test_sqlite_request_cost import BASE_URL, Agent
from tests.support.approvals import card_body

from link_cli.wallet.deps import SESSION_END_THREADS
from link_cli.wallet.store.engine import Database

IN_FLIGHT = 200
# Read before the per-test fixtures clear LINK_* from the environment.
POSTGRES_BASE = os.environ.get("LINK_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    agent = Agent(tmp_path_factory.mktemp("request-concurrency"))
    yield agent
    agent.close()


def test_more_requests_than_threads_and_connections_all_answer(agent: Agent) -> None:
    status, created, _ = agent.call("POST", "/spend_requests", card_body())
    assert status == 200, created
    pool = agent.app.state.db.engine.pool
    assert pool.size() + pool._max_overflow < IN_FLIGHT  # more requests than connections
    assert pool.size() + pool._max_overflow <= SESSION_END_THREADS

    async def many() -> list[int]:
        transport = httpx2.ASGITransport(app=agent.app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            path = f"/spend_requests/{created['id']}"
            answers = await asyncio.gather(
                *(client.get(path, headers=agent.headers) for _ in range(IN_FLIGHT))
            )
        return [answer.status_code for answer in answers]

    assert asyncio.run(many()) == [200] * IN_FLIGHT


def test_a_retrieve_and_a_create_hand_off_to_threads_twice(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each hand-off to the thread pool costs more CPU than a short query: the token lookup and
    # the route (which commits its own session) are the two; ending the session adds none.
    status, created, _ = agent.call("POST", "/spend_requests", card_body())
    assert status == 200, created
    calls: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", type(func).__name__))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    status, _, _ = agent.call("GET", f"/spend_requests/{created['id']}")
    assert status == 200
    assert len(calls) == 2, calls
    calls.clear()
    status, again, _ = agent.call("POST", "/spend_requests", card_body())
    assert status == 200, again
    assert len(calls) == 2, calls


def test_on_postgresql_the_token_lookup_sends_no_begin_or_commit() -> None:
    # One SELECT sees one snapshot: wrapped in BEGIN/COMMIT it would cost three round trips.
    from psycopg.pq import TransactionStatus
    from tests.conftest import fresh_postgres_database

    base = POSTGRES_BASE
    if not base:
        pytest.skip("LINK_TEST_POSTGRES_URL is not set (make test starts a throwaway PostgreSQL)")

    database = Database(fresh_postgres_database(base, migrated=True))
    try:
        with database.read_connection() as connection:
            connection.exec_driver_sql("SELECT 1").all()
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            assert dbapi.info.transaction_status == TransactionStatus.IDLE
    finally:
        database.dispose()
