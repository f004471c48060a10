"""The person's pages in a real Chromium at phone width: sign in, approve an agent, add a card.

A real browser sends its own ``Origin``/``Sec-Fetch-Site`` headers and obeys the referrer
policy, so this catches CSRF checks that reject the wallet's own forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.person import poll_device_token, start_device_login
from tests.support.wallet import WalletProcess

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def phone() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def test_approve_an_agent_and_add_a_card_in_a_browser(phone, wallet: WalletProcess) -> None:  # type: ignore[no-untyped-def]
    person = wallet.create_person()
    started = start_device_login(wallet, connection_label="Claude Code on jenny-mbp")
    context = phone.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(started["verification_uri_complete"])
        page.fill("input[name=email]", person.email)
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        assert "don't match" in page.inner_text(".alert")

        page.fill("input[name=password]", person.password)
        page.click("button[type=submit]")
        assert "Claude Code on jenny-mbp" in page.inner_text("h1")
        assert page.input_value("input[name=user_code]") == started["user_code"]
        page.click("button[value=approve]")
        assert "is connected" in page.inner_text("h1")
        assert poll_device_token(wallet, started["device_code"]).status_code == 200

        page.goto(f"{wallet.url}/wallet/cards/new")
        page.fill("input[name=number]", "4000 0566 5566 5556")
        page.fill("input[name=exp_month]", "04")
        page.fill("input[name=exp_year]", "2032")
        page.fill("input[name=cvc]", "999")
        page.fill("input[name=name]", "Jenny Rosen")
        page.fill("input[name=line1]", "1 Main St")
        page.click("button:has-text('Save card')")
        assert page.url.endswith("/wallet?added=1")
        assert "•••• 5556" in page.inner_text(".cards")
        # Nothing wider than the phone: no horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
