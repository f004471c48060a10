"""pympp 0.16.0 as a peer, both ways: ``link-cli mpp pay`` pays a pympp merchant whose
``stripe.StripeClient`` points at the wallet, and pympp's client pays our demo merchant."""

from __future__ import annotations

import asyncio
import json

import httpx2
from mpp.client import Mpp
from mpp.methods.stripe import client as stripe_client

from link_cli.mpp.challenge import parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.methods.stripe import build_credential
from link_cli.mpp.receipt import parse_payment_receipt


def test_link_cli_pays_a_pympp_merchant_settling_at_the_wallet(buyer, pympp_merchant) -> None:
    merchant, url = pympp_merchant
    request_id, spt = buyer.approved_spt(merchant.network_id, amount=250)
    code, out = buyer.agent.json("mpp", "pay", f"{url}/paid", "--spend-request-id", request_id)
    assert code == 0, out
    [result] = out
    assert result["status"] == 200, result
    receipt = parse_payment_receipt(result["headers"]["payment-receipt"])
    assert receipt.reference == json.loads(result["body"])["reference"]
    assert receipt.reference.startswith("pi_")
    assert buyer.status(request_id) == "succeeded"
    intent = httpx2.get(
        f"{buyer.wallet.url}/v1/payment_intents/{receipt.reference}", headers=merchant.auth
    ).json()
    assert intent["metadata"]["mpp_intent"] == "charge"  # what pympp put there

    # The spent token on a fresh pympp challenge: the wallet refuses, pympp answers 402.
    probe = httpx2.get(f"{url}/paid", timeout=10)
    (challenge,) = parse_www_authenticate(probe.headers["www-authenticate"])
    again = httpx2.get(
        f"{url}/paid",
        headers={"Authorization": format_authorization(build_credential(challenge, spt))},
        timeout=30,
    )
    assert again.status_code == 402
    assert buyer.status(request_id) == "succeeded"


def test_a_pympp_client_pays_the_demo_merchant(buyer, demo_shop) -> None:
    merchant, shop = demo_shop
    request_id, spt = buyer.approved_spt(merchant.network_id, amount=250)
    asked: list[tuple[str | None, str]] = []

    async def create_token(parameters) -> str:
        asked.append((parameters.network_id, parameters.amount))
        return spt

    async def pay() -> httpx2.Response:
        method = stripe_client.charge(create_token=create_token, payment_method="pm_interop")
        async with Mpp(methods=[method], allowed_origins=[shop.url]) as payer:
            return await payer.fetch(f"{shop.url}/api/forecast?city=Quito")

    response = asyncio.run(pay())
    assert response.status_code == 200, response.text
    assert response.json()["city"] == "Quito"
    assert asked == [(merchant.network_id, "250")]
    assert parse_payment_receipt(response.headers["payment-receipt"]).method == "stripe"
    assert buyer.status(request_id) == "succeeded"
