"""A Link Pay Token approval in Chromium: the person sees the merchant account's registered
name (never a name the agent typed) and approves; the agent then gets the token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import httpx2
from playwright.sync_api import Page, expect
from tests.browser.spend_requests import create_spend_request
from tests.support.person import Person, wallet_tokens
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]


def test_the_person_sees_the_registered_merchant_and_approves(
    page: Page, wallet: WalletProcess, person: Person, screenshot: Screenshot
) -> None:
    name = f"Alpine Outfitters {secrets.token_hex(2)}"
    account = wallet.store().create_merchant(
        name, "profile_" + secrets.token_hex(6), livemode=True, url="https://alpine.example"
    )["id"]
    token = wallet_tokens(wallet, person)["access_token"]
    created = create_spend_request(
        wallet.url,
        token,
        execution_method="link_pay_token",
        merchant_account_id=account,
        merchant_name=None,
        merchant_url=None,
    )
    assert created["merchant_name"] == name

    page.goto(created["approval_url"])
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(created["approval_url"])

    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("https://alpine.example")).to_be_visible()
    expect(page.locator("#merchant-account")).to_contain_text(account)
    expect(page.get_by_text("one-time Link Pay Token")).to_be_visible()
    expect(page.locator(".amount")).to_contain_text("$63.00")
    screenshot(page, "pending")

    page.get_by_role("button", name="Approve $63.00").click()
    expect(page.get_by_role("status")).to_have_text("Approved")
    expect(page.get_by_text("You approved this payment")).to_be_visible()
    screenshot(page, "approved")

    shown = httpx2.get(
        f"{wallet.url}/spend_requests/{created['id']}",
        params={"include": "link_pay_token"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    ).json()
    assert shown["status"] == "approved" and shown["link_pay_token"].startswith("lpt_")
