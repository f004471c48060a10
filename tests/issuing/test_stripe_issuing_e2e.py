"""The agent journey with the stripe issuer, end to end with real processes: a wallet in
``LINK_WALLET_ISSUER=stripe`` mode pointed (base address) at the contract fake, which plays
Stripe and the card network and calls the wallet's signed webhook."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.approvals import (
    ApiAgent,
    approve_spend_request,
    card_body,
    new_agent,
    spt_body,
)
from tests.support.stripe_fake import PREVIEW_API_VERSION, FakeStripe, running_fake, stripe_env
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server

# Read before the suite's autouse fixture clears LINK_* variables for each test.
_POSTGRES_URL = os.environ.get("LINK_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with running_fake() as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe_wallet(
    fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WalletProcess]:
    # With the issued-token preview on, so the card and the SPT journeys share one process.
    with WalletProcess.start(
        tmp_path_factory.mktemp("stripe-wallet"), env=stripe_env(fake, issued_tokens=True)
    ) as wallet:
        fake.webhook_url = f"{wallet.url}/issuing/stripe/webhook"
        yield wallet


def _approved_card(wallet: WalletProcess, **overrides: object) -> tuple[ApiAgent, dict, dict]:
    agent = new_agent(wallet)
    body = card_body(
        test=True,
        merchant_name="Rocket Rides",
        merchant_url="https://rocketrides.io/cart",
        **overrides,
    )
    created = agent.create_ok(body)
    approve_spend_request(agent.person, created["approval_url"])
    retrieved = agent.retrieve(created["id"], include="card")
    assert retrieved.status_code == 200, retrieved.text
    return agent, created, retrieved.json()


def test_create_approve_retrieve_authorize_capture_succeeds(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, spend = _approved_card(stripe_wallet, amount=4200)
    assert spend["status"] == "approved"
    card = spend["card"]
    stripe_card = next(
        c for c in fake.cards.values() if c["metadata"].get("link_spend_request") == created["id"]
    )
    # The card Stripe issued: active, single use, capped at the approved amount, its number
    # fetched with expand only now and handed to the agent.
    assert stripe_card["status"] == "active" and stripe_card["type"] == "virtual"
    assert stripe_card["lifecycle_controls"] == {"cancel_after": {"payment_count": "1"}}
    limits = {
        (lim["interval"], int(lim["amount"]))
        for lim in stripe_card["spending_controls"]["spending_limits"]
    }
    assert limits == {("per_authorization", 4200), ("all_time", 4200)}
    assert card["number"] == stripe_card["number"] and card["cvc"] == stripe_card["cvc"]
    assert spend["card_last4"] == stripe_card["last4"]
    card_posts = [h for m, p, h in fake.requests if m == "POST" and p == "/v1/issuing/cards"]
    assert card_posts[-1]["idempotency-key"] == f"link-wallet-card-{created['id']}"
    # A second retrieve serves the kept (encrypted) copy: no second expand.
    expands = sum(1 for m, p, _ in fake.requests if m == "GET" and p.endswith(stripe_card["id"]))
    assert agent.retrieve(created["id"], include="card").json()["card"]["number"] == card["number"]
    assert (
        sum(1 for m, p, _ in fake.requests if m == "GET" and p.endswith(stripe_card["id"]))
        == expands
    )
    assert stripe_card["number"] not in stripe_wallet.log_text()

    auth = fake.handle(
        "POST",
        "/v1/test_helpers/issuing/authorizations",
        {},
        {
            "card": stripe_card["id"],
            "amount": 4200,
            "currency": "usd",
            "merchant_data": {"name": "ROCKETRIDES.IO*RIDE"},
        },
        _headers(fake),
    )[1]
    assert auth["approved"] is True
    request_delivery = fake.deliveries[-2]
    assert request_delivery.event["type"] == "issuing_authorization.request"
    assert json.loads(request_delivery.body) == {"approved": True}
    fake.handle(
        "POST",
        f"/v1/test_helpers/issuing/authorizations/{auth['id']}/capture",
        {},
        {},
        _headers(fake),
    )
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "succeeded"
    assert final["payment_status_details"]["outcome"] == "success"
    assert final["payment_status_details"]["amount"] == 4200
    assert stripe_card["status"] == "canceled"  # single use

    # The same capture event delivered again changes nothing.
    capture_event = fake.events_of("issuing_transaction.created")[-1]
    again = fake.redeliver(capture_event["id"])
    assert again.status == 200
    assert agent.retrieve(created["id"]).json()["updated_at"] == final["updated_at"]


def test_wrong_merchant_is_declined_and_the_request_fails(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, _ = _approved_card(stripe_wallet, amount=1500)
    stripe_card = next(
        c for c in fake.cards.values() if c["metadata"].get("link_spend_request") == created["id"]
    )
    auth = fake.handle(
        "POST",
        "/v1/test_helpers/issuing/authorizations",
        {},
        {
            "card": stripe_card["id"],
            "amount": 1500,
            "currency": "usd",
            "merchant_data": {"name": "EVIL GADGETS LTD"},
        },
        _headers(fake),
    )[1]
    assert auth["approved"] is False
    assert auth["request_history"][0]["reason"] == "webhook_declined"
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "failed"
    assert final["payment_status_details"]["decline_code"] == "merchant_mismatch"
    # The duplicated real-time request gets the same answer and changes nothing.
    request_event = fake.events_of("issuing_authorization.request")[-1]
    assert json.loads(fake.redeliver(request_event["id"]).body) == {"approved": False}
    assert agent.retrieve(created["id"]).json()["updated_at"] == final["updated_at"]


def _headers(fake: FakeStripe) -> dict[str, str]:
    return {"authorization": f"Bearer {fake.secret_key}", "stripe-version": "2026-10-28.endive"}


def test_misconfigured_issuer_stops_serve_with_a_message(tmp_path: Path) -> None:
    import subprocess

    from tests.support.wallet import LINK_WALLET, wallet_env

    env = wallet_env(
        {"LINK_WALLET_ISSUER": "stripe", "LINK_WALLET_STRIPE_SECRET_KEY": "sk_test_abc"}
    )
    result = subprocess.run(
        [LINK_WALLET, "--data-dir", str(tmp_path), "serve", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "LINK_WALLET_STRIPE_WEBHOOK_SECRETS" in result.stderr
    assert "Traceback" not in result.stderr


def test_events_out_of_order_still_end_succeeded(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, _ = _approved_card(stripe_wallet, amount=900)
    stripe_card = next(
        c for c in fake.cards.values() if c["metadata"].get("link_spend_request") == created["id"]
    )
    fake.hold_events = True
    try:
        auth = fake.handle(
            "POST",
            "/v1/test_helpers/issuing/authorizations",
            {},
            {
                "card": stripe_card["id"],
                "amount": 900,
                "currency": "usd",
                "merchant_data": {
                    "name": "Rocket Rides",
                    "url": "https://checkout.rocketrides.io/",
                },
            },
            _headers(fake),
        )[1]
        assert auth["approved"] is True
        fake.handle(
            "POST",
            f"/v1/test_helpers/issuing/authorizations/{auth['id']}/capture",
            {},
            {},
            _headers(fake),
        )
    finally:
        fake.hold_events = False
    # The capture arrives before the authorization it belongs to.
    deliveries = fake.release_held(reverse=True)
    assert [d.event["type"] for d in deliveries] == [
        "issuing_transaction.created",
        "issuing_authorization.created",
    ]
    assert all(d.status == 200 for d in deliveries)
    assert agent.retrieve(created["id"]).json()["status"] == "succeeded"


def _race_authorizations(fake: FakeStripe, wallet: WalletProcess, racers: int = 6) -> list[bool]:
    """``racers`` signed real-time requests for one card, released together."""
    import secrets as random

    import httpx2
    from tests.support.racing import race

    from link_cli.wallet.issuing.stripe_events import signature_header

    _, created, _ = _approved_card(wallet, amount=700)
    ref = next(
        c["id"]
        for c in fake.cards.values()
        if c["metadata"].get("link_spend_request") == created["id"]
    )

    def authorize() -> bool:
        event = {
            "id": "evt_" + random.token_hex(8),
            "api_version": "2026-10-28.endive",
            "type": "issuing_authorization.request",
            "data": {
                "object": {
                    "id": "iauth_" + random.token_hex(8),
                    "card": ref,
                    "merchant_data": {"name": "Rocket Rides"},
                    "pending_request": {"amount": 700, "currency": "usd"},
                }
            },
        }
        payload = json.dumps(event).encode()
        response = httpx2.post(
            f"{wallet.url}/issuing/stripe/webhook",
            content=payload,
            headers={"Stripe-Signature": signature_header(fake.webhook_secret, payload)},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["approved"])

    return race([authorize] * racers)


def test_racing_authorizations_of_one_card_approve_once(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    assert sorted(_race_authorizations(fake, stripe_wallet)) == [False] * 5 + [True]


def test_racing_authorizations_on_concurrent_postgres_transactions(
    fake: FakeStripe, tmp_path: Path
) -> None:
    from tests.conftest import POSTGRES_ENV, fresh_postgres_database

    if not _POSTGRES_URL:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(_POSTGRES_URL, migrated=True)
    # One process: its thread pool runs the six decisions on six connections at once, which
    # is what the database sees from six processes too (two workers cost ~15 s to start here).
    env = stripe_env(fake)
    with WalletProcess.start(tmp_path / "pg", database_url=url, env=env) as wallet:
        previous, fake.webhook_url = fake.webhook_url, f"{wallet.url}/issuing/stripe/webhook"
        try:
            assert sorted(_race_authorizations(fake, wallet)) == [False] * 5 + [True]
        finally:
            fake.webhook_url = previous


def test_spending_controls_decline_fails_the_request(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, _ = _approved_card(stripe_wallet, amount=500)
    ref = next(
        c["id"]
        for c in fake.cards.values()
        if c["metadata"].get("link_spend_request") == created["id"]
    )
    before = len(fake.events_of("issuing_authorization.request"))
    auth = fake.handle(
        "POST",
        "/v1/test_helpers/issuing/authorizations",
        {},
        {"card": ref, "amount": 501, "currency": "usd", "merchant_data": {"name": "Rocket Rides"}},
        _headers(fake),
    )[1]
    # Stripe's own controls decline above the approved amount; the wallet is not even asked.
    assert auth["request_history"][0]["reason"] == "spending_controls"
    assert len(fake.events_of("issuing_authorization.request")) == before
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "failed"
    assert final["payment_status_details"]["decline_code"] == "spending_controls"


def _stop_cards(fake: FakeStripe, wallet: WalletProcess, now: datetime) -> None:
    """What the wallet's card stopper does, run here once so the test need not wait for it."""
    from link_cli.wallet.issuing.config import issuer_settings_from_env
    from link_cli.wallet.issuing.stripe_issuing import StripeIssuer
    from link_cli.wallet.services.issuing import stop_finished_cards

    issuer = StripeIssuer(issuer_settings_from_env(stripe_env(fake)))
    stop_finished_cards(wallet.store().database, issuer, now)


