"""The whole purchase story as MCP tool calls, against a real `link-wallet` and the demo shop.

Every process is real: `link-wallet serve`, the demo merchant, and `link-cli --mcp` /
`link-cli serve` driven by the official MCP client. The person signs in and approves
through the wallet's own forms (tests/support).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_harness import LINK_CLI, ServeProcess, start_serve, stop
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import Merchant, register_merchant
from tests.support.agent import Agent, login
from tests.support.approvals import approve_spend_request
from tests.support.threaded_server import serving
from tests.support.wallet import WalletProcess

from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio

CONTEXT = (
    "Buying one pair of trail running shoes for the person, who asked for size 42 in blue "
    "and approved spending up to 130 dollars on them today."
)
SHOES = {"name": "Trail shoes", "quantity": 1, "unit_amount": 12900}
TOTAL = {"type": "total", "display_text": "Total", "amount": 12900}
CALL_SECONDS = 60


@dataclass
class World:
    wallet: WalletProcess
    person: Any
    merchant: Merchant
    shop: ShopProcess
    agent: Agent  # logged in once, for the tests that do not test login

    def env(self, auth_file: Path | None = None) -> dict[str, str]:
        env = self.agent.env()
        if auth_file is not None:
            env["LINK_AUTH_FILE"] = str(auth_file)
        return env

    def stdio(self, auth_file: Path | None = None) -> Client:
        params = StdioServerParameters(command=LINK_CLI, args=["--mcp"], env=self.env(auth_file))
        return Client(params)

    def requests_for(self, spend_request_id: str) -> int:
        """How many times the wallet served this spend request (from its access log)."""
        return len(re.findall(rf"/spend_requests/{spend_request_id}\b", self.wallet.log_text()))

    async def logged_fetches(self, spend_request_id: str, at_least: int = 1) -> int:
        """:meth:`requests_for` once it reaches ``at_least``: the wallet logs a request after
        its response is sent, so the client may hear the answer before the line is written."""
        with anyio.fail_after(10):
            while (count := self.requests_for(spend_request_id)) < at_least:
                await anyio.sleep(0.02)
        return count


@pytest.fixture(scope="module")
def world(wallet: WalletProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    merchant = register_merchant(wallet)
    person = wallet.create_person()
    agent = Agent(wallet.url, tmp_path_factory.mktemp("mcp-agent") / "auth.json")
    login(agent, person)
    with ShopProcess(
        wallet_url=wallet.url, secret_key=merchant.secret_key, network_id=merchant.network_id
    ) as shop:
        yield World(wallet, person, merchant, shop, agent)
    person.close()


def ok(result: Any) -> Any:
    """The JSON value of a successful tool result (checked against structuredContent)."""
    assert result.is_error is False, result.content[0].text
    value = json.loads(result.content[0].text)
    expected = value if isinstance(value, dict) else {"result": value}
    assert result.structured_content == expected
    return value


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error is True, result.content[0].text
    return json.loads(result.content[0].text)


async def call(client: Client, name: str, arguments: dict[str, Any], **kwargs: Any) -> Any:
    with anyio.fail_after(CALL_SECONDS):
        return await client.call_tool(name, arguments, **kwargs)


async def test_login_card_request_approval_and_card(world: World, tmp_path: Path) -> None:
    async with world.stdio(tmp_path / "fresh-auth.json") as client:
        [status] = ok(await call(client, "auth_status", {}))
        assert status["authenticated"] is False

        # interval is ignored over MCP: the URL and phrase must come back at once.
        [started] = ok(await call(client, "auth_login", {"clientName": "MCP test", "interval": 5}))
        assert started["phrase"] in started["verification_url"]
        assert started["_next"]["command"].startswith("auth status --interval 5")
        world.person.approve_device(started["verification_url"])
        chunks = ok(await call(client, "auth_status", {"interval": 0.2, "maxAttempts": 50}))
        assert chunks[-1]["authenticated"] is True

        methods = ok(await call(client, "payment-methods_list", {}))
        assert [m["id"] for m in methods] == [world.person.payment_method_id]

        [created] = ok(
            await call(
                client,
                "spend-request_create",
                {
                    "paymentMethodId": world.person.payment_method_id,
                    "amount": 12900,
                    "merchantName": "Trail Shop",
                    "merchant_url": "https://shop.example/shoes",  # snake_case works too
                    "context": CONTEXT,
                    "lineItem": [SHOES],
                    "total": TOTAL,  # a lone object counts as a one-element list
                    "metadata": {"order_id": "ord_42"},  # object, not only [object]
                },
            )
        )
        assert created["status"] == "pending_approval"
        assert created["approval_url"].startswith(world.wallet.url + "/approve/")
        assert created["_next"]["command"] == (
            f"spend-request retrieve {created['id']} --interval 2 --max-attempts 300"
        )

        progress: list[tuple[float, str | None]] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, message))

        timeout = error_of(
            await call(
                client,
                "spend-request_retrieve",
                {"id": created["id"], "interval": 0.2, "maxAttempts": 3},
                progress_callback=on_progress,
            )
        )
        assert timeout["code"] == "POLLING_TIMEOUT" and timeout["retryable"] is True
        assert progress and progress[0][0] == 1
        assert json.loads(progress[0][1] or "{}")["status"] == "pending_approval"

        approve_spend_request(world.person, created["approval_url"])
        [approved] = ok(
            await call(client, "spend-request_retrieve", {"id": created["id"], "include": "card"})
        )
        assert approved["status"] == "approved"
        assert approved["metadata"] == {"order_id": "ord_42"}
        assert approved["line_items"][0]["name"] == "Trail shoes"
        card = approved["card"]
        assert len(card["number"]) >= 15 and card["number"].isdigit() and card["cvc"]

        # With outputFile the card goes to a private file, not into the agent's context.
        card_file = tmp_path / "card.json"
        file_args = {"id": created["id"], "include": ["card"], "outputFile": str(card_file)}
        [written] = ok(await call(client, "spend-request_retrieve", file_args))
        assert "card" not in written and written["card_output_file"] == str(card_file)
        assert json.loads(card_file.read_text())["card"]["number"] == card["number"]
        assert card_file.stat().st_mode & 0o777 == 0o600
        exists = error_of(await call(client, "spend-request_retrieve", file_args))
        assert exists["code"] == "OUTPUT_FILE_EXISTS"

        missing = error_of(await call(client, "spend-request_retrieve", {"id": "lsrq_missing"}))
        assert missing == {"code": "NOT_FOUND", "message": "Spend request lsrq_missing not found"}


async def test_shared_payment_token_paid_with_mpp_pay(world: World) -> None:
    url = f"{world.shop.url}/api/forecast?city=Oslo"
    async with world.stdio() as client:
        [created] = ok(await call(client, "mpp_pay", {"url": url, "context": CONTEXT}))
        assert created["status"] == "pending_approval"
        assert created["network_id"] == world.merchant.network_id
        assert (
            created["_next"]["pay_command"] == f"mpp pay {url} --spend-request-id {created['id']}"
        )

        approve_spend_request(world.person, created["approval_url"])
        [approved] = ok(await call(client, "spend-request_retrieve", {"id": created["id"]}))
        assert approved["status"] == "approved"

        [paid] = ok(await call(client, "mpp_pay", {"url": url, "spendRequestId": created["id"]}))
        assert paid["status"] == 200, paid
        assert "Oslo" in paid["body"]

        # One credential, one purchase: the spent request cannot pay again.
        again = error_of(
            await call(client, "mpp_pay", {"url": url, "spendRequestId": created["id"]})
        )
        assert again["code"] == "UNKNOWN" and "succeeded" in again["message"]


async def test_mpp_pay_without_a_payment_method(world: World, tmp_path: Path) -> None:
    person = world.wallet.create_person(with_card=False)
    agent = Agent(world.wallet.url, tmp_path / "auth.json")
    url = f"{world.shop.url}/api/forecast?city=Bergen"
    try:
        login(agent, person)
        async with world.stdio(agent.auth_file) as client:
            error = error_of(await call(client, "mpp_pay", {"url": url, "context": CONTEXT}))
    finally:
        person.close()
    assert error["code"] == "NO_PAYMENT_METHOD"


class _ChallengeLess402(BaseHTTPRequestHandler):
    """Answers 402 with no WWW-Authenticate: an odd merchant no real one imitates."""

    def do_GET(self) -> None:
        self.send_response(402)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bare_402_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChallengeLess402)
    with serving(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/paid"


async def test_a_402_without_challenge_is_an_invalid_response(
    world: World, bare_402_url: str
) -> None:
    async with world.stdio() as client:
        error = error_of(await call(client, "mpp_pay", {"url": bare_402_url, "context": CONTEXT}))
    assert error == {
        "code": "INVALID_RESPONSE",
        "message": "URL returned 402 but no WWW-Authenticate header",
    }


async def test_polling_call_leaves_the_session_free_and_stops_when_cancelled(world: World) -> None:
    async with world.stdio() as client:
        [created] = ok(
            await call(
                client,
                "spend-request_create",
                {
                    "amount": 900,
                    "merchantName": "Trail Shop",
                    "merchantUrl": "https://shop.example/laces",
                    "context": CONTEXT,
                },
            )
        )
        first_chunk = anyio.Event()

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            first_chunk.set()

        async def poll_forever() -> None:
            await client.call_tool(
                "spend-request_retrieve",
                {"id": created["id"], "interval": 0.3, "timeout": 120},
                progress_callback=on_progress,
            )

        with anyio.fail_after(CALL_SECONDS):
            async with anyio.create_task_group() as group:
                group.start_soon(poll_forever)
                await first_chunk.wait()
                # The session is not blocked while a call polls: another call completes.
                [meanwhile] = ok(await client.call_tool("auth_status", {}))
                assert meanwhile["authenticated"] is True
                group.cancel_scope.cancel()

        with anyio.fail_after(10):  # the server is not stuck behind the cancelled call
            [status] = ok(await client.call_tool("auth_status", {}))
        assert status["authenticated"] is True

        # The poller stopped: the wallet sees at most one more fetch (one may be in flight).
        seen = await world.logged_fetches(created["id"])  # the log does show its fetches
        await anyio.sleep(1.5)  # five intervals
        assert world.requests_for(created["id"]) - seen <= 1


async def test_stdio_server_uses_the_auth_flag_session(world: World, tmp_path: Path) -> None:
    env = world.env(tmp_path / "not-this-one.json")
    args = ["--auth", str(world.agent.auth_file), "--mcp"]
    async with Client(StdioServerParameters(command=LINK_CLI, args=args, env=env)) as client:
        methods = ok(await call(client, "payment-methods_list", {}))
    assert [m["id"] for m in methods] == [world.person.payment_method_id]


@pytest.fixture
def world_serve(world: World, tmp_path: Path) -> Iterator[ServeProcess]:
    # The session comes from --auth, which wins over LINK_AUTH_FILE (contract §1.1).
    env = world.env(tmp_path / "not-this-one.json")
    server = start_serve(env, "--auth", str(world.agent.auth_file))
    try:
        yield server
    finally:
        stop(server.process)


async def test_http_transport_runs_tools_with_the_owner_session(
    world: World, world_serve: ServeProcess
) -> None:
    async with Client(world_serve.mcp_url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"spend-request_create", "mpp_pay", "auth_login"} <= names

        methods = ok(await call(client, "payment-methods_list", {}))
        assert [m["id"] for m in methods] == [world.person.payment_method_id]

        socks = {
            "amount": 4200,
            "merchantName": "Trail Shop",
            "merchantUrl": "https://shop.example/socks",
            "context": CONTEXT,
        }
        [created] = ok(await call(client, "spend-request_create", socks))
        duplicate = error_of(await call(client, "spend-request_create", socks))
        assert duplicate["code"] == "spend_request_rate_limited"
        assert created["id"] in duplicate["message"]
        progress: list[str | None] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(message)

        timeout = error_of(
            await call(
                client,
                "spend-request_retrieve",
                {"id": created["id"], "interval": 0.2, "maxAttempts": 2},
                progress_callback=on_progress,
            )
        )
        assert timeout["code"] == "POLLING_TIMEOUT"
        # Progress notifications reach HTTP clients too (the response is an SSE stream).
        assert progress and json.loads(progress[0] or "{}")["id"] == created["id"]


async def test_http_polling_call_stops_when_the_client_cancels(
    world: World, world_serve: ServeProcess
) -> None:
    # Stateless HTTP: the cancelled call's stream closes, and its poller must stop too.
    async with Client(world_serve.mcp_url) as client:
        [created] = ok(
            await call(
                client,
                "spend-request_create",
                {
                    "amount": 700,
                    "merchantName": "Trail Shop",
                    "merchantUrl": "https://shop.example/cap",
                    "context": CONTEXT,
                },
            )
        )
        first_chunk = anyio.Event()

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            first_chunk.set()

        async def poll_forever() -> None:
            await client.call_tool(
                "spend-request_retrieve",
                {"id": created["id"], "interval": 0.3, "timeout": 120},
                progress_callback=on_progress,
            )

        with anyio.fail_after(CALL_SECONDS):
            async with anyio.create_task_group() as group:
                group.start_soon(poll_forever)
                await first_chunk.wait()
                group.cancel_scope.cancel()

    seen = await world.logged_fetches(created["id"])
    await anyio.sleep(1.5)  # five intervals
    assert world.requests_for(created["id"]) - seen <= 1


def _agent_block(page: str) -> tuple[str, dict[str, str]]:
    """The checkout's hidden agent block: its merchant account and its form's own fields."""
    match = re.search(
        r'<form[^>]*class="AiAgentPaymentSteering"[^>]*'
        r'data-stripe-merchant-account="(acct_[A-Za-z0-9]+)"[^>]*>(.*?)</form>',
        page,
        re.S,
    )
    assert match, page[-2000:]
    fields = dict(re.findall(r'name="(csrf_token|order_ref|item)" value="([^"]*)"', match[2]))
    assert 'name="link_pay_token"' in match[2] and 'id="ai-agent"' in match[2]
    return match[1], fields


async def test_link_pay_token_paid_in_the_checkouts_agent_block(world: World) -> None:
    import httpx2

    with httpx2.Client(base_url=world.shop.url, timeout=30) as browser:
        account, fields = _agent_block(browser.get("/checkout?item=coffee").text)
        assert account == world.merchant.id
        async with world.stdio() as client:
            [created] = ok(
                await call(
                    client,
                    "spend-request_create",
                    {
                        "executionMethod": "link_pay_token",
                        "merchantAccountId": account,
                        "amount": 1850,
                        "context": CONTEXT,
                    },
                )
            )
            assert created["merchant_name"] == "Test Shop"
            approve_spend_request(world.person, created["approval_url"])
            [approved] = ok(
                await call(
                    client,
                    "spend-request_retrieve",
                    {"id": created["id"], "include": ["link_pay_token"]},
                )
            )
        token = approved["link_pay_token"]
        assert token.startswith("lpt_") and "card" not in approved  # never a card number

        paid = browser.post("/checkout", data=fields | {"ai_agent": "1", "link_pay_token": token})
        assert paid.status_code == 303, paid.text[-1500:]
        receipt = browser.get(paid.headers["location"]).text
        assert "order is confirmed" in receipt and 'id="paid-with">Link<' in receipt

        _, fields = _agent_block(browser.get("/checkout?item=coffee").text)
        again = browser.post("/checkout", data=fields | {"link_pay_token": token})
        assert again.status_code == 402
        assert 'data-code="link_pay_token_consumed"' in again.text
    assert world.agent.json("spend-request", "retrieve", created["id"])[1][0]["status"] == (
        "succeeded"
    )
