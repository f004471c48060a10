"""The agent journey with the stripe issuer, end to end with real processes: a wallet in
``LINK_WALLET_ISSUER=stripe`` mode pointed (base address) at the contract fake, which plays
Stripe and the card network and calls the wallet's signed webhook."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.stripe_fake import FakeStripe, running_fake, stripe_env
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
    with WalletProcess.start(
        tmp_path_factory.mktemp("stripe-wallet"), env=stripe_env(fake)
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
