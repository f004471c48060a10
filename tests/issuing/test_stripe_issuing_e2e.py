"""The agent journey with the stripe issuer, end to end with real processes: a wallet in
``LINK_WALLET_ISSUER=stripe`` mode pointed (base address) at the contract fake, which plays
Stripe and the card network and calls the wallet's signed webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.stripe_fake import FakeStripe, running_fake, stripe_env
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server


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


def test_bad_signature_is_refused(stripe_wallet: WalletProcess) -> None:
    import httpx2

    response = httpx2.post(
        f"{stripe_wallet.url}/issuing/stripe/webhook",
        content=b'{"id":"evt_1"}',
        headers={"Stripe-Signature": "t=1,v1=" + "0" * 64},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_signature_invalid"


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
