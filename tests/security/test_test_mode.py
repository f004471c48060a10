"""Test mode is separate from live (issue 10, class 5), against real wallet processes on
SQLite and PostgreSQL (``any_wallet``).

A credential of a ``test: true`` spend request (which skipped the spend limits) redeems only
with a test merchant key (``sk_test_…``), a live credential only with a live key
(``sk_live_…``). The wrong mode is answered exactly like an unknown credential and leaves the
credential untouched. One network id is registered in both modes, so only the mode differs.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx2
import pytest
from tests.redemption.delegated import (
    CONTEXT,
    DelegatedAgent,
    Merchant,
    card_form,
    confirm,
    delegated_agent,
    register_merchant,
    spt_form,
)
from tests.support.wallet import WalletProcess

from link_cli.wallet.domain.credentials import sandbox_card_number
from link_cli.wallet.domain.redemption import MAX_FAILED_CARD_ATTEMPTS, same_mode

pytestmark = pytest.mark.postgres

DAILY_SPEND = 50_000  # LimitSettings.daily_spend, the wallet's default


def _merchants(wallet: WalletProcess) -> tuple[Merchant, Merchant]:
    """A test and a live merchant of the same network id: ``(test, live)``."""
    network_id = "profile_" + secrets.token_hex(6)
    test = register_merchant(wallet, network_id, livemode=False)
    live = register_merchant(wallet, network_id, livemode=True)
    return test, live


def _spt(agent: DelegatedAgent, network_id: str, *, test: bool, amount: int = 500) -> tuple:
    created = agent.create_delegated(
        {
            "credential_type": "shared_payment_token",
            "network_id": network_id,
            "amount": amount,
            "currency": "usd",
            "test": test,
            "context": f"{CONTEXT} Order {secrets.token_hex(4)}.",
        }
    )
    token = agent.retrieve(created["id"], "shared_payment_token")["shared_payment_token"]
    return created["id"], token["id"] if isinstance(token, dict) else token


def _card(agent: DelegatedAgent, *, test: bool, amount: int = 1850) -> tuple[str, dict]:
    created = agent.create_delegated(
        {
            "credential_type": "card",
            "merchant_name": "Trailhead Supply Co.",
            "merchant_url": "https://shop.example/" + secrets.token_hex(4),
            "amount": amount,
            "currency": "usd",
            "test": test,
        }
    )
    return created["id"], agent.retrieve(created["id"], "card")["card"]


def _error(response: httpx2.Response) -> dict[str, Any]:
    """The error as a caller compares it: without the fresh PaymentIntent id."""
    error = dict(response.json()["error"])
    error.pop("payment_intent", None)
    return error


def _unknown_card(card: dict[str, Any]) -> dict[str, Any]:
    """A well-formed sandbox number nobody was issued, with the card's expiry and CVC."""
    return {**card, "number": sandbox_card_number(secrets.randbelow(10**6))}


def _unknown_spt_answer(wallet: WalletProcess, merchant: Merchant, spt: str) -> dict[str, Any]:
    """What the merchant hears for a token of the same shape that does not exist."""
    ghost = "spt_" + secrets.token_hex(12)
    answer = confirm(wallet, merchant, spt_form(ghost))
    assert answer.status_code == 400
    return json.loads(answer.text.replace(ghost, spt))


def _granted_token(wallet: WalletProcess, merchant: Merchant, spt: str) -> httpx2.Response:
    return httpx2.get(
        f"{wallet.url}/v1/shared_payment/granted_tokens/{spt}", headers=merchant.auth, timeout=30
    )


def test_a_key_sees_only_credentials_of_its_own_mode() -> None:
    assert same_mode(credential_livemode=True, key_livemode=True)
    assert same_mode(credential_livemode=False, key_livemode=False)
    assert not same_mode(credential_livemode=False, key_livemode=True)
    assert not same_mode(credential_livemode=True, key_livemode=False)


@pytest.fixture
def agent(any_wallet: WalletProcess) -> DelegatedAgent:
    return delegated_agent(any_wallet)


def test_a_test_spt_is_missing_for_a_live_key_and_stays_usable(
    any_wallet: WalletProcess, agent: DelegatedAgent
) -> None:
    test_key, live_key = _merchants(any_wallet)
    request_id, spt = _spt(agent, test_key.network_id, test=True)

    refused = confirm(any_wallet, live_key, spt_form(spt))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "resource_missing"
    assert refused.json() == _unknown_spt_answer(any_wallet, live_key, spt)
    assert _granted_token(any_wallet, live_key, spt).status_code == 404
    assert agent.retrieve(request_id)["status"] == "approved"  # not burned

    paid = confirm(any_wallet, test_key, spt_form(spt))
    assert paid.status_code == 200, paid.text
    assert paid.json()["livemode"] is False
    token = _granted_token(any_wallet, test_key, spt).json()
    assert (token["livemode"], token["deactivated_reason"]) == (False, "consumed")
    assert agent.retrieve(request_id)["status"] == "succeeded"


def test_a_live_spt_is_missing_for_a_test_key(
    any_wallet: WalletProcess, agent: DelegatedAgent
) -> None:
    test_key, live_key = _merchants(any_wallet)
    request_id, spt = _spt(agent, live_key.network_id, test=False)

    refused = confirm(any_wallet, test_key, spt_form(spt))
    assert refused.json() == _unknown_spt_answer(any_wallet, test_key, spt)
    assert _granted_token(any_wallet, test_key, spt).status_code == 404
    assert agent.retrieve(request_id)["status"] == "approved"

    paid = confirm(any_wallet, live_key, spt_form(spt))
    assert paid.status_code == 200, paid.text
    assert paid.json()["livemode"] is True
    fetched = httpx2.get(
        f"{any_wallet.url}/v1/payment_intents/{paid.json()['id']}",
        headers=live_key.auth,
        timeout=30,
    )
    assert fetched.json()["livemode"] is True
    assert _granted_token(any_wallet, live_key, spt).json()["livemode"] is True


