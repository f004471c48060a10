"""Adding a card in Chromium: per-field errors, secrets never echoed, then a saved card."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.support.person import Person
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def signed_in(page: Page, wallet: WalletProcess) -> Iterator[Person]:
    """A fresh person, signed in in ``page``."""
    someone = wallet.create_person()
    page.goto(f"{wallet.url}/signin")
    page.get_by_label("Email").fill(someone.email)
    page.get_by_label("Password").fill(someone.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your cards")).to_be_visible()
    yield someone
    someone.close()


def fill_card(page: Page, **values: str) -> None:
    labels = {
        "number": "Card number",
        "exp_month": "Month (MM)",
        "exp_year": "Year (YYYY)",
        "cvc": "CVC",
        "name": "Name on card",
        "line1": "Address",
        "city": "City",
        "state": "State",
        "postal_code": "ZIP / postal code",
        "country": "Country (2 letters)",
        "nickname": "Nickname (optional)",
    }
    for key, value in values.items():
        page.get_by_label(labels[key], exact=True).fill(value)


VALID = {
    "number": "5555 5555 5555 4444",
    "exp_month": "08",
    "exp_year": "2031",
    "cvc": "321",
    "name": "Jenny Rosen",
    "line1": "1 Market St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94105",
    "country": "US",
}


def test_invalid_fields_are_explained_one_by_one_and_secrets_are_not_echoed(
    page: Page, wallet: WalletProcess, signed_in: Person, screenshot: Screenshot
) -> None:
    page.get_by_role("link", name="Add a card").click()
    expect(page.get_by_role("heading", name="Add a card")).to_be_visible()
    screenshot(page, "empty-form")

    fill_card(
        page,
        **{
            **VALID,
            "number": "4242 4242 4242 4241",
            "exp_month": "13",
            "cvc": "12",
            "country": "USA",
        },
    )
    page.get_by_role("button", name="Save card").click()

    expect(page.get_by_role("alert")).to_contain_text("Please fix the highlighted fields")
    expect(page.locator("#err-number")).to_contain_text("not valid")
    expect(page.locator("#err-exp_month")).to_contain_text("1 to 12")
    expect(page.locator("#err-cvc")).to_contain_text("3 or 4 digit")
    expect(page.locator("#err-country")).to_contain_text("two-letter")
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    # What the person typed is kept, except the card number and the CVC.
    expect(page.get_by_label("Name on card")).to_have_value("Jenny Rosen")
    expect(page.get_by_label("Card number")).to_have_value("")
    expect(page.get_by_label("CVC")).to_have_value("")
    assert "4242 4242 4242 4241" not in page.content()
    screenshot(page, "errors")


def test_an_expired_card_is_refused(page: Page, wallet: WalletProcess, signed_in: Person) -> None:
    page.goto(f"{wallet.url}/wallet/cards/new")
    fill_card(page, **{**VALID, "exp_month": "01", "exp_year": "2020"})
    page.get_by_role("button", name="Save card").click()

    expect(page.locator("#err-exp_year")).to_contain_text("expired")


def test_a_valid_card_is_saved_and_listed(
    page: Page, wallet: WalletProcess, signed_in: Person, screenshot: Screenshot
) -> None:
    page.goto(f"{wallet.url}/wallet/cards/new")
    fill_card(page, **VALID, nickname="Travel card")
    page.get_by_role("button", name="Save card").click()

    expect(page).to_have_url(f"{wallet.url}/wallet?added=1")
    expect(page.get_by_role("status")).to_have_text("Card added.")
    new_card = page.locator("li.pm", has_text="•••• 4444")
    expect(new_card).to_contain_text("Mastercard")
    expect(new_card).to_contain_text("08/31")
    expect(new_card).to_contain_text("Travel card")
    screenshot(page, "saved")
