"""Opt-in: the stripe issuer against Stripe's own test mode (network required).

Runs when ``LINK_TEST_STRIPE_SECRET_KEY`` holds a test-mode secret key of an account with
Issuing and **no** real-time authorization endpoint configured (Stripe then decides by the
card's spending controls); skipped otherwise. A wallet process in stripe mode talks to
Stripe itself: it funds nothing, so the test tops up the Issuing balance first, then an agent
creates a ``test: true`` card request, the person approves it (the wallet creates the
cardholder and the card at Stripe), the agent retrieves the card (``expand``), and Stripe's
test helpers authorize and capture it. Stripe cannot reach a wallet on loopback, so the test
reads the resulting events back from ``GET /v1/events`` (authenticated by the key) and hands
them to the wallet's webhook, signed with the wallet's configured secret; the spend request
must end ``succeeded``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.approvals import approve_spend_request, card_body, new_agent
from tests.support.wallet import WalletProcess

KEY = os.environ.get("LINK_TEST_STRIPE_SECRET_KEY", "")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not KEY.startswith(("sk_test_", "rk_test_")),
        reason="LINK_TEST_STRIPE_SECRET_KEY is not set to a Stripe test-mode key (live suite)",
    ),
]
WEBHOOK_SECRET = "whsec_live_suite_" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def live_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    env = {
        "LINK_WALLET_ISSUER": "stripe",
        "LINK_WALLET_STRIPE_SECRET_KEY": KEY,
        "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
    }
    with WalletProcess.start(tmp_path_factory.mktemp("live-stripe"), env=env) as wallet:
        yield wallet


def _events_for(client: Any, kind: str, object_id: str) -> list[dict[str, Any]]:
    # StripeObject has no .get(): work on plain dicts.
    listed = client.v1.events.list({"type": kind, "limit": 20}).to_dict()
    return [e for e in listed["data"] if e["data"]["object"].get("id") == object_id]


def test_card_authorized_and_captured_in_test_mode_ends_succeeded(
    live_wallet: WalletProcess,
) -> None:
    import httpx2
    import stripe

    from link_cli.wallet.issuing.config import DEFAULT_STRIPE_API_VERSION
    from link_cli.wallet.issuing.stripe_events import signature_header

    client = stripe.StripeClient(KEY, stripe_version=DEFAULT_STRIPE_API_VERSION)
    client.v1.topups.create(
        {"amount": 5000, "currency": "usd", "destination_balance": "issuing"}  # type: ignore[typeddict-unknown-key]
    )
    agent = new_agent(live_wallet)
    body = card_body(
        test=True, amount=1234, merchant_name="Rocket Rides", merchant_url="https://rocketrides.io"
    )
    created = agent.create_ok(body)
    approve_spend_request(agent.person, created["approval_url"])
    spend = agent.retrieve(created["id"], include="card").json()
    assert spend["status"] == "approved", spend
    number = spend["card"]["number"]
    cards = client.v1.issuing.cards.list({"limit": 10}).to_dict()["data"]
    card = next(c for c in cards if c["metadata"].get("link_spend_request") == created["id"])
    assert card["status"] == "active" and card["last4"] == number[-4:]
    limits = card["spending_controls"]["spending_limits"]
    assert {(limit["interval"], limit["amount"]) for limit in limits} == {
        ("per_authorization", 1234),
        ("all_time", 1234),
    }

    auth = client.v1.test_helpers.issuing.authorizations.create(
        {
            "card": card["id"],
            "amount": 1234,
            "currency": "usd",
            "merchant_data": {"name": "Rocket Rides"},
        }  # type: ignore[typeddict-item]
    )
    assert auth.approved, auth.request_history
    client.v1.test_helpers.issuing.authorizations.capture(auth.id)
    transactions = client.v1.issuing.transactions.list({"card": card["id"]}).to_dict()["data"]
    assert [t["type"] for t in transactions] == ["capture"]

    events = _events_for(client, "issuing_authorization.created", auth.id)
    events += _events_for(client, "issuing_transaction.created", transactions[0]["id"])
    assert len(events) == 2, "Stripe has not listed the events yet; run again"
    for event in events:
        payload = json.dumps(event).encode()
        response = httpx2.post(
            f"{live_wallet.url}/issuing/stripe/webhook",
            content=payload,
            headers={"Stripe-Signature": signature_header(WEBHOOK_SECRET, payload)},
        )
        assert response.status_code == 200, response.text
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "succeeded"
    assert final["payment_status_details"]["amount"] == 1234
    # Single use: Stripe canceled it after the payment, or the wallet does now.
    assert client.v1.issuing.cards.retrieve(card["id"]).to_dict()["status"] in (
        "canceled",
        "active",
    )
