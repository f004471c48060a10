"""Signing in to the wallet, in Chromium: the happy path, a wrong password, and throttling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.support.person import Person
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]


def fill_sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_opens_the_wallet_with_the_persons_cards(
    page: Page, wallet: WalletProcess, person: Person, screenshot: Screenshot
) -> None:
    page.goto(f"{wallet.url}/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "signin")

    fill_sign_in(page, person.email, person.password)

    expect(page).to_have_url(f"{wallet.url}/wallet")
    expect(page.get_by_role("heading", name="Your cards")).to_be_visible()
    expect(page.get_by_text("•••• 4242")).to_be_visible()
    expect(page.get_by_text(person.email)).to_be_visible()
    screenshot(page, "wallet")


def test_a_wrong_password_is_refused_and_opens_no_session(
    page: Page, wallet: WalletProcess, person: Person, screenshot: Screenshot
) -> None:
    page.goto(f"{wallet.url}/signin")
    fill_sign_in(page, person.email, "not the password")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("don't match")
    expect(page).to_have_url(f"{wallet.url}/signin")
    # The email is kept so the person only retypes the password.
    expect(page.get_by_label("Email")).to_have_value(person.email)
    screenshot(page, "wrong-password")

    page.goto(f"{wallet.url}/wallet")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_repeated_wrong_passwords_lock_the_email_even_for_the_right_one(
    page: Page, wallet: WalletProcess, person: Person, screenshot: Screenshot
) -> None:
    page.goto(f"{wallet.url}/signin")
    for _ in range(5):
        fill_sign_in(page, person.email, "guess")
        expect(page.get_by_role("alert")).to_contain_text("don't match")

    fill_sign_in(page, person.email, person.password)

    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-in attempts")
    expect(page).to_have_url(f"{wallet.url}/signin")
    screenshot(page, "throttled")
    page.goto(f"{wallet.url}/wallet")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_signing_in_returns_to_the_page_that_asked_for_it(
    page: Page, wallet: WalletProcess, person: Person
) -> None:
    page.goto(f"{wallet.url}/wallet/cards/new")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    fill_sign_in(page, person.email, person.password)

    expect(page).to_have_url(f"{wallet.url}/wallet/cards/new")


def test_sign_out_ends_the_session(page: Page, wallet: WalletProcess, person: Person) -> None:
    page.goto(f"{wallet.url}/signin")
    fill_sign_in(page, person.email, person.password)
    expect(page).to_have_url(f"{wallet.url}/wallet")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{wallet.url}/wallet")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
