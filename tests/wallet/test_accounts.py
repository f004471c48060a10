"""Link API account endpoints (contract §7.1 rows 8–10, shapes in contract §7.5–7.7) and concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2
from tests.support.person import (
    CLIENT_ID,
    bearer,
    poll_device_token,
    start_device_login,
    wallet_tokens,
)
from tests.support.wallet import WalletProcess


def test_payment_details_shape(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    tokens = wallet_tokens(any_wallet, person)
    response = httpx2.get(f"{any_wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    assert response.status_code == 200
    [card] = response.json()["payment_details"]
    assert card == {
        "id": person.payment_method_id,
        "type": "card",
        "is_default": True,
        "nickname": None,
        "card_details": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034},
        "capabilities": {"agentic_payments": {"eligible": True, "ineligibility_reasons": []}},
    }


def test_a_card_that_expired_is_listed_as_not_eligible(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet = make_wallet()
    person = wallet.create_person()
    wallet.advance_clock(10 * 365 * 24 * 3600)  # the card expires 12/2034
    fresh = wallet_tokens(wallet, person)
    response = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(fresh), timeout=10)
    capability = response.json()["payment_details"][0]["capabilities"]["agentic_payments"]
    assert capability == {"eligible": False, "ineligibility_reasons": ["card_expired"]}


def test_shipping_addresses_and_user_info(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    tokens = wallet_tokens(any_wallet, person)
    shipping = httpx2.get(
        f"{any_wallet.url}/shipping_addresses", headers=bearer(tokens), timeout=10
    ).json()
    [address] = shipping["shipping_addresses"]
    assert address["id"].startswith("shpadr_")
    assert address["is_default"] is True
    assert address["nickname"] is None
    assert address["address"] == {
        "name": "Jenny Rosen",
        "line_1": "510 Townsend St",
        "line_2": None,
        "locality": "San Francisco",
        "dependent_locality": None,
        "administrative_area": "CA",
        "postal_code": "94103",
        "sorting_code": None,
        "country_code": "US",
    }
    info = httpx2.get(f"{any_wallet.url}/userinfo", headers=bearer(tokens), timeout=10).json()
    assert info == {
        "email": person.email,
        "name": "Jenny Rosen",
        "first_name": "Jenny",
        "last_name": "Rosen",
        "phone": None,
    }


def test_a_person_without_cards_or_addresses_gets_empty_lists(wallet: WalletProcess) -> None:
    person = wallet.create_person(with_card=False)
    tokens = wallet_tokens(wallet, person)
    cards = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    assert cards.json() == {"payment_details": []}
    addresses = httpx2.get(f"{wallet.url}/shipping_addresses", headers=bearer(tokens), timeout=10)
    assert addresses.json() == {"shipping_addresses": []}


def test_unknown_routes_and_bad_json_use_the_error_shape(wallet: WalletProcess) -> None:
    missing = httpx2.get(f"{wallet.url}/no-such-thing", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad_json = httpx2.post(
        f"{wallet.url}/__test__/clock",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "invalid_json"
    negative = httpx2.post(f"{wallet.url}/__test__/clock", json={"advance_seconds": -5}, timeout=10)
    assert negative.status_code == 400
    assert negative.json()["error"]["code"] == "invalid_request"


def test_concurrent_refreshes_of_one_token_yield_one_winner(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    tokens = wallet_tokens(any_wallet, person)

    def refresh(_: int) -> int:
        return httpx2.post(
            f"{any_wallet.url}/device/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": CLIENT_ID,
            },
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(refresh, range(6)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 5


def test_concurrent_polls_of_an_approved_code_yield_one_token(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    started = start_device_login(any_wallet)
    person.approve_device(started["verification_uri_complete"])
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(
            pool.map(lambda _: poll_device_token(any_wallet, started["device_code"]), range(6))
        )
    assert [r.status_code for r in responses].count(200) == 1
    assert {r.json()["error"] for r in responses if r.status_code != 200} == {"invalid_grant"}
