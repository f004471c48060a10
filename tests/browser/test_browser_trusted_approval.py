"""Approval pages a person can trust (issue 12, item 2), in Chromium at desktop and phone
widths: every payee by its registered name and site, a look-alike card site with its real
domain in bold, and the requesting agent's name and when it was connected."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.spend_requests import create_spend_request
from tests.support.person import Person, poll_device_token, start_device_login
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]
AGENT_NAME = "Claude Code on jenny-mbp"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@dataclass
class Requests:
    person: Person
    spt: dict[str, str]
    lpt: dict[str, str]
    card: dict[str, str]
    spt_name: str
    lpt_name: str
    lpt_account: str


@pytest.fixture(scope="module")
def requests(wallet: WalletProcess) -> Iterator[Requests]:
    """One person, one named agent connection, and one pending request of each kind."""
    person = wallet.create_person()
    started = start_device_login(wallet, connection_label=AGENT_NAME)
    person.approve_device(started["verification_uri_complete"])
    token = poll_device_token(wallet, started["device_code"]).json()["access_token"]
    suffix = secrets.token_hex(3)
    store = wallet.store()

    spt_name, network_id = f"Northwind Weather {suffix}", f"profile_nw{suffix}"
    store.create_merchant(spt_name, network_id, livemode=True, url="https://api.northwind.example")
    spt = create_spend_request(
        wallet.url,
        token,
        credential_type="shared_payment_token",
        network_id=network_id,
        merchant_name=None,
        merchant_url=None,
        amount=500,
        line_items=[],
        totals=[],
    )
    lpt_name = f"Alpine Outfitters {suffix}"
    account = store.create_merchant(
        lpt_name, f"profile_al{suffix}", livemode=True, url="https://shop.alpine.example"
    )["id"]
    lpt = create_spend_request(
        wallet.url,
        token,
        execution_method="link_pay_token",
        merchant_account_id=account,
        merchant_name=None,
        merchant_url=None,
    )
    card = create_spend_request(
        wallet.url,
        token,
        merchant_name="PayPal",
        merchant_url="https://paypal.com.evil.example/checkout?item=lantern",
    )
    yield Requests(person, spt, lpt, card, spt_name, lpt_name, account)
    person.close()


def signed_in_page(browser: Browser, wallet: WalletProcess, person: Person, width: str) -> Page:
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.goto(f"{wallet.url}/signin")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{wallet.url}/wallet")
    return page


def assert_agent_shown(page: Page) -> None:
    expect(page.locator("#agent-name")).to_have_text(AGENT_NAME)
    expect(page.locator("#agent-connected")).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")
    )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_each_payee_is_shown_as_registered_and_look_alike_domains_stand_out(
    browser: Browser,
    wallet: WalletProcess,
    requests: Requests,
    screenshot: Screenshot,
    width: str,
) -> None:
    page = signed_in_page(browser, wallet, requests.person, width)
    try:
        # SPT: the network id's registered merchant, never the raw id as the name.
        page.goto(requests.spt["approval_url"])
        expect(page.get_by_role("heading", name=requests.spt_name)).to_be_visible()
        expect(page.locator("#payee-source")).to_contain_text("Registered at this wallet")
        expect(page.get_by_text(requests.spt["network_id"])).to_be_visible()
        expect(page.locator("#payee-domain .site-domain")).to_have_text("northwind.example")
        assert_agent_shown(page)
        screenshot(page, f"spt-{width}")

        # LPT: the merchant account's registration.
        page.goto(requests.lpt["approval_url"])
        expect(page.get_by_role("heading", name=requests.lpt_name)).to_be_visible()
        expect(page.locator("#merchant-account")).to_contain_text(requests.lpt_account)
        expect(page.locator("#payee-domain .site-domain")).to_have_text("alpine.example")
        assert_agent_shown(page)
        screenshot(page, f"lpt-{width}")

        # Card: the agent's words, with the registrable domain of a look-alike in bold.
        page.goto(requests.card["approval_url"])
        expect(page.get_by_role("heading", name="PayPal")).to_be_visible()
        expect(page.locator("#payee-source")).to_contain_text("Named by your agent")
        site = page.locator("#payee-site")
        expect(site).to_have_text("https://paypal.com.evil.example/checkout?item=lantern")
        expect(site.locator(".site-domain")).to_have_text("evil.example")
        expect(site.locator(".site-muted").first).to_have_text("https://paypal.com.")
        expect(page.locator("#payee-domain")).to_have_text("Website: evil.example")
        bold = site.locator(".site-domain").evaluate("e => getComputedStyle(e).fontWeight")
        muted = site.locator(".site-muted").first.evaluate("e => getComputedStyle(e).color")
        assert int(bold) >= 700 and muted != site.locator(".site-domain").evaluate(
            "e => getComputedStyle(e).color"
        )
        assert_agent_shown(page)
        screenshot(page, f"card-look-alike-{width}")
        if width == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]["width"]
        # The wallet home's recent requests name each payee the same way.
        page.goto(f"{wallet.url}/wallet")
        expect(page.get_by_text(requests.spt_name)).to_be_visible()
        expect(page.get_by_text(requests.spt["network_id"])).to_have_count(0)
    finally:
        page.context.close()
