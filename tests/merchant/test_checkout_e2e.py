"""A virtual card buys on the demo checkout exactly once (real wallet, real shop process,
plain HTTP form posts as a browser sends them); every other attempt is declined."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import DelegatedAgent, Merchant, delegated_agent, register_merchant
from tests.support.wallet import WalletProcess

COFFEE_PRICE = 1850  # catalog.py: "coffee"


@dataclass
class Shopper:
    """A browser session on the shop: fetches the form, posts it like a browser."""

    shop: ShopProcess

    def buy(self, item: str, card: dict, **changes: str) -> httpx2.Response:
        with httpx2.Client(base_url=self.shop.url, timeout=30, follow_redirects=True) as browser:
            page = browser.get(f"/checkout?item={item}")
            assert page.status_code == 200
            hidden = dict(
                re.findall(r'name="(csrf_token|order_ref|item)" value="([^"]*)"', page.text)
            )
            form = hidden | {
                "number": " ".join(re.findall(".{1,4}", card["number"])),  # as people type it
                "expiry": f"{int(card['exp_month']):02d}/{int(card['exp_year']) % 100:02d}",
                "cvc": card["cvc"],
                "name": "Jenny Rosen",
                "line1": "510 Townsend St",
                "city": "San Francisco",
                "state": "CA",
                "postal_code": "94103",
                "country": "US",
            }
            return browser.post("/checkout", data=form | changes)


@dataclass
class Checkout:
    wallet: WalletProcess
    merchant: Merchant
    agent: DelegatedAgent
    shopper: Shopper


@pytest.fixture(scope="module")
def checkout(wallet: WalletProcess) -> Iterator[Checkout]:
    merchant = register_merchant(wallet)
    with ShopProcess(
        wallet_url=wallet.url, secret_key=merchant.secret_key, network_id=merchant.network_id
    ) as shop:
        yield Checkout(wallet, merchant, delegated_agent(wallet), Shopper(shop))


def decline_code(response: httpx2.Response) -> str:
    match = re.search(r'id="payment-error" data-code="([^"]*)"', response.text)
    assert match, response.text[-1500:]
    return match.group(1)


def test_a_virtual_card_buys_exactly_once(checkout: Checkout) -> None:
    request_id, card = checkout.agent.approved_card(amount=COFFEE_PRICE)
    bought = checkout.shopper.buy("coffee", card)
    assert bought.status_code == 200, bought.text[-1500:]
    assert "order is confirmed" in bought.text and "$18.50" in bought.text
    assert f"•••• {card['number'][-4:]}" in bought.text
    assert card["number"] not in bought.text
    assert f'value="{card["cvc"]}"' not in bought.text
    spend = checkout.agent.retrieve(request_id)
    assert spend["status"] == "succeeded"
    assert spend["payment_status_details"]["amount"] == COFFEE_PRICE

    again = checkout.shopper.buy("coffee", card)
    assert again.status_code == 402
    assert decline_code(again) == "generic_decline"
    assert "Payment declined" in again.text and card["number"] not in again.text
    assert (
        checkout.agent.retrieve(request_id)["payment_status_details"]
        == (spend["payment_status_details"])
    )


def test_a_wrong_cvc_is_declined_and_the_card_still_works(checkout: Checkout) -> None:
    request_id, card = checkout.agent.approved_card(amount=COFFEE_PRICE)
    wrong = "000" if card["cvc"] != "000" else "111"
    declined = checkout.shopper.buy("coffee", card, cvc=wrong)
    # The wallet tells a merchant no more than "declined" (docs/security.md).
    assert declined.status_code == 402 and decline_code(declined) == "generic_decline"
    assert "Your card was declined." in declined.text
    assert checkout.agent.retrieve(request_id)["status"] == "approved"
    assert checkout.shopper.buy("coffee", card).status_code == 200


def test_an_item_above_the_approval_is_declined(checkout: Checkout) -> None:
    request_id, card = checkout.agent.approved_card(amount=1200)
    declined = checkout.shopper.buy("coffee", card)
    assert declined.status_code == 402 and decline_code(declined) == "invalid_amount"
    assert "$12.00" in declined.text  # the reason names the approved amount
    assert checkout.agent.retrieve(request_id)["status"] == "failed"


def test_an_expired_card_is_declined(make_wallet) -> None:
    wallet = make_wallet()
    merchant = register_merchant(wallet)
    agent = delegated_agent(wallet)
    _, card = agent.approved_card(amount=COFFEE_PRICE)
    with ShopProcess(
        wallet_url=wallet.url, secret_key=merchant.secret_key, network_id=merchant.network_id
    ) as shop:
        wallet.advance_clock(3 * 24 * 3600)  # past the card's valid_until
        declined = Shopper(shop).buy("coffee", card)
    # An expired card is the generic decline too; the agent sees the request expired.
    assert declined.status_code == 402 and decline_code(declined) == "generic_decline"
    assert "Your card was declined." in declined.text