@pytest.mark.parametrize("card_is_test", [True, False], ids=["test-card", "live-card"])
def test_a_card_of_the_other_mode_declines_like_an_unknown_one_and_is_not_burned(
    any_wallet: WalletProcess, agent: DelegatedAgent, card_is_test: bool
) -> None:
    test_key, live_key = _merchants(any_wallet)
    own, other = (test_key, live_key) if card_is_test else (live_key, test_key)
    request_id, card = _card(agent, test=card_is_test)

    unknown = confirm(any_wallet, other, card_form(_unknown_card(card)))
    genuine = confirm(any_wallet, other, card_form(card))
    assert genuine.status_code == unknown.status_code == 402
    assert _error(genuine) == _error(unknown)
    # More wrong-CVC tries than burn a card, from the other mode: none counts against it.
    wrong_cvc = "000" if card["cvc"] != "000" else "111"
    for _ in range(MAX_FAILED_CARD_ATTEMPTS):
        guessed = confirm(any_wallet, other, card_form(card, cvc=wrong_cvc))
        unknown = confirm(any_wallet, other, card_form(_unknown_card(card), cvc=wrong_cvc))
        assert _error(guessed) == _error(unknown)
    assert agent.retrieve(request_id)["status"] == "approved"

    paid = confirm(any_wallet, own, card_form(card))
    assert paid.status_code == 200, paid.text
    assert paid.json()["livemode"] is (not card_is_test)
    assert agent.retrieve(request_id)["status"] == "succeeded"


def test_test_spend_beyond_the_daily_limit_cannot_be_captured_live(
    any_wallet: WalletProcess, agent: DelegatedAgent
) -> None:
    """The issue's case: test requests skip the spend limits, so 4 x 50,000 are approved
    against a 50,000 daily limit; a live key captures none of it."""
    test_key, live_key = _merchants(any_wallet)
    spts = [_spt(agent, test_key.network_id, test=True, amount=DAILY_SPEND) for _ in range(3)]
    card_request, card = _card(agent, test=True, amount=DAILY_SPEND)
    approved = 4 * DAILY_SPEND
    assert approved == 200_000

    captured_live = 0
    for _, spt in spts:
        answer = confirm(any_wallet, live_key, spt_form(spt, amount=DAILY_SPEND))
        captured_live += answer.json()["amount"] if answer.status_code == 200 else 0
    answer = confirm(any_wallet, live_key, card_form(card, amount=DAILY_SPEND))
    captured_live += answer.json()["amount"] if answer.status_code == 200 else 0
    assert captured_live == 0
    ids = [request_id for request_id, _ in spts] + [card_request]
    assert {agent.retrieve(request_id)["status"] for request_id in ids} == {"approved"}

    # Test mode still works beyond the limit, and says so.
    captured_test = 0
    for _, spt in spts:
        answer = confirm(any_wallet, test_key, spt_form(spt, amount=DAILY_SPEND))
        assert answer.status_code == 200 and answer.json()["livemode"] is False
        captured_test += answer.json()["amount"]
    answer = confirm(any_wallet, test_key, card_form(card, amount=DAILY_SPEND))
    assert answer.status_code == 200 and answer.json()["livemode"] is False
    captured_test += answer.json()["amount"]
    assert captured_test == approved

    # Live spend is limited as before: one live request of the daily limit, no second.
    agent.create_delegated(
        {
            "credential_type": "shared_payment_token",
            "network_id": live_key.network_id,
            "amount": DAILY_SPEND,
            "currency": "usd",
        }
    )
    over = httpx2.post(
        f"{any_wallet.url}/spend_requests/create_delegated",
        json={
            "payment_details": agent.payment_method_id,
            "credential_type": "shared_payment_token",
            "network_id": live_key.network_id,
            "amount": 1,
            "currency": "usd",
            "context": CONTEXT,
            "approval_details": {
                "approved_at": int(time.time()) - 5,
                "approval_method": "programmatic",
                "app_name": "test mode tests",
                "external_user_id": "user-1",
            },
        },
        headers=agent.headers,
        timeout=30,
    )
    assert over.status_code == 429 and over.json()["error"]["code"] == "spend_limit_exceeded"


def test_merchant_create_offers_both_modes_once_per_network_id(wallet: WalletProcess) -> None:
    network_id = "profile_" + secrets.token_hex(4)
    argv = ("merchant", "create", "--name", "Shop", "--network-id", network_id)

    test = wallet.run_cli(*argv)  # test mode unless asked
    assert test.returncode == 0, test.stderr
    test_data = json.loads(test.stdout)
    assert test_data["secret_key"].startswith("sk_test_") and test_data["livemode"] is False
    live = wallet.run_cli(*argv, "--live")
    assert live.returncode == 0, live.stderr
    live_data = json.loads(live.stdout)
    assert live_data["secret_key"].startswith("sk_live_") and live_data["livemode"] is True
    assert live_data["id"] != test_data["id"]
    for livemode in (False, True):  # once per mode (the same store call as the command)
        with pytest.raises(ValueError, match="already exists"):
            wallet.store().create_merchant("Again", network_id, livemode=livemode)
