"""Opt-in: the stripe issuer against Stripe's own test mode (network required).

Runs when ``LINK_TEST_STRIPE_SECRET_KEY`` holds a test-mode secret key of an account with
Issuing; skipped otherwise. It funds the test Issuing balance, issues a card through the
adapter, fetches its number, simulates an authorization and its capture with Stripe's test
helpers and checks Stripe's final state (one capture; the card canceled). The wallet's side of
the events is proven against the contract fake (test_stripe_issuing_e2e.py): Stripe cannot
reach a wallet on loopback.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from link_cli.wallet.domain.spend_request import CredentialType, SpendRequest, Status
from link_cli.wallet.issuing.base import FundingCard, Holder
from link_cli.wallet.issuing.config import issuer_settings_from_env

KEY = os.environ.get("LINK_TEST_STRIPE_SECRET_KEY", "")
pytestmark = pytest.mark.skipif(
    not KEY.startswith("sk_test_"),
    reason="LINK_TEST_STRIPE_SECRET_KEY is not set to a Stripe test-mode key (live suite)",
)


def test_card_authorization_and_capture_in_test_mode() -> None:
    import stripe

    from link_cli.wallet.issuing.stripe_issuing import StripeIssuer

    settings = issuer_settings_from_env(
        {
            "LINK_WALLET_ISSUER": "stripe",
            "LINK_WALLET_STRIPE_SECRET_KEY": KEY,
            "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": "whsec_live_suite_unused",
        }
    )
    issuer = StripeIssuer(settings)
    client = stripe.StripeClient(KEY, stripe_version=settings.api_version)
    client.v1.topups.create(
        {"amount": 5000, "currency": "usd", "destination_balance": "issuing"}  # type: ignore[typeddict-unknown-key]
    )
    now = datetime.now(UTC)
    request = SpendRequest(
        id=f"lsrq_live{int(now.timestamp())}",
        user_id="usr_live",
        status=Status.APPROVED,
        credential_type=CredentialType.CARD,
        amount=1234,
        currency="usd",
        context="live suite",
        payment_method_id="csmrpd_live",
        created_at=now,
        updated_at=now,
        approval_expires_at=now + timedelta(minutes=10),
        expires_at=now + timedelta(hours=1),
        merchant_name="Rocket Rides",
        merchant_url="https://rocketrides.io",
        test=True,
        valid_until=now + timedelta(hours=1),
    )
    funding = FundingCard(
        id="csmrpd_live",
        brand="visa",
        last4="4242",
        billing_address={
            "line1": "510 Townsend St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94103",
            "country": "US",
        },
    )
    holder = Holder(
        user_id="usr_live", email="live-suite@example.com", name="Jenny Rosen", phone=None
    )
    card = issuer.issue_card(request, funding, now, holder)
    assert card.issuer_ref and card.number is None
    secrets = issuer.reveal_card(card.issuer_ref)
    assert secrets.number.endswith(card.last4)
    auth = client.v1.test_helpers.issuing.authorizations.create(
        {
            "card": card.issuer_ref,
            "amount": 1234,
            "currency": "usd",
            "merchant_data": {"name": "Rocket Rides"},
        }  # type: ignore[typeddict-item]
    )
    client.v1.test_helpers.issuing.authorizations.capture(auth.id)
    transactions = client.v1.issuing.transactions.list({"card": card.issuer_ref})
    assert [t.type for t in transactions.data] == ["capture"]
    assert client.v1.issuing.cards.retrieve(card.issuer_ref).status in ("canceled", "active")
    issuer.cancel_card(card.issuer_ref)
    assert client.v1.issuing.cards.retrieve(card.issuer_ref).status == "canceled"
