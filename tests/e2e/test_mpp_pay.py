"""``link-cli mpp pay`` against the demo merchant, which settles at a real wallet.

Real processes only: ``link-wallet serve``, the demo shop (``python -m link_cli.merchant``)
and the ``link-cli`` agent, all on loopback. The person approves on the wallet's page.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from tests.merchant.buyer import Buyer, demo_shop, logged_in_buyer
from tests.merchant.shop_process import CHALLENGE_SECRET, ShopProcess
from tests.redemption.delegated import Merchant, register_merchant
from tests.support.agent import CONTEXT
from tests.support.approvals import approve_spend_request
from tests.support.wallet import WalletProcess

from link_cli.mpp import _wire, replace
from link_cli.mpp.challenge import Challenge, parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.methods.stripe import build_credential
from link_cli.mpp.problems import parse_problem
from link_cli.mpp.receipt import parse_payment_receipt
from link_cli.mpp.server import PaymentServer

FORECAST_PRICE = 250


@dataclass
class World(Buyer):
    merchant: Merchant
    shop: ShopProcess

    @property
    def forecast_url(self) -> str:
        return f"{self.shop.url}/api/forecast?city=Oslo"

    def pay(self, *args: str) -> tuple[int, Any]:
        return self.agent.json("mpp", "pay", *args)


@pytest.fixture(scope="module")
def world(wallet: WalletProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        logged_in_buyer(wallet, tmp_path_factory.mktemp("mpp-agent")) as buyer,
        demo_shop(wallet) as (merchant, shop),
    ):
        yield World(wallet, buyer.agent, buyer.person, merchant=merchant, shop=shop)


def a_challenge(world: World) -> Challenge:
    probe = httpx2.get(world.forecast_url, timeout=10)
    assert probe.status_code == 402
    (challenge,) = parse_www_authenticate(probe.headers["www-authenticate"])
    return challenge


def present(world: World, challenge: Challenge, spt: str) -> httpx2.Response:
    credential = format_authorization(build_credential(challenge, spt))
    return httpx2.get(world.forecast_url, headers={"Authorization": credential}, timeout=30)


def problem_type(response: httpx2.Response) -> str:
    return parse_problem(response.content).type.rsplit("/", 1)[-1]


def test_full_flow_then_pay_command_buys_the_forecast_once(world: World) -> None:
    code, chunks = world.pay(world.forecast_url, "--context", CONTEXT)
    assert code == 0, chunks
    [created] = chunks
    assert created["status"] == "pending_approval"
    assert (created["amount"], created["network_id"]) == (FORECAST_PRICE, world.merchant.network_id)

    approve_spend_request(world.person, created["approval_url"])
    pay_args = shlex.split(created["_next"]["pay_command"])
    assert pay_args[:2] == ["mpp", "pay"]
    code, paid = world.agent.json(*pay_args)
    assert code == 0, paid
    [result] = paid
    assert result["status"] == 200, result
    forecast = json.loads(result["body"])
    assert forecast["city"] == "Oslo" and forecast["paid"] is True
    receipt = parse_payment_receipt(result["headers"]["payment-receipt"])
    assert receipt.method == "stripe" and receipt.reference == forecast["payment_intent"]

    spend = world.spend_request(created["id"])
    assert spend["status"] == "succeeded"
    details = spend["payment_status_details"]
    assert (details["outcome"], details["amount"], details["currency"]) == (
        "success",
        FORECAST_PRICE,
        "usd",
    )
    intent = httpx2.get(
        f"{world.wallet.url}/v1/payment_intents/{receipt.reference}", headers=world.merchant.auth
    ).json()
    assert (intent["status"], intent["amount"]) == ("succeeded", FORECAST_PRICE)

    # The same command again: the CLI refuses a request that is no longer approved.
    code, again = world.agent.json(*pay_args)
    assert code == 1 and "must be approved" in again["message"]

    # The same SPT on a fresh challenge: the wallet refuses it; nothing changes twice.
    spt = world.spend_request(created["id"], "shared_payment_token")["shared_payment_token"]
    reused = present(world, a_challenge(world), spt["id"] if isinstance(spt, dict) else spt)
    assert reused.status_code == 402 and problem_type(reused) == "verification-failed"
    assert "shared_payment_token_consumed" in reused.text
    assert "paid" not in reused.text
    after = world.spend_request(created["id"])
    assert (after["status"], after["payment_status_details"]) == ("succeeded", details)


def test_pay_only_mode_pays_with_a_pre_approved_token(world: World) -> None:
    request_id, _ = world.approved_spt(network_id=world.merchant.network_id)
    code, paid = world.pay(world.forecast_url, "--spend-request-id", request_id)
    assert code == 0, paid
    assert paid[0]["status"] == 200 and "payment-receipt" in paid[0]["headers"]
    assert world.spend_request(request_id)["status"] == "succeeded"


def test_post_with_a_body_is_bound_by_its_digest_and_paid(world: World) -> None:
    request_id, _ = world.approved_spt(network_id=world.merchant.network_id)
    code, paid = world.pay(
        f"{world.shop.url}/api/forecast",
        "--spend-request-id",
        request_id,
        "-d",
        '{"city": "Kyoto"}',
    )
    assert code == 0, paid
    assert paid[0]["status"] == 200, paid
    assert json.loads(paid[0]["body"])["city"] == "Kyoto"


def test_a_token_for_another_seller_is_refused_and_stays_approved(world: World) -> None:
    other = register_merchant(world.wallet)
    request_id, spt = world.approved_spt(network_id=other.network_id)
    # link-cli itself will not hand this token to the wrong seller...
    code, out = world.pay(world.forecast_url, "--spend-request-id", request_id)
    assert code == 1 and "different seller" in out["message"]
    # ...and a client that does is refused by the wallet, leaving the token usable.
    refused = present(world, a_challenge(world), spt)
    assert refused.status_code == 402 and problem_type(refused) == "verification-failed"
    assert "resource_missing" in refused.text
    assert world.spend_request(request_id)["status"] == "approved"
    other_shop_key = httpx2.get(
        f"{world.wallet.url}/v1/shared_payment/granted_tokens/{spt}", headers=other.auth
    )
    assert other_shop_key.json()["deactivated_reason"] is None


def test_an_amount_above_the_approval_is_refused_and_fails_the_request(world: World) -> None:
    request_id, spt = world.approved_spt(network_id=world.merchant.network_id, amount=100)
    # link-cli will not send the token for more than the person approved...
    code, out = world.pay(world.forecast_url, "--spend-request-id", request_id)
    assert code == 1 and "more than the approved amount 100" in out["message"], out
    assert world.spend_request(request_id)["status"] == "approved"
    # ...and a client that does is refused by the wallet, which fails the request.
    refused = present(world, a_challenge(world), spt)
    assert refused.status_code == 402 and problem_type(refused) == "verification-failed"
    assert "amount_too_large" in refused.text and "paid" not in refused.text
    spend = world.spend_request(request_id)
    assert spend["status"] == "failed"
    assert spend["payment_status_details"]["outcome"] == "failure"
    assert spend["payment_status_details"]["code"] == "amount_too_large"


def test_an_expired_challenge_is_refused_and_the_token_survives(world: World) -> None:
    request_id, spt = world.approved_spt(network_id=world.merchant.network_id)
    fresh = a_challenge(world)
    stale = PaymentServer(
        secret=CHALLENGE_SECRET.encode(),
        realm=fresh.realm,
        clock=lambda: datetime.now(UTC) - timedelta(hours=1),
    ).issue(
        method="stripe",
        intent="charge",
        request=fresh.request_json(),
        description=fresh.description,
    )
    refused = present(world, stale, spt)
    assert refused.status_code == 402 and problem_type(refused) == "payment-expired"
    assert world.spend_request(request_id)["status"] == "approved"
    assert present(world, a_challenge(world), spt).status_code == 200


def test_a_tampered_credential_is_refused_and_the_token_survives(world: World) -> None:
    request_id, spt = world.approved_spt(network_id=world.merchant.network_id)
    challenge = a_challenge(world)
    cheaper = replace(
        challenge, request=_wire.encode_b64_json(challenge.request_json() | {"amount": "1"})
    )
    refused = present(world, cheaper, spt)
    assert refused.status_code == 402 and problem_type(refused) == "invalid-challenge"
    # A genuine credential answers once; its replay is refused by the shop.
    paid = present(world, challenge, spt)
    assert paid.status_code == 200
    replayed = present(world, challenge, spt)
    assert replayed.status_code == 402 and problem_type(replayed) == "invalid-challenge"
    assert world.spend_request(request_id)["status"] == "succeeded"
