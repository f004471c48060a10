"""Every command of the official command tree (contract §1.2), end to end against one wallet.

One tour runs each leaf command as the real ``link-cli`` subprocess, another calls each as an
MCP tool of ``link-cli --mcp`` and ``link-cli serve``; both against a real ``link-wallet`` and
the demo shop, with the person answering on the wallet's own forms. Each tour records what it
ran and ends by checking that nothing of the tree was skipped, so a command added to the
official tree without a journey here fails this module. The detailed behaviour of each
command is pinned by its own tests; this module proves the commands work together, from
both front doors.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from tests.mcp.mcp_harness import LINK_CLI, start_serve, stop
from tests.merchant.buyer import demo_shop
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import Merchant
from tests.support.agent import CONTEXT, Agent, login
from tests.support.approvals import approve_spend_request
from tests.support.wallet import WalletProcess

from link_cli.commands import all_commands
from mcp import Client, StdioServerParameters

# Contract §1.2: the leaf commands of link-cli 0.13.1.
OFFICIAL_TREE = frozenset(
    {
        "auth login",
        "auth logout",
        "auth status",
        "auth upgrade",
        "balances list",
        "demo",
        "mpp decode",
        "mpp pay",
        "onboard",
        "payment-methods add",
        "payment-methods list",
        "report",
        "serve",
        "shipping-address list",
        "sources list",
        "spend-request cancel",
        "spend-request create",
        "spend-request list",
        "spend-request request-approval",
        "spend-request retrieve",
        "spend-request update",
        "transactions list",
        "user-info retrieve",
    }
)
# Ours, not in the official CLI (docs/compatibility.md).
OUR_COMMANDS = frozenset({"merchant inspect"})
TREE = OFFICIAL_TREE | OUR_COMMANDS
# Terminal-only commands: off a terminal they answer REQUIRES_TTY; their terminal journeys
# are tests/demo/test_demo_terminal.py and tests/demo/test_onboard_terminal.py.
TERMINAL_ONLY = frozenset({"demo", "onboard"})
CALL_SECONDS = 60
FORECAST_PRICE = 250  # the demo shop's price of one forecast, in cents


@dataclass
class World:
    wallet: WalletProcess
    person: Any
    merchant: Merchant
    shop: ShopProcess

    @property
    def forecast_url(self) -> str:
        return f"{self.shop.url}/api/forecast?city=Oslo"


@pytest.fixture(scope="module")
def world(wallet: WalletProcess) -> Iterator[World]:
    person = wallet.create_person()
    with demo_shop(wallet) as (merchant, shop):
        yield World(wallet, person, merchant, shop)
    person.close()


def test_our_command_tree_is_the_official_one_plus_our_own() -> None:
    assert {" ".join(command.path) for command in all_commands()} == TREE


# --- from the command line -----------------------------------------------------------------


class CliTour:
    """``link-cli`` runs that remember which command they exercised."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.ran: set[str] = set()

    def ok(self, *args: str) -> Any:
        code, out = self.agent.json(*args)
        assert code == 0, (args, out)
        self.ran.add(_command_of(args))
        return out

    def fails(self, *args: str) -> dict[str, Any]:
        code, out = self.agent.json(*args)
        assert code == 1, (args, out)
        self.ran.add(_command_of(args))
        return out


def _command_of(args: tuple[str, ...]) -> str:
    words = [a for a in args if not a.startswith("-")]
    for length in (2, 1):
        if " ".join(words[:length]) in TREE:
            return " ".join(words[:length])
    raise AssertionError(f"not a command of the tree: {args}")


