"""Authorized User Terms end to end: a wallet in stripe mode with
``LINK_WALLET_STRIPE_USER_TERMS_URL`` set, against the contract fake. The person's first card
needs the box on the approval page; the acceptance reaches Stripe with the cardholder; paths
without the page (delegated approval, a spending policy) never ask Stripe for a card first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.approvals import (
    ApiAgent,
    approval_path,
    approve_spend_request,
    card_body,
    deny_spend_request,
    new_agent,
)
from tests.support.stripe_fake import FakeStripe, running_fake, stripe_env
from tests.support.wallet import WalletProcess

from link_cli.demo.pages import elements_by_id

pytestmark = pytest.mark.server

TERMS_URL = "https://bank.example/authorized-user-terms"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) TermsTest/1.0"
ROCKET = {"test": True, "merchant_name": "Rocket Rides", "merchant_url": "https://rocketrides.io/"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with running_fake() as fake:
        yield fake


@pytest.fixture(scope="module")
def wallet(fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    env = {**stripe_env(fake), "LINK_WALLET_STRIPE_USER_TERMS_URL": TERMS_URL}
    with WalletProcess.start(tmp_path_factory.mktemp("stripe-terms"), env=env) as process:
        fake.webhook_url = f"{process.url}/issuing/stripe/webhook"
        yield process


def _card_of(fake: FakeStripe, request_id: str) -> dict | None:
    return next(
        (c for c in fake.cards.values() if c["metadata"].get("link_spend_request") == request_id),
        None,
    )


def _status(agent: ApiAgent, request_id: str) -> str:
    return str(agent.retrieve(request_id).json()["status"])


def test_the_first_card_needs_the_box_and_stripe_gets_the_acceptance(
    fake: FakeStripe, wallet: WalletProcess
) -> None:
    # The wallet's clock runs ahead of the machine's: the acceptance carries the wallet's.
    start = wallet.advance_clock(900)
    agent = new_agent(wallet)
    person = agent.person
    person.client.headers["user-agent"] = USER_AGENT
    if not person.is_signed_in():
        person.sign_in()
    first = agent.create_ok(card_body(amount=1200, **ROCKET))
    path = approval_path(first["approval_url"])

    page, form = person.get_form(path, action=path)
    found = elements_by_id(page.text)
    box = found.attributes["accept-terms"]
    assert box["type"] == "checkbox" and box["name"] == "accept_terms" and "required" in box
    link = found.attributes["terms-link"]
    assert (link["href"], link["target"], link["rel"]) == (TERMS_URL, "_blank", "noopener")
    assert " ".join(found.text["terms"].split()) == (
        "I accept the Authorized User Terms of the bank that issues these cards"
    )

    holders = len(fake.cardholders)
    refused = person.client.post(path, data={**form.fields, "action": "approve"})
    assert refused.status_code == 400
    assert "Authorized User Terms" in elements_by_id(refused.text).text.get("approval", "")
    assert _status(agent, first["id"]) == "pending_approval"
    assert len(fake.cardholders) == holders and _card_of(fake, first["id"]) is None

    _, form = person.get_form(path, action=path)
    ticked = {**form.fields, "action": "approve", "accept_terms": "yes"}
    approved = person.client.post(path, data=ticked)
    end = wallet.advance_clock(0)
    assert approved.status_code == 200 and _status(agent, first["id"]) == "approved"
    card = _card_of(fake, first["id"])
    assert card is not None
    acceptance = fake.cardholders[card["cardholder"]]["individual"]["card_issuing"][
        "user_terms_acceptance"
    ]
    assert start <= int(acceptance["date"]) <= end
    assert (acceptance["ip"], acceptance["user_agent"]) == ("127.0.0.1", USER_AGENT)

    # Accepted once: the next request's page has no box, and approving it needs none.
    second = agent.create_ok(card_body(amount=800, **ROCKET))
    assert (
        'name="accept_terms"' not in person.client.get(approval_path(second["approval_url"])).text
    )
    approve_spend_request(person, second["approval_url"])
    assert _status(agent, second["id"]) == "approved"


def test_no_card_is_asked_for_before_the_person_accepted_on_the_page(
    fake: FakeStripe, wallet: WalletProcess
) -> None:
    agent = new_agent(
        wallet,
        scope="userinfo:read payment_methods.agentic spend_requests:approve",
        grant_approve_scope=True,
    )
    person = agent.person
    wallet.store().create_policy(person.email, name="Rides", max_amount=5000)
    cards = len(fake.cards)

    # Delegated approval cannot show the box: refused, nothing created.
    delegated = agent.create(
        card_body(
            amount=500,
            approval_details={
                "approved_at": 1,
                "approval_method": "programmatic",
                "app_name": "Shopping Assistant",
                "external_user_id": "user-42",
            },
            **ROCKET,
        ),
        delegated=True,
    )
    assert delegated.status_code == 400, delegated.text
    assert delegated.json()["error"]["code"] == "issuing_terms_required"
    # The policy covers the request, but the person is asked (and may deny without the box);
    # the policies' dry run says so too.
    assert "Rule: issuing_terms" in _dry_run(agent)
    asked = agent.create_ok(card_body(amount=600, **ROCKET))
    assert asked["status"] == "pending_approval"
    deny_spend_request(person, asked["approval_url"])
    assert _status(agent, asked["id"]) == "denied"
    assert len(fake.cards) == cards
    assert [r["id"] for r in agent.list(include_history=True)] == [asked["id"]]

    # Once accepted on the page, the same policy approves at once.
    pending = agent.create_ok(card_body(amount=700, **ROCKET))
    assert pending["status"] == "pending_approval"
    path = approval_path(pending["approval_url"])
    response = person.submit_form(path, {"action": "approve", "accept_terms": "yes"}, action=path)
    assert response.status_code == 200 and _status(agent, pending["id"]) == "approved"
    assert "Rule: all_conditions" in _dry_run(agent)
    assert agent.create_ok(card_body(amount=900, **ROCKET))["status"] == "approved"


def _dry_run(agent: ApiAgent) -> str:
    if not agent.person.is_signed_in():
        agent.person.sign_in()
    query = {"amount": "6.00", "currency": "usd", "credential_type": "card", "test": "true"}
    page = agent.person.client.get("/wallet/policies/dry-run", params=query)
    assert page.status_code == 200
    return page.text
