"""The person's pages in a real Chromium at phone width: sign in, approve an agent, add a card.

A real browser sends its own ``Origin``/``Sec-Fetch-Site`` headers and obeys the referrer
policy, so this catches CSRF checks that reject the wallet's own forms.
"""

from __future__ import annotations

from playwright.sync_api import Browser
from tests.support.person import poll_device_token, start_device_login
from tests.support.wallet import WalletProcess


def test_approve_an_agent_and_add_a_card_in_a_browser(
    browser: Browser, wallet: WalletProcess
) -> None:
    person = wallet.create_person()
    started = start_device_login(wallet, connection_label="Claude Code on jenny-mbp")
    context = browser.new_context(viewport={"width": 390, "height": 844})
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