def test_every_command_from_the_cli(world: World, tmp_path: Path) -> None:
    agent = Agent(world.wallet.url, tmp_path / "auth.json")
    tour = CliTour(agent)

    login(agent, world.person)
    tour.ran.add("auth login")
    [status] = tour.ok("auth", "status")
    assert status["authenticated"] is True

    [upgrade] = tour.ok("auth", "upgrade", "--scope", "spend_requests:approve")
    world.person.approve_device(upgrade["verification_url"], grant_approve_scope=True)
    [status] = tour.ok("auth", "status")
    assert status["authenticated"] is True and "spend_requests:approve" in status["scope"]

    methods = tour.ok("payment-methods", "list")
    assert [m["id"] for m in methods] == [world.person.payment_method_id]
    assert tour.ok("payment-methods", "add") == {"url": f"{world.wallet.url}/wallet/cards/new"}
    assert isinstance(tour.ok("shipping-address", "list"), list)
    assert tour.ok("user-info", "retrieve")["email"] == world.person.email

    # A card request: created without asking, updated, then sent for approval.
    [draft] = tour.ok(
        "spend-request", "create", "--amount", "2400", "-m", "Tree Shop",
        "--merchant-url", "https://tree.example/checkout", "--context", CONTEXT,
        "--no-request-approval",
    )  # fmt: skip
    assert draft["status"] == "created"
    updated = tour.ok("spend-request", "update", draft["id"], "--amount", "2600")
    assert updated["amount"] == 2600
    [pending] = tour.ok("spend-request", "request-approval", draft["id"])
    assert pending["status"] == "pending_approval"
    approve_spend_request(world.person, pending["approval_url"])
    [approved] = tour.ok("spend-request", "retrieve", draft["id"], "--include", "card")
    assert approved["status"] == "approved" and approved["card"]["number"].isdigit()
    listed = tour.ok("spend-request", "list")
    assert draft["id"] in [r["id"] for r in listed]
    canceled = tour.ok("spend-request", "cancel", draft["id"])
    assert canceled["status"] == "canceled"

    # Step 2 of a purchase: the shop's checkout asks for a card, its paid API for a token.
    checkout = tour.ok("merchant", "inspect", f"{world.shop.url}/checkout?item=lantern")
    assert checkout["verdict"]["credential_type"] == "card"
    assert checkout["checkout"]["card_fields"]["number"] is True
    inspected = tour.ok("merchant", "inspect", world.forecast_url)
    assert inspected["verdict"]["credential_type"] == "shared_payment_token"
    assert inspected["stripe_offer"]["network_id"] == world.merchant.network_id
    assert (
        f"--network-id {world.merchant.network_id}" in (inspected["_next"]["spend_request_command"])
    )

    # A machine payment: decode the shop's challenge, then the full flow and the payment.
    challenge = httpx2.get(world.forecast_url, timeout=10).headers["www-authenticate"]
    decoded = tour.ok("mpp", "decode", "--challenge", challenge)
    assert decoded["network_id"] == world.merchant.network_id
    [created] = tour.ok("mpp", "pay", world.forecast_url, "--context", CONTEXT)
    approve_spend_request(world.person, created["approval_url"])
    [paid] = tour.ok(*shlex.split(created["_next"]["pay_command"]))
    assert paid["status"] == 200 and json.loads(paid["body"])["paid"] is True

    record = tour.ok(
        "report", "--domain", "tree.example", "--outcome", "blocked", "--tag", "captcha",
        "--spend-request-id", draft["id"],
    )  # fmt: skip
    assert (record["domain"], record["outcome"]) == ("tree.example", "blocked")
    assert _paid_forecasts(tour.ok("transactions", "list"))
    assert tour.ok("sources", "list")["data"]
    assert tour.ok("balances", "list")["data"]

    for command in sorted(TERMINAL_ONLY):
        assert tour.fails(command)["code"] == "REQUIRES_TTY"

    serve = start_serve(agent.env(), "--auth", str(agent.auth_file))
    try:
        assert "payment-methods_list" in anyio.run(_tool_names, serve.mcp_url)
    finally:
        stop(serve.process)
    tour.ran.add("serve")

    tour.ok("auth", "logout")
    [status] = tour.ok("auth", "status")
    assert status["authenticated"] is False

    assert tour.ran == TREE


