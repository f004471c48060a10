"""Signing in through the wallet's own form, as a person does in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.support.person import Person


def open_signed_in(page: Page, person: Person, url: str) -> None:
    """Open ``url``; the wallet asks to sign in first and comes back."""
    page.goto(url)
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url)
