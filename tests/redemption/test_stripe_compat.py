"""The wallet's ``/v1`` behaves like Stripe where a merchant's code notices, checked with the
official ``stripe`` SDK against a real wallet process on SQLite and PostgreSQL: listing with
cursor pagination, unknown URLs in Stripe's error shape, PaymentIntents created unconfirmed
and confirmed (or canceled) later, and PaymentMethods retrievable by their merchant only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
import stripe
from tests.redemption.delegated import DelegatedAgent, Merchant, delegated_agent, register_merchant
from tests.support.racing import race
from tests.support.wallet import WalletProcess

pytestmark = [pytest.mark.postgres, pytest.mark.server]

SHOP = "https://shop.example"  # the merchant_url of DelegatedAgent.approved_card


@dataclass
class Setup:
    wallet: WalletProcess
    merchant: Merchant
    agent: DelegatedAgent

    def client(self, merchant: Merchant | None = None) -> stripe.StripeClient:
        key = (merchant or self.merchant).secret_key
        return stripe.StripeClient(
            key, base_addresses={"api": self.wallet.url}, max_network_retries=0
        )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest) -> Iterator[Setup]:
    wallet = request.getfixturevalue("wallet" if request.param == "sqlite" else "pg_wallet")
    yield Setup(wallet, register_merchant(wallet, url=SHOP), delegated_agent(wallet))


def card_data(card: dict, **changes: str) -> dict:
    details = {k: card[k] for k in ("number", "exp_month", "exp_year", "cvc")}
    return {"type": "card", "card": {**details, **changes}}


def wrong_cvc(card: dict) -> str:
    return "000" if card["cvc"] != "000" else "111"


# --- 1. GET /v1/payment_intents ---------------------------------------------------------


def test_list_pages_through_the_merchants_own_intents_newest_first(setup: Setup) -> None:
    merchant = register_merchant(setup.wallet)  # a fresh merchant: its list is known
    client = setup.client(merchant)
    created = [
        client.v1.payment_intents.create({"amount": 100 + i, "currency": "usd"}) for i in range(5)
    ]
    newest_first = [intent.id for intent in reversed(created)]

    page = client.v1.payment_intents.list({"limit": 2})
    assert page.object == "list" and page.url == "/v1/payment_intents"
    assert page.has_more is True
    assert [intent.id for intent in page.data] == newest_first[:2]
    assert [intent.id for intent in page.auto_paging_iter()] == newest_first
    assert [i.id for i in client.v1.payment_intents.list().data] == newest_first  # default 10

    after = client.v1.payment_intents.list({"limit": 2, "starting_after": newest_first[1]})
    assert [i.id for i in after.data] == newest_first[2:4] and after.has_more is True
    last = client.v1.payment_intents.list({"limit": 2, "starting_after": newest_first[3]})
    assert [i.id for i in last.data] == newest_first[4:] and last.has_more is False
    before = client.v1.payment_intents.list({"limit": 2, "ending_before": newest_first[4]})
    assert [i.id for i in before.data] == newest_first[2:4] and before.has_more is True

    first = created[0].created
    since = client.v1.payment_intents.list({"created": {"gte": first}, "limit": 100})
    assert [i.id for i in since.data] == newest_first
    assert client.v1.payment_intents.list({"created": {"lt": first}}).data == []
    far = client.v1.payment_intents.list({"created": {"lte": 253402300798, "gt": first - 1}})
    assert len(far.data) == 5

    # Another merchant, and the same seller's test-mode key, see none of them.
    other = setup.client(register_merchant(setup.wallet))
    assert other.v1.payment_intents.list().data == []
    test_key = register_merchant(setup.wallet, merchant.network_id, livemode=False)
    assert setup.client(test_key).v1.payment_intents.list().data == []


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"starting_after": "pi_a", "ending_before": "pi_b"}, "ending_before"),
        ({"starting_after": "pi_unknown"}, "starting_after"),
        ({"created": {"after": 1}}, "created[after]"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_list_parameters_raise_invalid_request_error_naming_them(
    setup: Setup, params: dict, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        setup.client().v1.payment_intents.list(params)
    assert caught.value.http_status in (400, 404) and caught.value.param == param


def test_a_cursor_of_another_merchant_is_unknown(setup: Setup) -> None:
    mine = setup.client().v1.payment_intents.create({"amount": 100, "currency": "usd"})
    other = setup.client(register_merchant(setup.wallet))
    with pytest.raises(stripe.InvalidRequestError) as caught:
        other.v1.payment_intents.list({"starting_after": mine.id})
    assert caught.value.code == "resource_missing"


# --- 2. unknown URLs and methods ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/nope"),
        ("post", "/v1/customers"),
        ("delete", "/v1/payment_intents"),
        ("post", "/v1/payment_methods/pm_x"),
        ("get", "/v1/payment_intents/pi_x/confirm"),
        ("post", "/v1/payment_intents/"),
        ("get", "/v1/payment_intents/pi_x/"),
    ],
)
def test_unknown_urls_and_methods_raise_invalid_request_error(
    setup: Setup, method: str, path: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        setup.client().raw_request(method, path)
    assert caught.value.http_status == 404
    assert caught.value.error.type == "invalid_request_error"
    assert caught.value.user_message.startswith(
        f"Unrecognized request URL ({method.upper()}: {path})."
    )


def test_outside_v1_errors_keep_the_link_api_shape(setup: Setup) -> None:
    response = httpx2.get(f"{setup.wallet.url}/nope", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- 3. created unconfirmed, confirmed or canceled later --------------------------------


def test_an_intent_created_without_confirm_is_confirmed_later_with_an_spt(setup: Setup) -> None:
    client = setup.client()
    request_id, spt = setup.agent.approved_spt(setup.merchant.network_id, amount=800)
    draft = client.v1.payment_intents.create(
        {"amount": 800, "currency": "usd", "metadata": {"order": "o-9"}}
    )
    assert draft.status == "requires_payment_method" and draft.payment_method is None
    assert client.v1.payment_intents.retrieve(draft.id).status == "requires_payment_method"
    assert setup.agent.retrieve(request_id)["status"] == "approved"  # nothing examined

    options = {"idempotency_key": "confirm-" + draft.id}
    paid = client.v1.payment_intents.confirm(
        draft.id, {"shared_payment_granted_token": spt}, options
    )
    assert (paid.id, paid.status, paid.amount) == (draft.id, "succeeded", 800)
    assert paid.metadata["order"] == "o-9" and paid.payment_method.startswith("pm_")
    assert setup.agent.retrieve(request_id)["status"] == "succeeded"
    replay = client.v1.payment_intents.confirm(
        draft.id, {"shared_payment_granted_token": spt}, options
    )
    assert replay.id == paid.id and replay.last_response.headers["idempotent-replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):  # the same key on another endpoint
        client.v1.payment_intents.create({"amount": 800, "currency": "usd"}, options)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id, {"shared_payment_granted_token": spt})
    assert caught.value.code == "payment_intent_unexpected_state"
    assert "succeeded" in caught.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(draft.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(draft.id).status == "succeeded"


def test_an_spt_given_at_creation_is_charged_at_confirm(setup: Setup) -> None:
    client = setup.client()
    request_id, spt = setup.agent.approved_spt(setup.merchant.network_id, amount=400)
    draft = client.v1.payment_intents.create(
        {"amount": 400, "currency": "usd", "shared_payment_granted_token": spt}
    )
    assert draft.status == "requires_confirmation"
    assert setup.agent.retrieve(request_id)["status"] == "approved"
    assert client.v1.payment_intents.confirm(draft.id).status == "succeeded"
    assert setup.agent.retrieve(request_id)["status"] == "succeeded"


def test_a_refused_spt_leaves_the_intent_confirmable(setup: Setup) -> None:
    client = setup.client()
    draft = client.v1.payment_intents.create({"amount": 250, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id, {"shared_payment_granted_token": "spt_nope"})
    assert caught.value.code == "resource_missing"
    assert caught.value.error.payment_intent.status == "requires_payment_method"
    shown = client.v1.payment_intents.retrieve(draft.id)
    assert shown.last_payment_error.code == "resource_missing"
    _, spt = setup.agent.approved_spt(setup.merchant.network_id, amount=250)
    paid = client.v1.payment_intents.confirm(draft.id, {"shared_payment_granted_token": spt})
    assert paid.status == "succeeded" and paid.last_payment_error is None


def test_a_declined_card_leaves_the_intent_confirmable_and_its_payment_method_readable(
    setup: Setup,
) -> None:
    client = setup.client()
    request_id, card = setup.agent.approved_card(amount=1200)
    draft = client.v1.payment_intents.create({"amount": 1200, "currency": "usd"})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(
            draft.id, {"payment_method_data": card_data(card, cvc=wrong_cvc(card))}
        )
    assert declined.value.error.decline_code == "generic_decline"
    assert declined.value.error.payment_intent.id == draft.id
    assert declined.value.error.payment_intent.status == "requires_payment_method"
    assert card["number"] not in str(declined.value.json_body)

    paid = client.v1.payment_intents.confirm(draft.id, {"payment_method_data": card_data(card)})
    assert paid.status == "succeeded"
    assert setup.agent.retrieve(request_id)["status"] == "succeeded"

    method = client.v1.payment_methods.retrieve(paid.payment_method)
    assert (method.id, method.object, method.type) == (
        paid.payment_method,
        "payment_method",
        "card",
    )
    assert method.card.last4 == card["number"][-4:]
    assert (method.card.exp_month, method.card.exp_year) == (
        int(card["exp_month"]),
        int(card["exp_year"]) if int(card["exp_year"]) >= 100 else 2000 + int(card["exp_year"]),
    )
    shown = str(method.to_dict())
    assert card["number"] not in shown and "cvc" not in method.card.to_dict()
    # The declined attempt's PaymentMethod is readable too, and only by this merchant.
    failed_pm = declined.value.error.payment_intent.payment_method
    assert client.v1.payment_methods.retrieve(failed_pm).card.last4 == card["number"][-4:]
    other = setup.client(register_merchant(setup.wallet))
    for pm in (paid.payment_method, "pm_unknown", "card_x"):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            other.v1.payment_methods.retrieve(pm)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_a_canceled_intent_cannot_be_confirmed(setup: Setup) -> None:
    client = setup.client()
    draft = client.v1.payment_intents.create({"amount": 300, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(
        draft.id, {"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    assert canceled.cancellation_reason == "requested_by_customer"
    _, spt = setup.agent.approved_spt(setup.merchant.network_id, amount=300)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id, {"shared_payment_granted_token": spt})
    assert caught.value.code == "payment_intent_unexpected_state"
    # The token was not touched: another intent can still use it.
    fresh = client.v1.payment_intents.create(
        {"amount": 300, "currency": "usd", "confirm": True, "shared_payment_granted_token": spt}
    )
    assert fresh.status == "succeeded"


def test_confirming_needs_a_credential_and_the_intent_of_the_caller(setup: Setup) -> None:
    client = setup.client()
    draft = client.v1.payment_intents.create({"amount": 300, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(draft.id).status == "requires_payment_method"
    other = setup.client(register_merchant(setup.wallet))
    for call in (other.v1.payment_intents.confirm, other.v1.payment_intents.cancel):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call(draft.id)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as caught:  # card data only with confirm
        client.v1.payment_intents.create(
            {
                "amount": 300,
                "currency": "usd",
                "payment_method_data": card_data(
                    {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "1"}
                ),
            }
        )
    assert caught.value.param == "payment_method_data"


def test_concurrent_confirmations_of_one_intent_succeed_once(setup: Setup) -> None:
    client = setup.client()
    request_id, spt = setup.agent.approved_spt(setup.merchant.network_id, amount=500)
    draft = client.v1.payment_intents.create(
        {"amount": 500, "currency": "usd", "shared_payment_granted_token": spt}
    )

    def confirm() -> int:
        response = httpx2.post(
            f"{setup.wallet.url}/v1/payment_intents/{draft.id}/confirm",
            headers=setup.merchant.auth,
            timeout=60,
        )
        assert response.status_code < 500, response.text
        return response.status_code

    statuses = race([confirm] * 4)
    assert statuses.count(200) == 1, statuses
    assert setup.agent.retrieve(request_id)["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(draft.id).status == "succeeded"


# --- 5. hostile input: 4xx in Stripe's shape, never 5xx -------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/payment_intents?limit=1e3", None),
        ("get", "/v1/payment_intents?created[gte][x]=1", None),
        ("get", "/v1/payment_intents?starting_after=%00", None),
        ("get", "/v1/payment_intents?limit=99999999999999999999999", None),
        ("get", "/v1/payment_intents?created[gt]=253402300799", None),
        ("post", "/v1/payment_intents/pi_x/confirm", "payment_method_data=x"),
        ("post", "/v1/payment_intents/pi_x/confirm", "%ff=1"),
        ("post", "/v1/payment_intents/pi_x/cancel", "cancellation_reason[a]=b"),
        ("get", "/v1/payment_methods/%00", None),
        ("get", "/v1/payment_methods/" + "p" * 5000, None),
    ],
)
def test_hostile_input_is_a_stripe_4xx(setup: Setup, method: str, path: str, body: str) -> None:
    headers = {**setup.merchant.auth, "Content-Type": "application/x-www-form-urlencoded"}
    response = httpx2.request(
        method, setup.wallet.url + path, content=body, headers=headers, timeout=30
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


# --- the key's card budget: spent by card confirmations only --------------------------------


def test_only_card_confirmations_spend_the_keys_failure_budget(make_wallet) -> None:
    wallet = make_wallet(env={"LINK_WALLET_THROTTLE_CARD_FAILURES_PER_KEY": "2"})
    merchant = register_merchant(wallet)
    client = stripe.StripeClient(
        merchant.secret_key, base_addresses={"api": wallet.url}, max_network_retries=0
    )
    unknown = card_data(
        {"number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "123"}
    )
    drafts = [
        client.v1.payment_intents.create({"amount": 100, "currency": "usd"}) for _ in range(4)
    ]
    done = client.v1.payment_intents.cancel(drafts[3].id)
    for _ in range(3):  # a card refused before any is examined gives its place back
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.confirm(done.id, {"payment_method_data": unknown})
    for draft in drafts[:2]:
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.confirm(draft.id, {"payment_method_data": unknown})
        assert declined.value.error.decline_code == "generic_decline"
    with pytest.raises(stripe.RateLimitError) as refused:
        client.v1.payment_intents.confirm(drafts[2].id, {"payment_method_data": unknown})
    assert refused.value.error.code == "rate_limit"
    # Creating, listing and reading spend nothing and are still answered.
    assert client.v1.payment_intents.create({"amount": 100, "currency": "usd"}).id
    assert len(client.v1.payment_intents.list().data) == 5
    assert client.v1.payment_intents.retrieve(drafts[2].id).status == "requires_payment_method"