def _paid_forecasts(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The wallet's records of forecasts bought through the demo shop."""
    return [
        t
        for t in page["data"]
        if (t["origin"], t["status"], t["amount"]) == ("link", "succeeded", -FORECAST_PRICE)
    ]


async def _tool_names(url: str) -> set[str]:
    with anyio.fail_after(CALL_SECONDS):
        async with Client(url) as client:
            return {tool.name for tool in (await client.list_tools()).tools}


# --- over MCP ------------------------------------------------------------------------------


class McpTour:
    """MCP tool calls that remember which command they exercised."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ran: set[str] = set()

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        with anyio.fail_after(CALL_SECONDS):
            result = await self.client.call_tool(tool, arguments)
        assert result.is_error is False, (tool, result.content[0].text)
        self.ran.add(tool.replace("_", " "))
        return json.loads(result.content[0].text)


@pytest.mark.anyio
async def test_every_command_over_mcp(world: World, tmp_path: Path) -> None:
    agent = Agent(world.wallet.url, tmp_path / "auth.json")
    params = StdioServerParameters(command=LINK_CLI, args=["--mcp"], env=agent.env())
    async with Client(params) as client:
        tour = McpTour(client)
        [started] = await tour.call("auth_login", {"clientName": "Tree tour"})
        world.person.approve_device(started["verification_url"])
        statuses = await tour.call("auth_status", {"interval": 0.2, "maxAttempts": 50})
        assert statuses[-1]["authenticated"] is True
        [upgrade] = await tour.call("auth_upgrade", {"scope": "spend_requests:approve"})
        world.person.approve_device(upgrade["verification_url"], grant_approve_scope=True)
        statuses = await tour.call("auth_status", {"interval": 0.2, "maxAttempts": 50})
        assert "spend_requests:approve" in statuses[-1]["scope"]

        methods = await tour.call("payment-methods_list", {})
        assert [m["id"] for m in methods] == [world.person.payment_method_id]
        added = await tour.call("payment-methods_add", {})
        assert added == {"url": f"{world.wallet.url}/wallet/cards/new"}
        assert isinstance(await tour.call("shipping-address_list", {}), list)
        assert (await tour.call("user-info_retrieve", {}))["email"] == world.person.email

        card = {
            "amount": 3100,
            "merchantName": "Tree Shop",
            "merchantUrl": "https://tree.example/mcp",
            "context": CONTEXT,
            "requestApproval": False,
        }
        [draft] = await tour.call("spend-request_create", card)
        updated = await tour.call("spend-request_update", {"id": draft["id"], "amount": 3300})
        assert updated["amount"] == 3300
        [pending] = await tour.call("spend-request_request-approval", {"id": draft["id"]})
        approve_spend_request(world.person, pending["approval_url"])
        [approved] = await tour.call(
            "spend-request_retrieve", {"id": draft["id"], "include": "card"}
        )
        assert approved["status"] == "approved" and approved["card"]["cvc"]
        listed = await tour.call("spend-request_list", {})
        assert draft["id"] in [r["id"] for r in listed]
        canceled = await tour.call("spend-request_cancel", {"id": draft["id"]})
        assert canceled["status"] == "canceled"

        inspected = await tour.call("merchant_inspect", {"url": world.forecast_url})
        assert inspected["verdict"]["credential_type"] == "shared_payment_token"
        assert inspected["stripe_offer"]["network_id"] == world.merchant.network_id

        challenge = httpx2.get(world.forecast_url, timeout=10).headers["www-authenticate"]
        decoded = await tour.call("mpp_decode", {"challenge": challenge})
        assert decoded["network_id"] == world.merchant.network_id
        [created] = await tour.call("mpp_pay", {"url": world.forecast_url, "context": CONTEXT})
        approve_spend_request(world.person, created["approval_url"])
        [paid] = await tour.call(
            "mpp_pay", {"url": world.forecast_url, "spendRequestId": created["id"]}
        )
        assert paid["status"] == 200

        report = {"domain": "tree.example", "outcome": "success", "spendRequestId": draft["id"]}
        assert (await tour.call("report", report))["outcome"] == "success"
        assert _paid_forecasts(await tour.call("transactions_list", {}))
        assert (await tour.call("sources_list", {}))["data"]
        assert (await tour.call("balances_list", {}))["data"]

        for command in sorted(TERMINAL_ONLY):
            result = await client.call_tool(command, {})
            assert result.is_error is True
            assert "REQUIRES_TTY" in result.content[0].text or "Unknown tool" in (
                result.content[0].text
            )
            tour.ran.add(command)

        await tour.call("auth_logout", {})

    # `serve` is the MCP server over HTTP: the same tools, reached by URL.
    login(agent, world.person)
    serve = start_serve(agent.env(), "--auth", str(agent.auth_file))
    try:
        async with Client(serve.mcp_url) as http_client:
            methods = await McpTour(http_client).call("payment-methods_list", {})
            assert [m["id"] for m in methods] == [world.person.payment_method_id]
    finally:
        stop(serve.process)
    tour.ran.add("serve")

    assert tour.ran == TREE
