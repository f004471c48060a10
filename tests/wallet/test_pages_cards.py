"""The "add a card" page: validation with per-field errors, secrets never echoed."""

from __future__ import annotations

import httpx2
from tests.support.person import bearer, wallet_tokens
from tests.support.wallet import WalletProcess

GOOD_CARD = {
    "number": "5555 5555 5555 4444",
    "exp_month": "7",
    "exp_year": "2033",
    "cvc": "321",
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "line2": "",
    "city": "London",
    "state": "",
    "postal_code": "SW1Y 4LG",
    "country": "gb",
    "nickname": "Work card",
}


def _cards(wallet: WalletProcess, tokens: dict[str, str]) -> list[dict[str, object]]:
    response = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    return response.json()["payment_details"]


def test_add_a_card_through_the_page(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person(with_card=False)
    person.sign_in()
    response = person.submit_form("/wallet/cards/new", GOOD_CARD, action="/wallet/cards/new")
    assert response.url.path == "/wallet"
    assert "Card added" in response.text
    assert "Mastercard" in response.text
    assert "4444" in response.text
    assert "5555 5555" not in response.text

    cards = _cards(any_wallet, wallet_tokens(any_wallet, person))
    assert len(cards) == 1
    assert cards[0]["is_default"] is True
    assert cards[0]["nickname"] == "Work card"
    assert cards[0]["card_details"] == {
        "brand": "mastercard",
        "last4": "4444",
        "exp_month": 7,
        "exp_year": 2033,
    }


def test_invalid_card_is_refused_field_by_field_without_echoing_secrets(
    any_wallet: WalletProcess,
) -> None:
    person = any_wallet.create_person()
    person.sign_in()
    tokens = wallet_tokens(any_wallet, person)
    before = _cards(any_wallet, tokens)

    bad = {
        **GOOD_CARD,
        "number": "4111111111111112",  # fails Luhn
        "exp_month": "1",
        "exp_year": "2020",  # expired
        "cvc": "98765",
        "line1": "",
        "country": "Narnia",
    }
    response = person.submit_form("/wallet/cards/new", bad, action="/wallet/cards/new")
    assert response.status_code == 400
    assert "not valid" in response.text  # number
    assert "expired" in response.text
    assert "security code" in response.text
    assert "street address" in response.text
    assert "two-letter country" in response.text
    assert "4111111111111112" not in response.text
    assert "98765" not in response.text
    assert "Ada Lovelace" in response.text  # harmless fields are kept for correction

    assert _cards(any_wallet, tokens) == before


def test_amex_needs_a_four_digit_cvc(wallet: WalletProcess) -> None:
    person = wallet.create_person(with_card=False)
    person.sign_in()
    card = {**GOOD_CARD, "number": "378282246310005", "cvc": "123"}
    response = person.submit_form("/wallet/cards/new", card, action="/wallet/cards/new")
    assert response.status_code == 400
    assert "4 digits" in response.text
    ok = person.submit_form(
        "/wallet/cards/new", {**card, "cvc": "1234"}, action="/wallet/cards/new"
    )
    assert "American Express" in ok.text


def test_the_card_form_needs_a_signed_in_person_and_csrf(wallet: WalletProcess) -> None:
    person = wallet.create_person(with_card=False)
    anonymous = httpx2.post(f"{wallet.url}/wallet/cards/new", data=GOOD_CARD, timeout=10)
    assert anonymous.status_code == 303
    person.sign_in()
    no_token = person.client.post("/wallet/cards/new", data=GOOD_CARD)
    assert no_token.status_code == 403
    assert "No cards yet" in person.client.get("/wallet").text


def test_the_sandbox_card_form_loads_nothing_from_stripe(wallet: WalletProcess) -> None:
    person = wallet.create_person(with_card=False)
    person.sign_in()
    page = person.client.get("/wallet/cards/new")
    assert page.status_code == 200 and 'name="number"' in page.text
    assert "stripe.com" not in page.text
    assert "stripe.com" not in page.headers["content-security-policy"]
