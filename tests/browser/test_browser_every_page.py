"""Every page a person opens, in Chromium at desktop and phone widths: each one loads, reads
without sideways scrolling, and is kept as a screenshot under test-artifacts/.

The journeys through these pages (signing in, approving, managing, notifications) have their
own tests; this one makes sure no page is left unseen at either width.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.approvals import card_body, new_agent
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SIGNED_IN_PAGES = (
    "/wallet",
    "/wallet/cards/new",
    "/wallet/cards",
    "/wallet/addresses",
    "/wallet/agents",
    "/wallet/history",
    "/wallet/transactions",
    "/wallet/notifications",
    "/wallet/profile",
    "/wallet/policies",
    "/wallet/policies/dry-run?amount=12.00&merchant_url=https%3A%2F%2Fshop.example%2F",
)


def _slug(path: str) -> str:
    return path.split("?")[0].strip("/").replace("/", "-") or "root"


@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_page_loads_and_fits_the_screen(
    browser: Browser, wallet: WalletProcess, screenshot: Screenshot, device: str
) -> None:
    agent = new_agent(wallet)
    person = agent.person
    pending = agent.create_ok(card_body(merchant_name="Lantern Shop"))
    policy = wallet.store().create_policy(
        person.email, name="Small shop", max_amount=2000, merchants=["shop.example"]
    )
    viewport = WIDTHS[device]
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()

    def visit(path: str, name: str) -> None:
        response = page.goto(f"{wallet.url}{path}")
        assert response is not None and response.status == 200, (path, response)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
        screenshot(page, f"{device}-{name}")

    try:
        visit("/signin", "signin")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{wallet.url}/wallet")
        for path in SIGNED_IN_PAGES:
            visit(path, _slug(path))
        visit(f"/wallet/policies/{policy['id']}", "policy-edit")
        visit(f"/approve/{pending['id']}", "approval")
        expect(page.get_by_role("button", name="Approve $50.00")).to_be_visible()
        visit("/device/setup", "device-phrase")
    finally:
        context.close()
