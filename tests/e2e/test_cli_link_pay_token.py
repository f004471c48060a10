"""Link Pay Tokens end to end: the real ``link-cli`` creates the request against a real
``link-wallet``, the person approves through the wallet's page, the agent retrieves the
token with ``--include link_pay_token``, and the merchant redeems it with the official
``stripe`` SDK: once, only with its own key, only up to the approved amount, only in time.

One private wallet for the module (its clock is moved forward by the last test).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from tests.support.agent import CONTEXT, Agent, login
from tests.support.approvals import approve_spend_request
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server

SHOP_NAME = "Trailhead Supply Co."
SHOP_SITE = "https://trailhead.example"


@dataclass
class Shop:
    id: str
    secret_key: str

    def client(self, wallet: WalletProcess) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.secret_key, base_addresses={"api": wallet.url}, max_network_retries=0
        )


@dataclass
class World:
    wallet: WalletProcess
    person: Any
    agent: Agent
    shop: Shop
    other_shop: Shop
    test_shop: Shop


def _shop(wallet: WalletProcess, name: str, *, livemode: bool, url: str | None = None) -> Shop:
    data = wallet.store().create_merchant(
        name, "profile_" + secrets.token_hex(6), livemode=livemode, url=url
    )
    return Shop(id=data["id"], secret_key=data["secret_key"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with WalletProcess.start(tmp_path_factory.mktemp("lpt-wallet")) as wallet:
        person = wallet.create_person()
        agent = Agent(wallet.url, tmp_path_factory.mktemp("lpt-agent") / "auth.json")
        login(agent, person)
        yield World(
            wallet,
            person,
            agent,
            _shop(wallet, SHOP_NAME, livemode=True, url=SHOP_SITE),
            _shop(wallet, "Elsewhere Ltd", livemode=True),
            _shop(wallet, "Sandbox Shop", livemode=False),
        )
        person.close()


def create_lpt(world: World, amount: int, account: str | None = None) -> dict[str, Any]:
    code, chunks = world.agent.json(
        "spend-request",
        "create",
        "--execution-method",
        "link_pay_token",
        "--merchant-account-id",
        f"  {account or world.shop.id} ",  # trimmed by the CLI (contract §3.5)
        "--amount",
        str(amount),
        "--context",
        CONTEXT,
    )
    assert code == 0, chunks
    [created] = chunks
    return created


def approved_token(world: World, amount: int) -> tuple[str, str]:
    """An approved LPT request for the shop: ``(spend request id, token)``."""
    created = create_lpt(world, amount)
    approve_spend_request(world.person, created["approval_url"])
    return created["id"], retrieve_token(world, created["id"])


def retrieve_token(world: World, request_id: str) -> str:
    code, chunks = world.agent.json(
        "spend-request", "retrieve", request_id, "--include", "link_pay_token"
    )
    assert code == 0, chunks
    return chunks[0].get("link_pay_token")


def pay(world: World, token: str, amount: int, shop: Shop | None = None) -> Any:
    return (
        (shop or world.shop)
        .client(world.wallet)
        .v1.payment_intents.create(
            {
                "amount": amount,
                "currency": "usd",
                "confirm": True,
                "payment_method_data": {"type": "link_pay_token", "link_pay_token": token},
            }
        )
    )


def refused(world: World, token: str, amount: int, shop: Shop | None = None) -> Any:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay(world, token, amount, shop)
    assert caught.value.http_status == 400
    return caught.value


def test_the_merchant_is_resolved_and_the_token_redeems_exactly_once(world: World) -> None:
    account = world.shop.client(world.wallet).v1.accounts.retrieve_current()
    assert (account.id, account.business_profile.name) == (world.shop.id, SHOP_NAME)
    assert account.livemode is True
    created = create_lpt(world, 1850)
    assert created["status"] == "pending_approval"
    assert (created["merchant_name"], created["merchant_url"]) == (SHOP_NAME, SHOP_SITE)
    assert created["credential_type"] == "card"
    # Only the fields of contract §7.2: the merchant is told by its canonical name and URL.
    assert "execution_method" not in created and "merchant_account_id" not in created
    assert retrieve_token(world, created["id"]) is None  # nothing before approval

    page = approve_spend_request(world.person, created["approval_url"])
    assert SHOP_NAME in page.text and world.shop.id in page.text
    token = retrieve_token(world, created["id"])
    assert token.startswith("lpt_") and len(token) == 36

    intent = pay(world, token, 1850)
    assert (intent.status, intent.amount) == ("succeeded", 1850)
    again = refused(world, token, 1850)
    assert again.code == "link_pay_token_consumed"
    assert again.param == "payment_method_data[link_pay_token]"

    code, [spend] = world.agent.json(
        "spend-request", "retrieve", created["id"], "--include", "link_pay_token"
    )
    assert code == 0 and spend["status"] == "succeeded" and "link_pay_token" not in spend
    assert spend["payment_status_details"]["amount"] == 1850


def test_only_the_bound_merchant_in_live_mode_may_redeem(world: World) -> None:
    _, token = approved_token(world, 1200)
    for shop in (world.other_shop, world.test_shop):
        error = refused(world, token, 1200, shop)
        assert error.code == "resource_missing"  # as if it did not exist
        assert f"No such link_pay_token: '{token}'" == error.user_message
    assert pay(world, token, 1000).status == "succeeded"  # less than approved is fine


def test_more_than_approved_or_another_currency_burns_the_token(world: World) -> None:
    request_id, token = approved_token(world, 900)
    assert refused(world, token, 901).code == "amount_too_large"
    assert refused(world, token, 900).code == "link_pay_token_consumed"
    _, [spend] = world.agent.json("spend-request", "retrieve", request_id)
    assert spend["status"] == "failed"


def test_unknown_and_test_mode_merchant_accounts_are_refused_at_creation(world: World) -> None:
    for account, reason in (
        ("acct_" + secrets.token_hex(8), "no merchant with this account id is registered"),
        (world.test_shop.id, "test-mode merchant"),
    ):
        code, error = world.agent.json(
            "spend-request",
            "create",
            "--execution-method",
            "link_pay_token",
            "--merchant-account-id",
            account,
            "--amount",
            "700",
            "--context",
            CONTEXT,
        )
        assert code == 1 and error["code"] == "UNKNOWN", error
        assert error["message"].startswith("Failed to create spend request (400): ")
        assert reason in error["message"] and account in error["message"]


def test_a_token_lives_thirty_minutes_at_most(world: World) -> None:
    """Last in the module: it moves the wallet's clock."""
    request_id, token = approved_token(world, 600)
    world.wallet.advance_clock(30 * 60)
    assert refused(world, token, 600).code == "link_pay_token_expired"
    assert retrieve_token(world, request_id) is None
    _, [spend] = world.agent.json("spend-request", "retrieve", request_id)
    assert spend["status"] == "expired"
