"""Long-poll's bounds (docs/security.md, "Long-poll"), through the wallet's real app in-process.

Held requests are counted per agent connection and per process: past either bound the
answer is 429 ``too_many_waiting_requests`` in the Link API's error shape, and the same
request without ``Prefer`` is still answered. While requests are held, no database
connection is checked out. A held device-token poll is answered as soon as the person
decides. With ``LINK_WALLET_LONG_POLL=0`` the preference is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.concurrency import run_in_threadpool
from tests.support.approvals import card_body
from tests.support.wallet import copy_migrated_sqlite, wallet_env
from tests.support.wallet_store import WalletStore

from link_cli.wallet.app import create_app
from link_cli.wallet.clock import Clock
from link_cli.wallet.domain import oauth as oauth_rules
from link_cli.wallet.domain.oauth import SCOPE_PAYMENT_METHODS
from link_cli.wallet.settings import load_settings
from link_cli.wallet.store import accounts
from link_cli.wallet.store import oauth as oauth_store

EMAIL = "waiter@example.com"
BASE_URL = "http://127.0.0.1:8725"
CARD = {
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2034",
    "cvc": "123",
    "name": "Wait Person",
    "line1": "1 Main St",
    "country": "US",
}
BOUNDS = {
    "LINK_WALLET_LONG_POLL_MAX_HELD": "3",
    "LINK_WALLET_LONG_POLL_MAX_HELD_PER_AGENT": "2",
}
PREFER = {"Prefer": "wait=20"}


def _wallet(data_dir: Path, extra: dict[str, str]) -> tuple[Any, list[dict[str, str]]]:
    copy_migrated_sqlite(data_dir / "wallet.db")
    env = wallet_env(extra)
    store = WalletStore(data_dir, None, env)
    try:
        store.create_user(EMAIL, "correct horse battery staple", "Wait Person")
        store.add_card(EMAIL, CARD, shipping=False)
        headers = [
            {"Authorization": f"Bearer {store.grant_agent(EMAIL, [SCOPE_PAYMENT_METHODS])['access_token']}"}
            for _ in range(2)
        ]  # fmt: skip
    finally:
        store.close()
    return create_app(load_settings(data_dir=data_dir, env=env)), headers


def _run(app: Any, scenario: Callable[[httpx2.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        await app.state.long_poll.start()
        try:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                await scenario(client)
        finally:
            await app.state.long_poll.stop()
            app.state.db.dispose()

    asyncio.run(main())


async def _until_held(app: Any, count: int) -> None:
    for _ in range(3000):
        if app.state.long_poll.held >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never {count} held requests")


async def _pending(client: httpx2.AsyncClient, headers: dict[str, str], name: str) -> str:
    response = await client.post(
        "/spend_requests", json=card_body(merchant_name=name), headers=headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_held_requests_are_bounded_per_agent_and_per_process(tmp_path: Path) -> None:
    app, (first, second) = _wallet(tmp_path, BOUNDS)

    async def scenario(client: httpx2.AsyncClient) -> None:
        ids = [await _pending(client, first, f"Shop {n}") for n in range(3)]
        other = [await _pending(client, second, f"Other {n}") for n in range(2)]

        def hold(request_id: str, headers: dict[str, str]) -> asyncio.Task[httpx2.Response]:
            return asyncio.create_task(
                client.get(f"/spend_requests/{request_id}", headers={**headers, **PREFER})
            )

        held = [hold(ids[0], first), hold(ids[1], first)]
        await _until_held(app, 2)
        # Nothing held keeps a database connection (or a worker thread) busy.
        assert app.state.db.engine.pool.checkedout() == 0

        refused = await client.get(f"/spend_requests/{ids[2]}", headers={**first, **PREFER})
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "too_many_waiting_requests"
        assert "connection already has 2 waiting requests" in error["message"]
        assert refused.headers["retry-after"] == "1"

        held.append(hold(other[0], second))
        await _until_held(app, 3)
        refused = await client.get(f"/spend_requests/{other[1]}", headers={**second, **PREFER})
        assert refused.status_code == 429
        assert "process already holds 3 waiting requests" in refused.json()["error"]["message"]

        plain = await client.get(f"/spend_requests/{ids[2]}", headers=first)
        assert plain.status_code == 200 and "preference-applied" not in plain.headers

        for request_id, headers in ((ids[0], first), (ids[1], first), (other[0], second)):
            canceled = await client.post(f"/spend_requests/{request_id}/cancel", headers=headers)
            assert canceled.status_code == 200
        answers = await asyncio.gather(*held)
        assert [a.json()["status"] for a in answers] == ["canceled"] * 3
        assert {a.headers["preference-applied"] for a in answers} == {"wait=20"}
        assert app.state.long_poll.held == 0

    _run(app, scenario)


def test_a_held_device_token_poll_is_answered_when_the_person_approves(tmp_path: Path) -> None:
    app, _ = _wallet(tmp_path, {})
    database = app.state.db
    with database.write_scope() as session:
        started = oauth_store.start_device_authorization(
            session,
            client_id=oauth_rules.PUBLIC_CLIENT_ID,
            scopes=[SCOPE_PAYMENT_METHODS],
            connection_label="waiting agent",
            client_hint=None,
            authorization_details=[],
            now=Clock().now(),
        )

    def approve() -> None:
        now = Clock().now()
        with database.write_scope() as session:
            user = accounts.get_user_by_email(session, EMAIL)
            pending = oauth_store.find_pending_by_phrase(session, started.user_code, now=now)
            assert user is not None and pending is not None
            oauth_store.decide(
                session,
                pending,
                user_id=user.id,
                approve=True,
                granted_scopes=[SCOPE_PAYMENT_METHODS],
                now=now,
            )

    async def scenario(client: httpx2.AsyncClient) -> None:
        form = {
            "grant_type": oauth_rules.DEVICE_CODE_GRANT,
            "device_code": started.device_code,
            "client_id": oauth_rules.PUBLIC_CLIENT_ID,
        }
        poll = asyncio.create_task(client.post("/device/token", data=form, headers=PREFER))
        await _until_held(app, 1)
        await run_in_threadpool(approve)
        answer = await poll
        assert answer.status_code == 200, answer.text
        assert answer.json()["access_token"]
        assert answer.headers["preference-applied"] == "wait=20"

    _run(app, scenario)


@pytest.mark.parametrize("prefer", ["wait=30", "respond-async, wait=5"])
def test_long_poll_off_ignores_the_preference(tmp_path: Path, prefer: str) -> None:
    app, (first, _) = _wallet(tmp_path, {"LINK_WALLET_LONG_POLL": "0"})

    async def scenario(client: httpx2.AsyncClient) -> None:
        request_id = await _pending(client, first, "Shop")
        answer = await client.get(
            f"/spend_requests/{request_id}", headers={**first, "Prefer": prefer}
        )
        assert answer.status_code == 200
        assert answer.json()["status"] == "pending_approval"
        assert "preference-applied" not in answer.headers

    _run(app, scenario)
