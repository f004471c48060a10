"""The wallet is down while the shop settles a 402 credential: the shop answers 503 and the
payer can retry with the very same credential once the wallet is back; it pays once.

The in-process tests cover the case the processes cannot stage reliably: the wallet did
settle, but its answer was lost; the retry's idempotent replay then serves the resource.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from tests.merchant.buyer import demo_shop
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import delegated_agent, register_merchant

from link_cli.merchant.checkout import Checkout
from link_cli.merchant.config import MerchantConfig
from link_cli.merchant.paid_api import PaidApi
from link_cli.merchant.settlement import Settled, WalletUnavailable
from link_cli.mpp.challenge import parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.methods.stripe import build_credential
from link_cli.mpp.problems import parse_problem
from link_cli.mpp.server import PaymentServer


def _kind(response: Any) -> str:
    return parse_problem(response.content if hasattr(response, "content") else response.body).type


def test_a_credential_refused_while_the_wallet_is_down_pays_once_when_it_is_back(
    make_wallet,
) -> None:
    wallet = make_wallet()
    agent = delegated_agent(wallet)
    with demo_shop(wallet) as (merchant, shop):
        request_id, spt = agent.approved_spt(merchant.network_id, amount=250)
        url = shop.url + "/api/forecast?city=Oslo"
        (challenge,) = parse_www_authenticate(httpx2.get(url).headers["www-authenticate"])
        paid = {"Authorization": format_authorization(build_credential(challenge, spt))}

        wallet.stop()
        down = httpx2.get(url, headers=paid, timeout=30)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"
        assert "www-authenticate" not in down.headers
        assert _kind(down).endswith("/internal-payment-error")
        assert "same credential" in parse_problem(down.content).detail
        assert "paid" not in down.text

        wallet._spawn()  # the same data directory and port: the wallet is back
        assert agent.retrieve(request_id)["status"] == "approved"
        again = httpx2.get(url, headers=paid, timeout=30)
        assert again.status_code == 200, again.text
        assert again.json()["paid"] is True and "payment-receipt" in again.headers
        assert agent.retrieve(request_id)["status"] == "succeeded"

        replay = httpx2.get(url, headers=paid, timeout=30)
        assert replay.status_code == 402
        assert _kind(replay).endswith("/invalid-challenge")


# --- in process: the wallet's answer was lost -----------------------------------------------


class FlakyWallet:
    """Answers `outcomes` in order: an exception to raise or a :class:`Settled`."""

    def __init__(self, *outcomes: Exception | Settled) -> None:
        self.outcomes = list(outcomes)
        self.keys: list[str] = []

    async def charge_spt(self, *, idempotency_key: str, **_: Any) -> Settled:
        self.keys.append(idempotency_key)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _api(wallet: FlakyWallet) -> PaidApi:
    config = MerchantConfig(
        wallet_url="http://127.0.0.1:9", secret_key="sk_test_x", network_id="profile_x"
    )
    server = PaymentServer(secret=b"s" * 32, realm=config.realm)
    return PaidApi(config, server, wallet)  # type: ignore[arg-type]


def _call(api: PaidApi, headers: Mapping[str, str] | None = None) -> Any:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/forecast",
        "query_string": b"city=Oslo",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    return asyncio.run(api.forecast(Request(scope, receive)))


def _credential(api: PaidApi) -> dict[str, str]:
    (challenge,) = parse_www_authenticate(_call(api).headers["www-authenticate"])
    return {"Authorization": format_authorization(build_credential(challenge, "spt_1"))}


SETTLED = {"id": "pi_1", "status": "succeeded"}


def test_an_interrupted_settlement_replayed_by_the_wallet_serves_the_resource() -> None:
    wallet = FlakyWallet(
        WalletUnavailable("the wallet could not be reached (ReadTimeout)"),
        Settled(payment_intent=SETTLED, replayed=True),
    )
    api = _api(wallet)
    paid = _credential(api)
    assert _call(api, paid).status_code == 503
    served = _call(api, paid)
    assert served.status_code == 200 and b'"paid":true' in served.body
    assert wallet.keys[0] == wallet.keys[1]  # the same idempotency key: charged once
    assert _call(api, paid).status_code == 402  # and now the challenge is spent


def test_a_replayed_settlement_that_was_never_interrupted_is_refused() -> None:
    wallet = FlakyWallet(Settled(payment_intent=SETTLED, replayed=True))
    api = _api(wallet)
    refused = _call(api, _credential(api))
    assert refused.status_code == 402
    assert _kind(refused).endswith("/verification-failed")


def test_a_shop_key_the_wallet_refuses_is_an_outage_not_the_payers_problem(make_wallet) -> None:
    wallet = make_wallet()
    merchant = register_merchant(wallet)
    wrong_key = merchant.secret_key[:-6] + "XXXXXX"
    with ShopProcess(
        wallet_url=wallet.url, secret_key=wrong_key, network_id=merchant.network_id
    ) as shop:
        url = shop.url + "/api/forecast"
        (challenge,) = parse_www_authenticate(httpx2.get(url).headers["www-authenticate"])
        credential = format_authorization(build_credential(challenge, "spt_x"))
        refused = httpx2.get(url, headers={"Authorization": credential}, timeout=30)
    assert refused.status_code == 503
    assert "API key" in refused.text and wrong_key[-4:] not in refused.text


# --- the card checkout -----------------------------------------------------------------------


class FlakyCardWallet:
    """Fails every card charge as given, remembering the idempotency keys it was sent."""

    def __init__(self, failure: WalletUnavailable) -> None:
        self.failure = failure
        self.keys: list[str] = []

    async def charge_card(self, *, idempotency_key: str, **_: Any) -> Settled:
        self.keys.append(idempotency_key)
        raise self.failure

    async def account(self) -> Any:
        raise self.failure  # the checkout then shows no agent block


@pytest.mark.parametrize(
    ("maybe_processed", "says"),
    [
        (True, "may have been charged; paying again will not charge it twice"),
        (False, "not charged"),
    ],
)
def test_a_checkout_interrupted_by_the_wallet_keeps_its_order_for_a_safe_retry(
    maybe_processed: bool, says: str
) -> None:
    config = MerchantConfig(
        wallet_url="http://127.0.0.1:9", secret_key="sk_test_x", network_id="profile_x"
    )
    wallet = FlakyCardWallet(
        WalletUnavailable("the wallet could not be reached", maybe_processed=maybe_processed)
    )
    checkout = Checkout(config, wallet)  # type: ignore[arg-type]
    app = Starlette(
        routes=[
            Route("/checkout", checkout.checkout_form, methods=["GET"]),
            Route("/checkout", checkout.place_order, methods=["POST"]),
        ]
    )

    async def shop() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://shop.test") as web:
            page = await web.get("/checkout?item=coffee")
            form = dict(
                re.findall(r'name="(csrf_token|order_ref|item)" value="([^"]*)"', page.text)
            )
            card = {"number": "4000000000003386", "expiry": "12/30", "cvc": "123"}
            address = {"name": "Ada Lovelace", "line1": "1 Main St", "country": "US"}
            first = await web.post("/checkout", data=form | card | address)
            retry_form = dict(
                re.findall(r'name="(csrf_token|order_ref|item)" value="([^"]*)"', first.text)
            )
            second = await web.post("/checkout", data=retry_form | card | address)
            return [first, second]

    first, second = asyncio.run(shop())
    assert first.status_code == second.status_code == 503
    assert says in first.text and "4000000000003386" not in first.text
    assert wallet.keys[0] == wallet.keys[1]  # the resubmitted form is the same order
