"""The card program's Authorized User Terms on the approval page, in Chromium.

A wallet in stripe mode (against the contract fake) with ``LINK_WALLET_STRIPE_USER_TERMS_URL``
set: until the person has accepted once, approving a card needs the box ticked; denying never
does; the acceptance Stripe receives carries this browser's User-Agent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.browser.signing_in import open_signed_in
from tests.browser.spend_requests import create_spend_request, retrieve_spend_request
from tests.support.person import Person, wallet_tokens
from tests.support.stripe_fake import FakeStripe, running_fake, stripe_env
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server

TERMS_URL = "https://bank.example/authorized-user-terms"
BOX_LABEL = "I accept the Authorized User Terms of the bank that issues these cards"
RIDES = "https://rocketrides.io/"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with running_fake() as fake:
        yield fake


@pytest.fixture(scope="module")
def wallet(fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """This module's wallet (the `person` fixture's too): stripe mode, terms required."""
    env = {**stripe_env(fake), "LINK_WALLET_STRIPE_USER_TERMS_URL": TERMS_URL}
    with WalletProcess.start(tmp_path_factory.mktemp("browser-terms"), env=env) as process:
        fake.webhook_url = f"{process.url}/issuing/stripe/webhook"
        yield process


def test_the_box_is_needed_once_to_approve_and_never_to_deny(
    page: Page,
    person: Person,
    wallet: WalletProcess,
    fake: FakeStripe,
    screenshot: Callable[[Page, str], Path],
    console_errors: list[str],
) -> None:
    token = wallet_tokens(wallet, person)["access_token"]

    def request(name: str) -> dict:
        return create_spend_request(
            wallet.url, token, test=True, merchant_name=name, merchant_url=RIDES
        )

    def status(created: dict) -> str:
        return str(retrieve_spend_request(wallet.url, token, created["id"])["status"])

    unwanted = request("Rocket Rides: night ride")
    open_signed_in(page, person, unwanted["approval_url"])
    expect(page.get_by_label(BOX_LABEL)).to_be_visible()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("You denied this payment.")).to_be_visible()
    assert status(unwanted) == "denied"

    wanted = request("Rocket Rides: airport")
    page.goto(wanted["approval_url"])
    box = page.get_by_label(BOX_LABEL)
    expect(box).not_to_be_checked()
    terms = page.get_by_role("link", name="Authorized User Terms")
    expect(terms).to_have_attribute("href", TERMS_URL)
    expect(terms).to_have_attribute("target", "_blank")
    screenshot(page, "terms-box")
    approve = page.get_by_role("button", name=re.compile(r"^Approve "))
    approve.click()
    # The browser itself keeps the form: the required box is reported missing, no request.
    assert box.evaluate("element => element.validity.valueMissing") is True
    expect(page).to_have_url(wanted["approval_url"])
    assert status(wanted) == "pending_approval"

    box.check()
    approve.click()
    expect(page.get_by_text("You approved this payment.")).to_be_visible()
    assert status(wanted) == "approved"
    user_agent = page.evaluate("() => navigator.userAgent")
    [holder] = [h for h in fake.cardholders.values() if h["email"] == person.email]
    accepted = holder["individual"]["card_issuing"]["user_terms_acceptance"]
    assert (accepted["ip"], accepted["user_agent"]) == ("127.0.0.1", user_agent[:255])

    again = request("Rocket Rides: home")
    page.goto(again["approval_url"])
    expect(page.get_by_role("button", name=re.compile(r"^Approve "))).to_be_visible()
    expect(page.get_by_label(BOX_LABEL)).to_have_count(0)
    assert [e for e in console_errors if "favicon" not in e] == []
