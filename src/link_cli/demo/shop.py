"""The demo shop as the agent sees it: web pages and one paid API, reached over HTTP.

The agent learns what it is buying by reading the checkout page (item name and total),
pays by filling in and posting the card form, and finds the 402 challenge by calling the
paid API. It never imports the shop's code: the pages are the contract (the ids
``item-name``, ``total[data-amount]``, ``payment-error`` and the form fields ``number``,
``expiry``, ``cvc`` and billing address of ``merchant/templates/checkout.html``).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from link_cli._sanitize import sanitize_text
from link_cli.demo.pages import FormBrowser, HttpPage
from link_cli.money import is_ascii_digits

__all__ = ["CheckoutPage", "DemoShop", "PaidApi", "ShopError"]

# The product the card flow buys, and the city whose forecast the SPT flow pays for.
CARD_FLOW_SKU = "lantern"
FORECAST_CITY = "Denver"


class ShopError(RuntimeError):
    """The shop did not answer as a shop should (no form, declined payment, no 402)."""


@dataclass(frozen=True)
class CheckoutPage:
    """What the checkout page says the agent is buying."""

    url: str
    item_name: str
    amount: int
    currency: str


@dataclass(frozen=True)
class PaidApi:
    """The machine-payable endpoint the SPT flow calls."""

    url: str
    method: str = "GET"
    body: str | None = None
    description: str = "Three-day trail forecast"


@dataclass(frozen=True)
class DemoShop:
    """The started demo shop: its base URL and display name."""

    base_url: str
    name: str
    currency: str = "usd"

    @property
    def checkout_url(self) -> str:
        """The checkout page of the card flow's product."""
        return f"{self.base_url}/checkout?item={CARD_FLOW_SKU}"

    @property
    def paid_api(self) -> PaidApi:
        """The forecast API, priced per call behind HTTP 402."""
        query = urllib.parse.urlencode({"city": FORECAST_CITY})
        return PaidApi(url=f"{self.base_url}/api/forecast?{query}")

    def read_checkout(self, browser: FormBrowser) -> CheckoutPage:
        """Open the checkout page and read the item and the total, as an agent would."""
        page = browser.get(self.checkout_url)
        if page.status != 200:
            raise ShopError(f"the checkout page answered HTTP {page.status}")
        found = page.elements()
        name = found.text.get("item-name", "").strip()
        raw_amount = found.attributes.get("total", {}).get("data-amount", "")
        if not name or not is_ascii_digits(raw_amount):
            raise ShopError("the checkout page shows no item and total")
        return CheckoutPage(
            url=self.checkout_url,
            item_name=sanitize_text(name),
            amount=int(raw_amount),
            currency=self.currency,
        )

    def pay_with_card(self, browser: FormBrowser, card: dict[str, Any]) -> str:
        """Fill in and post the checkout form with ``card``; returns the order line.

        ``card`` is the object ``spend-request retrieve --include card`` wrote (contract §7.2):
        number, cvc, expiry and the billing address the wallet issued it with.
        """
        page = browser.get(self.checkout_url)
        form = _checkout_form(page)
        billing = card.get("billing_address") or {}
        values = {
            "number": str(card["number"]),
            "expiry": f"{int(card['exp_month']):02d}/{int(card['exp_year']) % 100:02d}",
            "cvc": str(card.get("cvc", "")),
            "name": str(billing.get("name") or "Demo Person"),
            "line1": str(billing.get("line1") or ""),
            "line2": str(billing.get("line2") or ""),
            "city": str(billing.get("city") or ""),
            "state": str(billing.get("state") or ""),
            "postal_code": str(billing.get("postal_code") or ""),
            "country": str(billing.get("country") or "US"),
        }
        result = browser.submit(page, form, values)
        found = result.elements()
        if result.status != 200 or "order-id" not in found.text:
            reason = found.text.get("payment-error") or f"HTTP {result.status}"
            raise ShopError(f"the checkout refused the card: {sanitize_text(reason.strip())}")
        order = sanitize_text(found.text["order-id"].strip())
        charged = sanitize_text(found.text.get("charged", "").strip())
        return f"order {order}, charged {charged}"

    def probe_paid_api(self, browser: FormBrowser) -> str:
        """Call the paid API without paying; returns its ``WWW-Authenticate`` header."""
        api = self.paid_api
        body = api.body.encode() if api.body is not None else None
        answer = browser.request(api.url, method=api.method, body=body)
        if answer.status != 402:
            raise ShopError(f"the paid API answered HTTP {answer.status}, expected 402")
        header = answer.headers.get("www-authenticate")
        if not header:
            raise ShopError("the paid API answered 402 without a WWW-Authenticate header")
        return header


def _checkout_form(page: HttpPage) -> Any:
    if page.status != 200:
        raise ShopError(f"the checkout page answered HTTP {page.status}")
    try:
        return page.form_with("number", "expiry", "cvc")
    except LookupError as error:
        raise ShopError("the checkout page has no card form") from error
