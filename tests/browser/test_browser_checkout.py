"""The demo shop's checkout in Chromium, paid with a one-time card the wallet issued."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.browser.spend_requests import create_spend_request, retrieve_spend_request
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import register_merchant
from tests.support.approvals import approve_spend_request
from tests.support.person import wallet_tokens
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]
LANTERN_PRICE = 4500  # merchant/catalog.py: "lantern"


@dataclass
class IssuedCard:
    """An approved card spend request and the card the agent retrieved for it."""

    token: str
    request_id: str
    card: dict[str, Any]

    def status(self, wallet: WalletProcess) -> str:
        return retrieve_spend_request(wallet.url, self.token, self.request_id)["status"]


@pytest.fixture(scope="module")
def shop(wallet: WalletProcess) -> Iterator[ShopProcess]:
    merchant = register_merchant(wallet)
    with ShopProcess(
        wallet_url=wallet.url, secret_key=merchant.secret_key, network_id=merchant.network_id
    ) as process:
        yield process


@pytest.fixture
def issued(wallet: WalletProcess, shop: ShopProcess) -> Iterator[IssuedCard]:
    person = wallet.create_person()
    token = wallet_tokens(wallet, person)["access_token"]
    created = create_spend_request(
        wallet.url,
        token,
        amount=LANTERN_PRICE,
        merchant_url=f"{shop.url}/checkout?item=lantern",
        line_items=[{"name": "Camp lantern", "quantity": 1, "unit_amount": LANTERN_PRICE}],
        totals=[{"type": "total", "display_text": "Total", "amount": LANTERN_PRICE}],
    )
    approve_spend_request(person, created["approval_url"])
    import httpx2

    response = httpx2.get(
        f"{wallet.url}/spend_requests/{created['id']}",
        params={"include": "card"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    yield IssuedCard(token=token, request_id=created["id"], card=response.json()["card"])
    person.close()


def fill_checkout(page: Page, card: dict[str, Any], *, cvc: str | None = None) -> None:
    billing = card.get("billing_address") or {}
    page.get_by_label("Card number").fill(card["number"])
    page.get_by_label("Expiry (MM/YY)").fill(
        f"{int(card['exp_month']):02d}/{int(card['exp_year']) % 100:02d}"
    )
    page.get_by_label("CVC").fill(cvc if cvc is not None else card["cvc"])
    page.get_by_label("Name on card").fill(billing.get("name") or "Jenny Rosen")
    page.get_by_label("Address", exact=True).fill(billing.get("line1") or "510 Townsend St")
    page.get_by_label("City").fill(billing.get("city") or "San Francisco")
    page.get_by_label("State").fill(billing.get("state") or "CA")
    page.get_by_label("Postal code").fill(billing.get("postal_code") or "94103")
    page.get_by_label("Country").fill(billing.get("country") or "US")


def test_the_issued_card_pays_at_the_checkout(
    page: Page,
    wallet: WalletProcess,
    shop: ShopProcess,
    issued: IssuedCard,
    screenshot: Screenshot,
) -> None:
    page.goto(f"{shop.url}/checkout?item=lantern")
    expect(page.locator("#item-name")).to_have_text("Camp lantern")
    expect(page.locator("#total")).to_have_text("$45.00")
    fill_checkout(page, issued.card)
    screenshot(page, "filled")

    page.get_by_role("button", name="Pay $45.00").click()

    expect(page.get_by_role("heading", name="Thank you! Your order is confirmed.")).to_be_visible()
    expect(page.locator("#charged")).to_have_text("$45.00")
    expect(page.get_by_text(f"•••• {issued.card['number'][-4:]}")).to_be_visible()
    assert issued.card["number"] not in page.content()
    screenshot(page, "confirmed")
    assert issued.status(wallet) == "succeeded"


def test_a_wrong_cvc_is_declined_and_the_card_still_works_after(
    page: Page,
    wallet: WalletProcess,
    shop: ShopProcess,
    issued: IssuedCard,
    screenshot: Screenshot,
) -> None:
    wrong = "000" if issued.card["cvc"] != "000" else "111"
    page.goto(f"{shop.url}/checkout?item=lantern")
    fill_checkout(page, issued.card, cvc=wrong)

    page.get_by_role("button", name="Pay $45.00").click()

    error = page.get_by_role("alert")
    expect(error).to_contain_text("Payment declined")
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    # The shop never puts card data back into the page.
    expect(page.get_by_label("Card number")).to_have_value("")
    expect(page.get_by_label("CVC")).to_have_value("")
    screenshot(page, "declined")
    assert issued.status(wallet) == "approved"

    fill_checkout(page, issued.card)
    page.get_by_role("button", name="Pay $45.00").click()
    expect(page.get_by_role("heading", name="Thank you! Your order is confirmed.")).to_be_visible()
    assert issued.status(wallet) == "succeeded"


def test_an_agent_pays_with_a_link_pay_token_in_the_hidden_agent_block(
    page: Page, wallet: WalletProcess, shop: ShopProcess, screenshot: Screenshot
) -> None:
    page.goto(f"{shop.url}/checkout?item=lantern")
    block = page.locator(".AiAgentPaymentSteering")
    account = block.get_attribute("data-stripe-merchant-account")
    assert account is not None and account.startswith("acct_")
    expect(page.get_by_label("Link Pay Token")).to_be_hidden()

    person = wallet.create_person()
    token = wallet_tokens(wallet, person)["access_token"]
    created = create_spend_request(
        wallet.url,
        token,
        amount=LANTERN_PRICE,
        merchant_name=None,
        merchant_url=None,
        execution_method="link_pay_token",
        merchant_account_id=account,
        line_items=[{"name": "Camp lantern", "quantity": 1, "unit_amount": LANTERN_PRICE}],
        totals=[{"type": "total", "display_text": "Total", "amount": LANTERN_PRICE}],
    )
    approve_spend_request(person, created["approval_url"])
    import httpx2

    lpt = httpx2.get(
        f"{wallet.url}/spend_requests/{created['id']}",
        params={"include": "link_pay_token"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    ).json()["link_pay_token"]
    person.close()

    page.get_by_label("I am an AI agent").check()
    page.get_by_label("Link Pay Token").fill(lpt)
    screenshot(page, "agent-block")
    page.get_by_role("button", name="Pay $45.00 with Link").click()

    expect(page.get_by_role("heading", name="Thank you! Your order is confirmed.")).to_be_visible()
    expect(page.locator("#paid-with")).to_have_text("Link")
    screenshot(page, "confirmed-with-link")
    assert retrieve_spend_request(wallet.url, token, created["id"])["status"] == "succeeded"


def test_a_public_test_card_is_explained_and_the_shop_uses_its_registered_name(
    page: Page, shop: ShopProcess, screenshot: Screenshot
) -> None:
    page.goto(f"{shop.url}/checkout?item=lantern")
    # register_merchant registers the shop as "Test Shop"; the shop's default name differs.
    expect(page.locator(".brand")).to_have_text("Test Shop")
    fill_checkout(
        page, {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    )
    page.get_by_role("button", name="Pay $45.00").click()

    error = page.get_by_role("alert")
    expect(error).to_contain_text("public test card number")
    expect(error).to_contain_text("only the one-time virtual cards a Link wallet issues")
    expect(error).to_have_attribute("data-code", "public_test_card")
    expect(page.get_by_label("Card number")).to_have_value("")
    screenshot(page, "public-test-card")

    # A number the wallet never issued (not a published one) is declined by the wallet,
    # and the shop explains the same rule.
    fill_checkout(
        page, {"number": "4000 1234 5678 9010", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    )
    page.get_by_role("button", name="Pay $45.00").click()
    expect(page.get_by_role("alert")).to_contain_text("Payment declined")
    expect(page.get_by_role("alert")).to_contain_text("only the one-time virtual cards")
