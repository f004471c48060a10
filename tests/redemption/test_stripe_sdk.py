"""The official ``stripe`` Python SDK, unchanged, against the wallet's ``/v1`` routes."""

from __future__ import annotations

import json

import pytest
import stripe
from tests.redemption.delegated import DelegatedAgent, Merchant, delegated_agent, register_merchant
from tests.support.wallet import WalletProcess


@pytest.fixture(scope="module")
def merchant(wallet: WalletProcess) -> Merchant:
    return register_merchant(wallet)


@pytest.fixture(scope="module")
def agent(wallet: WalletProcess) -> DelegatedAgent:
    return delegated_agent(wallet)


@pytest.fixture
def client(wallet: WalletProcess, merchant: Merchant) -> stripe.StripeClient:
    return stripe.StripeClient(
        merchant.secret_key, base_addresses={"api": wallet.url}, max_network_retries=0
    )


def test_create_and_retrieve_a_payment_intent_with_an_spt(
    client: stripe.StripeClient, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, spt = agent.approved_spt(merchant.network_id, amount=700)
    params = {
        "amount": 700,
        "currency": "usd",
        "confirm": True,
        "shared_payment_granted_token": spt,
        "payment_method_types": ["card"],
        "metadata": {"order": "o-1"},
    }
    options = {"idempotency_key": "sdk-order-1", "stripe_version": "2026-07-29.preview"}
    intent = client.v1.payment_intents.create(params, options)
    assert intent.id.startswith("pi_") and intent.status == "succeeded"
    assert intent.amount == 700 and intent.metadata["order"] == "o-1"
    assert agent.retrieve(request_id)["status"] == "succeeded"

    fetched = client.v1.payment_intents.retrieve(intent.id)
    assert (fetched.id, fetched.status) == (intent.id, "succeeded")

    replay = client.v1.payment_intents.create(params, options)
    assert replay.id == intent.id
    assert replay.last_response.headers["idempotent-replayed"] == "true"

    token = client.raw_request("get", f"/v1/shared_payment/granted_tokens/{spt}")
    assert json.loads(token.body)["deactivated_reason"] == "consumed"


def test_a_declined_card_raises_card_error_with_the_decline_code(
    client: stripe.StripeClient, agent: DelegatedAgent
) -> None:
    _, card = agent.approved_card(amount=1000)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(
            {
                "amount": 1001,
                "currency": "usd",
                "confirm": True,
                "payment_method_data": {
                    "type": "card",
                    "card": {
                        "number": card["number"],
                        "exp_month": card["exp_month"],
                        "exp_year": card["exp_year"],
                        "cvc": card["cvc"],
                    },
                },
            }
        )
    error = caught.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == ("card_declined", "invalid_amount")
    assert error.error.payment_intent.status == "requires_payment_method"
    assert card["number"] not in str(error.json_body)


def test_bad_keys_and_unknown_objects_map_to_the_sdk_errors(
    wallet: WalletProcess, client: stripe.StripeClient
) -> None:
    bad = stripe.StripeClient("sk_test_wrong", base_addresses={"api": wallet.url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.payment_intents.retrieve("pi_whatever")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.retrieve("pi_missing")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(
            {
                "amount": 100,
                "currency": "usd",
                "confirm": True,
                "shared_payment_granted_token": "spt_nope",
            }
        )
    assert caught.value.code == "resource_missing"


def test_sdk_errors_carry_the_wallets_codes_for_replays_reuse_and_bad_cvcs(
    client: stripe.StripeClient, merchant: Merchant, agent: DelegatedAgent
) -> None:
    _, spt = agent.approved_spt(merchant.network_id, amount=300)
    params = {
        "amount": 300,
        "currency": "usd",
        "confirm": True,
        "shared_payment_granted_token": spt,
    }
    client.v1.payment_intents.create(params, {"idempotency_key": "sdk-order-2"})
    with pytest.raises(stripe.IdempotencyError):  # same key, other parameters
        client.v1.payment_intents.create(
            {**params, "amount": 299}, {"idempotency_key": "sdk-order-2"}
        )
    with pytest.raises(stripe.InvalidRequestError) as caught:  # a new key: the token is spent
        client.v1.payment_intents.create(params, {"idempotency_key": "sdk-order-3"})
    assert caught.value.code == "shared_payment_token_consumed"

    _, card = agent.approved_card(amount=1000)
    details = {k: card[k] for k in ("number", "exp_month", "exp_year")}
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            {
                "amount": 1000,
                "currency": "usd",
                "confirm": True,
                "payment_method_data": {
                    "type": "card",
                    "card": {**details, "cvc": "000" if card["cvc"] != "000" else "111"},
                },
            }
        )
    # A wrong CVC is the generic decline, like an unknown number (docs/security.md).
    assert (declined.value.code, declined.value.http_status) == ("card_declined", 402)
    assert declined.value.error.decline_code == "generic_decline"
    assert card["number"] not in str(declined.value.json_body)
