"""Pages left open in Chromium follow the requests live (docs/long-poll.md): the approval page
shows a cancellation or the expiry as it happens, and its buttons go away; the wallet home
shows a new request and a decision without being reloaded.

Live, not on a timer: each change is made while the wallet holds the page's long-poll (its
held count says so), and the answer that brings it says ``Preference-Applied``. No test
sleeps: Playwright's ``expect`` waits for the DOM change.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, BrowserContext, Response, expect
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.wallet import WalletProcess

# Bounds only keep a broken page from hanging; a live page answers in well under a second.
BOUND_MS = 30_000


@pytest.fixture
def agent(wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(wallet)
    yield created
    created.close()


def _held(wallet: WalletProcess) -> int:
    return int(httpx2.get(f"{wallet.url}/__test__/long_poll", timeout=10).json()["held"])


def _until_held_more_than(wallet: WalletProcess, count: int) -> None:
    for _ in range(3000):
        if _held(wallet) > count:
            return
        time.sleep(0.01)
    raise AssertionError("the page's long-poll was never held")


def _signed_in_context(browser: Browser, agent: ApiAgent) -> BrowserContext:
    cookies = [
        {"name": c.name, "value": c.value, "url": agent.person.wallet.url}
        for c in agent.person.client.cookies.jar
    ]
    context = browser.new_context()
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context


def _watch_the_open_page(
    browser: Browser,
    agent: ApiAgent,
    wallet: WalletProcess,
    change: Callable[[dict[str, Any]], None],
    shown: str,
) -> None:
    """Open the approval page, ``change`` the request while the page's long-poll is held,
    wait for the page to say ``shown`` and drop its buttons."""
    created = agent.create_ok()
    context = _signed_in_context(browser, agent)
    answers: list[Response] = []
    try:
        page = context.new_page()
        page.on("response", lambda r: answers.append(r) if "/status" in r.url else None)
        before = _held(wallet)
        page.goto(created["approval_url"])
        expect(page.locator("#status-text")).to_have_text("Waiting for your approval")
        expect(page.locator("#countdown-value")).to_have_text(
            # About ten minutes left, whatever the exact second.
            re.compile(r"^(9m|10m) \d+s$")
        )
        _until_held_more_than(wallet, before)
        change(created)
        expect(page.locator("#status-text")).to_have_text(shown, timeout=BOUND_MS)
        assert page.locator("button[value=approve]").count() == 0
        # The answer that brought the change was the held one, woken by it.
        assert answers and answers[0].headers.get("preference-applied") == "wait=25"
        assert answers[0].request.headers.get("prefer") == "wait=25"
    finally:
        context.close()


def test_the_open_page_updates_itself_when_the_agent_cancels(
    browser: Browser, agent: ApiAgent, wallet: WalletProcess
) -> None:
    _watch_the_open_page(
        browser,
        agent,
        wallet,
        lambda created: agent.cancel(created["id"]),
        "Canceled by the agent",
    )


def test_the_open_page_updates_itself_when_the_request_expires(  # type: ignore[no-untyped-def]
    browser: Browser, make_wallet
) -> None:
    wallet: WalletProcess = make_wallet()  # its own clock: moving it must not disturb others
    agent = new_agent(wallet)
    try:
        _watch_the_open_page(
            browser, agent, wallet, lambda _created: wallet.advance_clock(601), "Expired"
        )
    finally:
        agent.close()


def test_the_wallet_home_shows_new_requests_and_decisions_without_a_reload(
    browser: Browser, agent: ApiAgent, wallet: WalletProcess
) -> None:
    context = _signed_in_context(browser, agent)
    try:
        page = context.new_page()
        before = _held(wallet)
        page.goto(f"{wallet.url}/wallet")
        page.evaluate("window.__sameDocument = true")  # a reload would drop it
        recent = page.locator('[data-live-section="recent-requests"]')
        expect(recent).to_contain_text("No spend requests yet")

        _until_held_more_than(wallet, before)
        created = agent.create_ok(card_body(merchant_name="Live Bakery"))
        row = recent.locator("li", has_text="Live Bakery")
        expect(row).to_contain_text("Waiting for your approval", timeout=BOUND_MS)

        _until_held_more_than(wallet, before)
        approve_spend_request(agent.person, created["approval_url"])
        expect(row).to_contain_text("Approved", timeout=BOUND_MS)
        assert page.evaluate("window.__sameDocument") is True
    finally:
        context.close()
