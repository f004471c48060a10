"""A person manages their wallet in Chromium, at desktop and phone widths: disconnects an
agent, names, defaults and removes cards (confirming the cancelled credential), adds, edits and
removes shipping addresses, edits the profile, changes the password, filters the history and
downloads it as CSV. Screenshots of every page are kept under test-artifacts/."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.approvals import approve_spend_request, card_body, new_agent
from tests.support.wallet import DEFAULT_CARD, WalletProcess

Screenshot = Callable[[Page, str], Path]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_person_manages_agents_cards_addresses_profile_and_history(
    browser: Browser, wallet: WalletProcess, screenshot: Screenshot, device: str
) -> None:
    api = new_agent(wallet)
    person = api.person
    spare = wallet.store().add_card(
        person.email, {**DEFAULT_CARD, "number": "5555555555554444"}, shipping=False
    )
    approved = api.create_ok(card_body(merchant_name="Corner Books"))
    approve_spend_request(person, approved["approval_url"])
    api.create_ok(card_body(merchant_name="Tea House"))
    viewport = WIDTHS[device]
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        page.goto(f"{wallet.url}/signin?next=/wallet/agents")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Sign in").click()

        # Agents: one connected; disconnect it.
        expect(page.get_by_role("heading", name="Connected agents")).to_be_visible()
        expect(page.locator(".agents li")).to_have_count(1)
        expect(page.locator(".agents")).to_contain_text("Last used")
        screenshot(page, f"{device}-agents")
        _fits(page, viewport["width"])
        page.locator(".agents button", has_text="Disconnect").click()
        expect(page.get_by_role("status")).to_contain_text("Agent disconnected")
        expect(page.locator(".agents li")).to_have_count(0)
        assert api.client.get("/userinfo").status_code == 401

        # Cards: nickname the spare, make it default, remove the first (confirming).
        page.get_by_role("navigation", name="Manage").get_by_role("link", name="Cards").click()
        spare_row = page.locator(f"[data-card='{spare['id']}']")
        spare_row.get_by_label("Nickname").fill("Travel")
        spare_row.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Nickname saved")
        page.locator(f"[data-card='{spare['id']}']").get_by_role(
            "button", name="Make default"
        ).click()
        expect(page.locator(f"[data-card='{spare['id']}'] .tag")).to_have_text("Default")
        screenshot(page, f"{device}-cards")
        _fits(page, viewport["width"])
        page.locator(f"[data-card='{person.payment_method_id}']").get_by_role(
            "link", name="Remove"
        ).click()
        expect(page.get_by_role("alert")).to_contain_text(approved["id"])
        screenshot(page, f"{device}-card-remove-confirm")
        page.get_by_role("button", name="Cancel credentials and remove").click()
        expect(page.get_by_role("status")).to_contain_text("Card removed")
        expect(page.locator(".manage-cards li")).to_have_count(1)

        # Addresses: a bad one is explained, then added, edited, made default, removed.
        page.get_by_role("navigation", name="Manage").get_by_role("link", name="Addresses").click()
        page.get_by_role("link", name="Add an address").click()
        page.get_by_label("Full name").fill("Jo Doe")
        page.get_by_label("Address", exact=True).fill("9 Elm St")
        page.get_by_label("Country (2 letters)").fill("12")
        page.get_by_role("button", name="Save address").click()
        expect(page.locator(".field-error")).to_contain_text("two-letter")
        screenshot(page, f"{device}-address-error")
        page.get_by_label("Country (2 letters)").fill("US")
        page.get_by_label("City").fill("Austin")
        page.get_by_role("button", name="Save address").click()
        expect(page.get_by_role("status")).to_contain_text("Address added")
        row = page.locator(".addresses li", has_text="Jo Doe")
        row.get_by_role("link", name="Edit").click()
        page.get_by_label("Apartment, suite (optional)").fill("Suite 4")
        page.get_by_role("button", name="Save address").click()
        expect(page.locator(".addresses")).to_contain_text("9 Elm St, Suite 4, Austin")
        page.locator(".addresses li", has_text="Jo Doe").get_by_role(
            "button", name="Make default"
        ).click()
        expect(page.locator(".addresses li").first).to_contain_text("Jo Doe")
        screenshot(page, f"{device}-addresses")
        _fits(page, viewport["width"])
        page.locator(".addresses li", has_text="Jo Doe").get_by_role(
            "button", name="Remove"
        ).click()
        expect(page.get_by_role("status")).to_contain_text("Address removed")
        expect(page.locator(".addresses li")).to_have_count(1)

        # Profile and password.
        page.get_by_role("navigation", name="Manage").get_by_role("link", name="Profile").click()
        page.get_by_label("Name").fill("Jenny R.")
        page.get_by_label("Phone").fill("+1 555 0100")
        page.get_by_role("button", name="Save profile").click()
        expect(page.get_by_role("status")).to_contain_text("Profile saved")
        expect(page.get_by_label("Phone")).to_have_value("+1 555 0100")
        page.get_by_label("Current password").fill("not it")
        page.get_by_label("New password", exact=True).fill("another long secret")
        page.get_by_label("Repeat new password").fill("another long secret")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("alert")).to_contain_text("current password is not right")
        page.get_by_label("Current password").fill(person.password)
        page.get_by_label("New password", exact=True).fill("another long secret")
        page.get_by_label("Repeat new password").fill("another long secret")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_contain_text("Password changed")
        screenshot(page, f"{device}-profile")
        _fits(page, viewport["width"])

        # History: both requests, filter by status and merchant, download the filtered CSV.
        page.get_by_role("navigation", name="Manage").get_by_role("link", name="History").click()
        # Removing the card canceled both: the approved one and the one still pending.
        expect(page.locator("table.history tbody tr")).to_have_count(2)
        page.get_by_label("Status").select_option("canceled")
        page.get_by_label("Merchant").fill("corner")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("table.history tbody tr")).to_have_count(1)
        expect(page.locator("table.history")).to_contain_text("Corner Books")
        screenshot(page, f"{device}-history")
        _fits(page, viewport["width"])
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Export CSV").click()
        rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
        assert [(r["id"], r["status"]) for r in rows] == [(approved["id"], "canceled")]
    finally:
        context.close()
        api.close()
