"""``/v1/payment_intents`` and ``/v1/shared_payment/granted_tokens`` against a real wallet
process, on SQLite and PostgreSQL (``any_wallet``)."""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from tests.redemption.delegated import (
    DelegatedAgent,
    Merchant,
    card_form,
    confirm,
    delegated_agent,
    register_merchant,
    spt_form,
)
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.postgres


@pytest.fixture
def merchant(any_wallet: WalletProcess) -> Merchant:
    return register_merchant(any_wallet)


@pytest.fixture
def agent(any_wallet: WalletProcess) -> DelegatedAgent:
    return delegated_agent(any_wallet)


def test_an_spt_pays_once_and_the_spend_request_succeeds(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, spt = agent.approved_spt(merchant.network_id, amount=500)
    paid = confirm(any_wallet, merchant, spt_form(spt, amount=450))
    assert paid.status_code == 200, paid.text
    intent = paid.json()
    assert intent["id"].startswith("pi_")
    assert (intent["object"], intent["status"], intent["amount"], intent["currency"]) == (
        "payment_intent",
        "succeeded",
        450,
        "usd",
    )
    # A live credential redeemed with a live key (register_merchant's default).
    assert intent["livemode"] is True and intent["metadata"] == {"mpp_intent": "charge"}

    spend = agent.retrieve(request_id)
    assert spend["status"] == "succeeded"
    details = spend["payment_status_details"]
    assert (details["outcome"], details["amount"], details["currency"]) == ("success", 450, "usd")
    assert spend["link_transaction_id"]

    again = confirm(any_wallet, merchant, spt_form(spt, amount=450))
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "shared_payment_token_consumed"
    assert agent.retrieve(request_id)["payment_status_details"] == details

    fetched = httpx2.get(
        f"{any_wallet.url}/v1/payment_intents/{intent['id']}", headers=merchant.auth
    )
    assert fetched.status_code == 200 and fetched.json()["status"] == "succeeded"
    token = httpx2.get(
        f"{any_wallet.url}/v1/shared_payment/granted_tokens/{spt}", headers=merchant.auth
    ).json()
    assert token["deactivated_reason"] == "consumed"
    assert token["deactivated_at"] >= intent["created"]
    assert token["usage_limits"] | {"expires_at": 0} == {
        "currency": "usd",
        "max_amount": 500,
        "expires_at": 0,
    }
    assert token["usage_details"]["amount_captured"]["value"] == 450


def test_secret_key_as_basic_user_and_bad_keys(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    _, spt = agent.approved_spt(merchant.network_id)
    url = f"{any_wallet.url}/v1/payment_intents"
    missing = httpx2.post(url, data=spt_form(spt))
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    wrong = httpx2.post(url, data=spt_form(spt), headers={"Authorization": "Bearer sk_test_nope"})
    assert wrong.status_code == 401
    basic = base64.b64encode(f"{merchant.secret_key}:".encode()).decode()
    paid = httpx2.post(url, data=spt_form(spt), headers={"Authorization": f"Basic {basic}"})
    assert paid.status_code == 200, paid.text


def test_another_sellers_token_is_missing_and_stays_usable(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    other = register_merchant(any_wallet)
    request_id, spt = agent.approved_spt(merchant.network_id)
    stolen = confirm(any_wallet, other, spt_form(spt))
    assert stolen.status_code == 400
    assert stolen.json()["error"]["code"] == "resource_missing"
    assert agent.retrieve(request_id)["status"] == "approved"
    assert (
        httpx2.get(
            f"{any_wallet.url}/v1/shared_payment/granted_tokens/{spt}", headers=other.auth
        ).status_code
        == 404
    )
    assert confirm(any_wallet, merchant, spt_form(spt)).status_code == 200


@pytest.mark.parametrize(
    ("form_changes", "code"),
    [({"amount": 501}, "amount_too_large"), ({"currency": "eur"}, "currency_mismatch")],
)
def test_an_spt_above_its_limit_is_refused_and_the_request_fails(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent, form_changes, code
) -> None:
    request_id, spt = agent.approved_spt(merchant.network_id, amount=500)
    refused = confirm(any_wallet, merchant, spt_form(spt, **form_changes))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == code
    spend = agent.retrieve(request_id)
    assert spend["status"] == "failed"
    assert spend["payment_status_details"]["outcome"] == "failure"
    assert spend["payment_status_details"]["code"] == code
    # Burned: a correct charge afterwards is refused too.
    assert confirm(any_wallet, merchant, spt_form(spt)).json()["error"]["code"] == (
        "shared_payment_token_consumed"
    )


def test_idempotency_key_replays_and_detects_changed_parameters(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    _, spt = agent.approved_spt(merchant.network_id)
    first = confirm(any_wallet, merchant, spt_form(spt), idempotency_key="order-1")
    replay = confirm(any_wallet, merchant, spt_form(spt), idempotency_key="order-1")
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    changed = confirm(any_wallet, merchant, spt_form(spt, amount=1), idempotency_key="order-1")
    assert changed.status_code == 400
    assert changed.json()["error"]["type"] == "idempotency_error"


def test_unknown_payment_intents_and_other_merchants_objects_are_404(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    _, spt = agent.approved_spt(merchant.network_id)
    intent = confirm(any_wallet, merchant, spt_form(spt)).json()
    other = register_merchant(any_wallet)
    for who, path in [
        (other, f"/v1/payment_intents/{intent['id']}"),
        (merchant, "/v1/payment_intents/pi_doesnotexist"),
        (merchant, "/v1/shared_payment/granted_tokens/spt_doesnotexist"),
    ]:
        response = httpx2.get(any_wallet.url + path, headers=who.auth)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"


def test_a_virtual_card_pays_once_with_its_exact_details(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, card = agent.approved_card(amount=1850)
    paid = confirm(any_wallet, merchant, card_form(card, amount=1850))
    assert paid.status_code == 200, paid.text
    assert card["number"] not in paid.text
    spend = agent.retrieve(request_id)
    assert spend["status"] == "succeeded"
    assert spend["payment_status_details"]["outcome"] == "success"

    second = confirm(any_wallet, merchant, card_form(card, amount=100))
    assert second.status_code == 402
    error = second.json()["error"]
    assert (error["type"], error["code"]) == ("card_error", "card_declined")
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert agent.retrieve(request_id)["status"] == "succeeded"


def test_a_wrong_cvc_is_declined_without_burning_the_card(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, card = agent.approved_card()
    wrong = "000" if card["cvc"] != "000" else "111"
    declined = confirm(any_wallet, merchant, card_form(card, cvc=wrong))
    assert declined.status_code == 402
    error = declined.json()["error"]
    # A wrong CVC is the generic decline, as an unknown number is (docs/security.md).
    assert (error["code"], error["decline_code"]) == ("card_declined", "generic_decline")
    # The CVC as a number of its own: it may well occur inside a timestamp or an id.
    echoed = re.search(rf"(?<!\d){card['cvc']}(?!\d)", json.dumps(error))
    assert echoed is None or card["cvc"] == wrong
    assert agent.retrieve(request_id)["status"] == "approved"
    assert confirm(any_wallet, merchant, card_form(card)).status_code == 200


def test_three_wrong_cvcs_burn_the_card_and_fail_the_request(
    any_wallet: WalletProcess, agent: DelegatedAgent
) -> None:
    # Only the merchant the card was approved for (its site is the request's merchant_url)
    # can burn it; the merchant sees generic declines, the agent the real reason.
    merchant = register_merchant(any_wallet, url="https://shop.example")
    request_id, card = agent.approved_card()
    wrong = "000" if card["cvc"] != "000" else "111"
    for _ in range(3):
        assert confirm(any_wallet, merchant, card_form(card, cvc=wrong)).status_code == 402
    spend = agent.retrieve(request_id)
    assert spend["status"] == "failed"
    assert spend["payment_status_details"]["decline_code"] == "incorrect_cvc"
    assert confirm(any_wallet, merchant, card_form(card)).status_code == 402


def test_a_card_above_its_approval_is_declined_and_the_request_fails(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, card = agent.approved_card(amount=1200)
    declined = confirm(any_wallet, merchant, card_form(card, amount=1850))
    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "invalid_amount"
    spend = agent.retrieve(request_id)
    assert (spend["status"], spend["payment_status_details"]["outcome"]) == ("failed", "failure")


def test_twenty_concurrent_redemptions_of_one_spt_succeed_exactly_once(
    any_wallet: WalletProcess, merchant: Merchant, agent: DelegatedAgent
) -> None:
    request_id, spt = agent.approved_spt(merchant.network_id)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda _: confirm(any_wallet, merchant, spt_form(spt)), range(20))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.text for r in responses if r.status_code != 400]
    assert statuses.count(400) == 19
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 400}
    assert codes == {"shared_payment_token_consumed"}
    assert agent.retrieve(request_id)["status"] == "succeeded"
