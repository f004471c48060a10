"""The spend-request approval page in Chromium: what the person sees, and what they decide."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.signing_in import open_signed_in
from tests.browser.spend_requests import (
    create_spend_request,
    report_attempt,
    retrieve_spend_request,
)
from tests.support.person import Person, wallet_tokens
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]


@dataclass
class Agent:
    """The person's connected agent: a token, and the spend request it created."""

    token: str
    request: dict[str, Any]

    def status(self, wallet: WalletProcess) -> str:
        return retrieve_spend_request(wallet.url, self.token, self.request["id"])["status"]


@pytest.fixture
def agent(wallet: WalletProcess, person: Person) -> Agent:
    token = wallet_tokens(wallet, person)["access_token"]
    created = create_spend_request(wallet.url, token)
    assert created["status"] == "pending_approval"
    return Agent(token=token, request=created)


def test_the_page_shows_merchant_amount_context_items_and_totals(
    page: Page, person: Person, agent: Agent, screenshot: Screenshot, console_errors: list[str]
) -> None:
    open_signed_in(page, person, agent.request["approval_url"])

    expect(page.get_by_role("heading", name="Trailhead Supply Co.")).to_be_visible()
    expect(page.get_by_text("https://trailhead.example/checkout?item=lantern")).to_be_visible()
    expect(page.locator(".amount")).to_contain_text("$63.00")
    expect(page.get_by_text("Restocking the person's camping kit")).to_be_visible()
    items = page.locator("tr", has_text="Camp lantern")
    expect(items).to_contain_text("$45.00")
    expect(page.locator("tr", has_text="Trail coffee 500 g")).to_contain_text("$18.00")
    expect(page.locator("tr", has_text="Subtotal")).to_contain_text("$63.00")
    expect(page.locator("tr", has_text="Shipping")).to_contain_text("$0.00")
    expect(page.locator("tr", has_text="Total").last).to_contain_text("$63.00")
    expect(page.get_by_text("Visa •••• 4242").or_(page.get_by_text("4242"))).to_be_visible()
    expect(page.get_by_role("button", name="Approve $63.00")).to_be_visible()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    # The amount is the largest text on the page, and the expiry countdown is live.
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.childElementCount === 0 && e.textContent.trim())
            .map(e => [e.textContent.trim(), parseFloat(getComputedStyle(e).fontSize)])"""
    )
    largest = max(sizes, key=lambda pair: pair[1])
    assert largest[0] == "$63.00", sizes
    expect(page.locator("#countdown-value")).to_have_text(re.compile(r"^\d+m \d+s$"))
    screenshot(page, "pending")
    assert [e for e in console_errors if "favicon" not in e] == []


def test_approving_issues_the_credential_and_says_so(
    page: Page, wallet: WalletProcess, person: Person, agent: Agent, screenshot: Screenshot
) -> None:
    open_signed_in(page, person, agent.request["approval_url"])

    page.get_by_role("button", name="Approve $63.00").click()

    expect(page.get_by_role("status")).to_have_text("Approved")
    expect(page.get_by_text("You approved this payment")).to_be_visible()
    expect(page.get_by_role("button", name="Approve $63.00")).to_have_count(0)
    screenshot(page, "approved")
    assert agent.status(wallet) == "approved"

    page.get_by_role("link", name="Go to your wallet").click()
    recent = page.locator("li", has_text="Trailhead Supply Co.")
    expect(recent).to_contain_text("$63.00")
    expect(recent).to_contain_text("Approved")
    screenshot(page, "wallet-recent")


def test_denying_refuses_the_agent(
    page: Page, wallet: WalletProcess, person: Person, agent: Agent, screenshot: Screenshot
) -> None:
    open_signed_in(page, person, agent.request["approval_url"])

    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_role("status")).to_have_text("Denied")
    expect(page.get_by_text("You denied this payment")).to_be_visible()
    screenshot(page, "denied")
    assert agent.status(wallet) == "denied"


def test_a_post_without_a_valid_csrf_token_is_refused(
    page: Page, wallet: WalletProcess, person: Person, agent: Agent, screenshot: Screenshot
) -> None:
    open_signed_in(page, person, agent.request["approval_url"])
    # Same session, same page, but the form's token is not one the wallet issued.
    approval_form = page.locator("form[action^='/approve/']")
    approval_form.locator("input[name=csrf_token]").evaluate("input => input.value = 'forged'")

    page.get_by_role("button", name="Approve $63.00").click()

    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    screenshot(page, "csrf-refused")
    assert agent.status(wallet) == "pending_approval"


def test_a_form_on_another_site_cannot_approve(
    page: Page, wallet: WalletProcess, person: Person, agent: Agent
) -> None:
    open_signed_in(page, person, agent.request["approval_url"])
    # A page from elsewhere that posts to the wallet while the person is signed in.
    page.set_content(
        f"""<form method="post" action="{agent.request["approval_url"]}">
              <input name="action" value="approve"><button>Win a prize</button></form>"""
    )

    page.get_by_role("button", name="Win a prize").click()

    expect(page.get_by_role("heading", name="Trailhead Supply Co.")).to_have_count(0)
    assert agent.status(wallet) == "pending_approval"


def test_another_person_cannot_see_the_request(
    page: Page, wallet: WalletProcess, agent: Agent
) -> None:
    stranger = wallet.create_person()
    try:
        page.goto(agent.request["approval_url"])
        page.get_by_label("Email").fill(stranger.email)
        page.get_by_label("Password").fill(stranger.password)
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", name="Trailhead Supply Co.")).to_have_count(0)
        expect(page.get_by_text("Restocking the person's camping kit")).to_have_count(0)
    finally:
        stranger.close()
    assert agent.status(wallet) == "pending_approval"


def test_the_page_reads_well_on_a_phone(
    browser: Browser, person: Person, agent: Agent, screenshot: Screenshot
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        open_signed_in(page, person, agent.request["approval_url"])

        expect(page.get_by_role("heading", name="Trailhead Supply Co.")).to_be_in_viewport()
        expect(page.locator(".amount")).to_be_in_viewport()
        # Nothing sticks out sideways: no horizontal scrolling on a 390 px screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for element in (
            "button:has-text('Deny')",
            "button:has-text('Approve')",
            ".context",
            "button:has-text('Sign out')",
        ):
            box = page.locator(element).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, element
        # The merchant's name is never squeezed into a narrow column and split mid-word.
        for element in ("h1", ".context"):
            width = page.locator(element).first.evaluate("e => e.getBoundingClientRect().width")
            assert width >= 280, (element, width)
        merchant_lines = page.get_by_role("heading", name="Trailhead Supply Co.").evaluate(
            "e => Math.round(e.getBoundingClientRect().height"
            " / parseFloat(getComputedStyle(e).lineHeight))"
        )
        assert merchant_lines == 1
        screenshot(page, "phone")
    finally:
        context.close()


def test_the_person_reads_what_the_agent_reported_on_the_page_and_in_recent_requests(
    page: Page, wallet: WalletProcess, person: Person, agent: Agent, screenshot: Screenshot
) -> None:
    report_attempt(
        wallet.url,
        agent.token,
        domain="trailhead.example",
        outcome="blocked",
        spend_request_id=agent.request["id"],
        tags=["captcha", "anti_bot_script"],
        step="payment page",
        freeform_context="<b>The shop showed a puzzle</b> the agent could not solve.",
    )
    open_signed_in(page, person, agent.request["approval_url"])
    reported = page.locator(".report")
    expect(reported).to_contain_text("The agent reported: blocked — captcha, anti bot script")
    expect(reported).to_contain_text("trailhead.example")
    expect(reported).to_contain_text("payment page")
    # Agent text is shown as text, never as markup.
    expect(reported).to_contain_text("<b>The shop showed a puzzle</b>")
    assert page.locator(".report b").count() == 0
    screenshot(page, "reported")

    page.goto(f"{wallet.url}/wallet")
    row = page.locator("li", has_text="Trailhead Supply Co.")
    expect(row).to_contain_text("The agent reported: blocked — captcha, anti bot script")
