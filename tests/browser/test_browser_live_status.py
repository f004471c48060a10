"""The approval page left open in Chromium follows the request: it shows a cancellation or
the expiry without a reload, and its buttons go away."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from tests.support.approvals import ApiAgent, new_agent
from tests.support.wallet import WalletProcess


@pytest.fixture
def agent(wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(wallet)
    yield created
    created.close()


def _watch_the_open_page(
    browser: Browser, agent: ApiAgent, change: Callable[[dict[str, Any]], None], shown: str
) -> None:
    """Open the approval page in Chromium, ``change`` the request, wait for the page to say
    ``shown`` and drop its buttons."""
    created = agent.create_ok()
    cookies = [
        {"name": c.name, "value": c.value, "url": agent.person.wallet.url}
        for c in agent.person.client.cookies.jar
    ]
    context = browser.new_context()
    try:
        context.add_cookies(cookies)  # type: ignore[arg-type]
        page = context.new_page()
        page.goto(created["approval_url"])
        expect(page.locator("#status-text")).to_have_text("Waiting for your approval")
        expect(page.locator("#countdown-value")).to_have_text(
            # About ten minutes left, whatever the exact second.
            re.compile(r"^(9m|10m) \d+s$")
        )
        change(created)
        # The page polls every 2 s; the bound only keeps a broken page from hanging.
        expect(page.locator("#status-text")).to_have_text(shown, timeout=30_000)
        assert page.locator("button[value=approve]").count() == 0
    finally:
        context.close()


def test_the_open_page_updates_itself_when_the_agent_cancels(
    browser: Browser, agent: ApiAgent
) -> None:
    _watch_the_open_page(
        browser, agent, lambda created: agent.cancel(created["id"]), "Canceled by the agent"
    )


def test_the_open_page_updates_itself_when_the_request_expires(  # type: ignore[no-untyped-def]
    browser: Browser, make_wallet
) -> None:
    wallet: WalletProcess = make_wallet()  # its own clock: moving it must not disturb others
    agent = new_agent(wallet)
    try:
        _watch_the_open_page(browser, agent, lambda _created: wallet.advance_clock(601), "Expired")
    finally:
        agent.close()