def test_cancel_and_expiry_cancel_the_card_at_stripe(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, _ = _approved_card(stripe_wallet, amount=300)
    _, expiring, spend = _approved_card(stripe_wallet, amount=301)
    ref = next(
        c["id"]
        for c in fake.cards.values()
        if c["metadata"].get("link_spend_request") == created["id"]
    )
    late = next(
        c["id"]
        for c in fake.cards.values()
        if c["metadata"].get("link_spend_request") == expiring["id"]
    )
    assert (
        agent.client.post(f"/spend_requests/{created['id']}/cancel").json()["status"] == "canceled"
    )
    valid_until = datetime.fromisoformat(spend["card"]["valid_until"].replace("Z", "+00:00"))
    _stop_cards(fake, stripe_wallet, valid_until - timedelta(seconds=1))
    assert fake.cards[ref]["status"] == "canceled"
    assert fake.cards[late]["status"] == "active"
    _stop_cards(fake, stripe_wallet, valid_until + timedelta(seconds=1))
    assert fake.cards[late]["status"] == "canceled"
    # A canceled request's card is declined by the wallet too, should Stripe still ask.
    auth = fake.handle(
        "POST",
        "/v1/test_helpers/issuing/authorizations",
        {},
        {"card": ref, "amount": 300, "currency": "usd"},
        _headers(fake),
    )[1]
    assert auth["approved"] is False


def test_stripe_declining_what_the_wallet_approved_fails_the_request(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created, _ = _approved_card(stripe_wallet, amount=400)
    ref = next(
        c["id"]
        for c in fake.cards.values()
        if c["metadata"].get("link_spend_request") == created["id"]
    )
    fake.balance_short = True
    try:
        auth = fake.handle(
            "POST",
            "/v1/test_helpers/issuing/authorizations",
            {},
            {
                "card": ref,
                "amount": 400,
                "currency": "usd",
                "merchant_data": {"name": "Rocket Rides"},
            },
            _headers(fake),
        )[1]
    finally:
        fake.balance_short = False
    assert auth["approved"] is False
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "failed"
    assert final["payment_status_details"]["decline_code"] == "insufficient_funds"


# -- Stripe-issued shared payment tokens (preview) -------------------------------------------


def _agent_with_stripe_card(fake: FakeStripe, wallet: WalletProcess) -> tuple[ApiAgent, str]:
    """An agent whose person added a card through the Stripe.js page (the pm_ id posted as
    Stripe.js posts it; the page's own form and CSRF token)."""
    agent = new_agent(wallet)
    pm = fake.create_payment_method(brand="mastercard", last4="4444")
    if not agent.person.is_signed_in():
        agent.person.sign_in()
    added = agent.person.submit_form(
        "/wallet/cards/new",
        {
            "payment_method": pm,
            "name": "Jenny Rosen",
            "line1": "510 Townsend St",
            "city": "San Francisco",
            "postal_code": "94103",
            "country": "US",
            "make_default": "1",
        },
        action="/wallet/cards/new",
    )
    assert added.status_code == 200 and "/wallet" in str(added.url), added.text[-500:]
    return agent, pm


def _approved_spt(fake: FakeStripe, wallet: WalletProcess, amount: int) -> tuple[ApiAgent, dict]:
    agent, _ = _agent_with_stripe_card(fake, wallet)
    created = agent.create_ok(spt_body(test=True, amount=amount))
    approve_spend_request(agent.person, created["approval_url"])
    return agent, created


def _token_of(fake: FakeStripe, request_id: str) -> dict:
    return next(
        t for t in fake.issued_tokens.values() if t["seller_details"]["external_id"] == request_id
    )


def test_spt_create_approve_retrieve_use_succeeds(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created = _approved_spt(fake, stripe_wallet, amount=1800)
    spend = agent.retrieve(created["id"], include="shared_payment_token").json()
    assert spend["status"] == "approved"
    token = _token_of(fake, created["id"])
    # The token the agent gets is Stripe's, for the request's seller, amount and expiry.
    assert spend["shared_payment_token"] == {
        "id": token["id"],
        "valid_until": spend["shared_payment_token"]["valid_until"],
    }
    assert token["seller_details"]["network_business_profile"] == created["network_id"]
    assert token["usage_limits"]["max_amount"] == 1800
    assert token["usage_limits"]["currency"] == "usd"
    valid_until = datetime.fromisoformat(
        spend["shared_payment_token"]["valid_until"].replace("Z", "+00:00")
    )
    assert token["usage_limits"]["expires_at"] == int(valid_until.timestamp())
    assert fake.payment_methods[token["payment_method"]]["card"]["last4"] == "4444"
    posts = [
        h for m, p, h in fake.requests if m == "POST" and p == "/v1/shared_payment/issued_tokens"
    ]
    assert posts[-1]["idempotency-key"] == f"link-wallet-spt-{created['id']}"
    assert posts[-1]["stripe-version"] == PREVIEW_API_VERSION

    # Redeemed at Stripe only: this wallet's own merchant API does not know the token, even
    # for a merchant registered here under the same network id.
    from tests.redemption.delegated import confirm, register_merchant, spt_form

    local = register_merchant(stripe_wallet, created["network_id"], livemode=False)
    refused = confirm(stripe_wallet, local, spt_form(token["id"], amount=1800))
    assert refused.status_code in (400, 404) and "succeeded" not in refused.text
    assert agent.status_of(created["id"]) == "approved"

    # The seller's payment: Stripe's events arrive out of order (deactivated before used).
    fake.hold_events = True
    try:
        fake.use_token(token["id"], 1800)
    finally:
        fake.hold_events = False
    deliveries = fake.release_held(reverse=True)
    assert [d.event["type"] for d in deliveries] == [
        "shared_payment.issued_token.deactivated",
        "shared_payment.issued_token.used",
    ]
    assert all(d.status == 200 for d in deliveries)
    final = agent.retrieve(created["id"], include="shared_payment_token").json()
    assert final["status"] == "succeeded"
    assert final["payment_status_details"]["outcome"] == "success"
    assert final["payment_status_details"]["amount"] == 1800
    # A redelivered event changes nothing.
    assert fake.redeliver(deliveries[1].event["id"]).status == 200
    assert agent.retrieve(created["id"]).json()["updated_at"] == final["updated_at"]


def test_spt_cancel_revokes_the_token_at_stripe(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created = _approved_spt(fake, stripe_wallet, amount=600)
    token = _token_of(fake, created["id"])
    assert agent.cancel(created["id"]).json()["status"] == "canceled"
    _stop_cards(fake, stripe_wallet, datetime.now(UTC))
    assert token["status"] == "deactivated" and token["deactivated_reason"] == "revoked"
    # The deactivated event of our own revoke leaves the request canceled.
    assert (
        fake.events_of("shared_payment.issued_token.deactivated")[-1]["data"]["object"]["id"]
        == token["id"]
    )
    assert agent.status_of(created["id"]) == "canceled"


def test_spt_deactivated_by_stripe_fails_the_request(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, created = _approved_spt(fake, stripe_wallet, amount=700)
    token = _token_of(fake, created["id"])
    token.update(status="deactivated", deactivated_reason="expired")
    fake._send("shared_payment.issued_token.deactivated", token)
    final = agent.retrieve(created["id"]).json()
    assert final["status"] == "failed"
    assert final["payment_status_details"]["decline_code"] == "token_expired"


def test_stripe_js_add_card_page_and_raw_numbers_refused(
    fake: FakeStripe, stripe_wallet: WalletProcess
) -> None:
    agent, pm = _agent_with_stripe_card(fake, stripe_wallet)
    person = agent.person
    page = person.client.get("/wallet/cards/new")
    # Stripe's origins only where Stripe.js needs them; the wallet-wide rules stay.
    policy = dict(d.split(" ", 1) for d in page.headers["content-security-policy"].split("; "))
    assert policy["script-src"] == "'self' https://js.stripe.com"
    assert policy["frame-src"] == "'self' https://js.stripe.com"
    assert policy["connect-src"] == "'self' https://api.stripe.com"
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert '<script src="https://js.stripe.com/v3/">' in page.text
    assert 'name="number"' not in page.text and 'name="cvc"' not in page.text
    # The card Stripe.js tokenised is kept by its pm_ id, with Stripe's brand and last four,
    # and no number or CVC.
    from sqlalchemy import select

    from link_cli.wallet.store.models.accounts import PaymentMethod

    with stripe_wallet.store().database.read_scope() as session:
        kept = session.scalars(
            select(PaymentMethod).where(PaymentMethod.stripe_payment_method == pm)
        ).one()
        assert (kept.brand, kept.last4) == ("mastercard", "4444")
        assert kept.number_encrypted is None and kept.cvc_encrypted is None
    # The same pm_ claimed by another person is refused.
    other = new_agent(stripe_wallet).person
    if not other.is_signed_in():
        other.sign_in()
    claimed = other.submit_form(
        "/wallet/cards/new",
        {"payment_method": pm, "name": "Mallory", "line1": "1 Main St", "country": "US"},
        action="/wallet/cards/new",
    )
    assert claimed.status_code == 400 and "already added" in claimed.text
    # A card number posted anyway (a page without Stripe.js) is refused, not stored.
    refused = person.submit_form(
        "/wallet/cards/new",
        {
            "number": "4242424242424242",
            "cvc": "123",
            "name": "Jenny Rosen",
            "line1": "510 Townsend St",
            "country": "US",
        },
        action="/wallet/cards/new",
    )
    assert refused.status_code == 400
    assert "4242424242424242" not in refused.text
    assert "4242424242424242" not in "".join(stripe_wallet.stored_values())
