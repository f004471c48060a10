"""Access/refresh tokens: rotation, reuse detection, revocation, expiry, scopes, isolation."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from tests.support.person import (
    CLIENT_ID,
    bearer,
    poll_device_token,
    start_device_login,
    wallet_tokens,
)
from tests.support.wallet import WalletProcess


def _refresh(wallet: WalletProcess, refresh_token: str) -> httpx2.Response:
    return httpx2.post(
        f"{wallet.url}/device/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
        },
        timeout=10,
    )


def _revoke(wallet: WalletProcess, token: str) -> httpx2.Response:
    return httpx2.post(
        f"{wallet.url}/device/revoke", data={"client_id": CLIENT_ID, "token": token}, timeout=10
    )


def _userinfo(wallet: WalletProcess, tokens: dict[str, Any] | str) -> httpx2.Response:
    return httpx2.get(f"{wallet.url}/userinfo", headers=bearer(tokens), timeout=10)


def test_refresh_rotates_and_reuse_revokes_the_family(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    first = wallet_tokens(any_wallet, person)

    second_response = _refresh(any_wallet, first["refresh_token"])
    assert second_response.status_code == 200
    second = second_response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert _userinfo(any_wallet, second).status_code == 200

    # Presenting the spent refresh token again is treated as theft: everything dies.
    replay = _refresh(any_wallet, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _userinfo(any_wallet, second).status_code == 401
    assert _refresh(any_wallet, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_the_refresh_token_kills_access_at_once(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    tokens = wallet_tokens(any_wallet, person)
    assert _userinfo(any_wallet, tokens).status_code == 200

    assert _revoke(any_wallet, tokens["refresh_token"]).status_code == 200

    denied = _userinfo(any_wallet, tokens)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "invalid_token"
    assert "Bearer" in denied.headers["www-authenticate"]
    assert _refresh(any_wallet, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_an_access_token_or_an_unknown_token(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    tokens = wallet_tokens(wallet, person)
    assert _revoke(wallet, tokens["access_token"]).status_code == 200
    assert _userinfo(wallet, tokens).status_code == 401
    assert _revoke(wallet, "lwrt_never_issued").status_code == 200  # RFC 7009 §2.2
    missing = httpx2.post(f"{wallet.url}/device/revoke", data={"client_id": CLIENT_ID}, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


def test_access_tokens_expire_after_an_hour_and_refresh_still_works(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet = make_wallet()
    person = wallet.create_person()
    tokens = wallet_tokens(wallet, person)
    wallet.advance_clock(3599)
    assert _userinfo(wallet, tokens).status_code == 200
    wallet.advance_clock(2)
    assert _userinfo(wallet, tokens).status_code == 401
    fresh = _refresh(wallet, tokens["refresh_token"])
    assert fresh.status_code == 200
    assert _userinfo(wallet, fresh.json()).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer lwat_forged", "Basic dXNlcjpwYXNz", "bearer"],
)
def test_missing_or_bad_bearer_is_401_in_contract_shape(wallet: WalletProcess, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    for path in ("/payment-details", "/shipping_addresses", "/userinfo"):
        response = httpx2.get(f"{wallet.url}{path}", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
        assert response.json()["error"]["message"]


def test_scopes_are_enforced(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    only_userinfo = wallet_tokens(any_wallet, person, scope="userinfo:read")
    assert only_userinfo["scope"] == "userinfo:read"
    cards = httpx2.get(
        f"{any_wallet.url}/payment-details", headers=bearer(only_userinfo), timeout=10
    )
    assert cards.status_code == 403
    assert cards.json()["error"]["code"] == "insufficient_scope"
    assert _userinfo(any_wallet, only_userinfo).status_code == 200

    only_cards = wallet_tokens(any_wallet, person, scope="payment_methods.agentic")
    assert _userinfo(any_wallet, only_cards).status_code == 403
    assert (
        httpx2.get(
            f"{any_wallet.url}/payment-details", headers=bearer(only_cards), timeout=10
        ).status_code
        == 200
    )


def test_approve_scope_needs_the_persons_explicit_tick(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    scope = "userinfo:read payment_methods.agentic spend_requests:approve"

    started = start_device_login(wallet, scope=scope)
    page = person.approve_device(started["verification_uri_complete"])  # box left unticked
    granted = poll_device_token(wallet, started["device_code"]).json()
    assert granted["scope"].split() == ["userinfo:read", "payment_methods.agentic"]
    assert "return to your terminal" in page.text

    ticked = wallet_tokens(wallet, person, scope=scope, grant_approve_scope=True)
    assert "spend_requests:approve" in ticked["scope"].split()

    # Ticking the box does nothing when the agent did not ask for the scope.
    unasked = wallet_tokens(wallet, person, grant_approve_scope=True)
    assert "spend_requests:approve" not in unasked["scope"].split()


def test_the_approve_scope_is_offered_as_a_separate_unticked_box(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    person.sign_in()
    started = start_device_login(wallet, scope="payment_methods.agentic spend_requests:approve")
    page = person.client.get(started["verification_uri_complete"])
    assert 'name="allow_approve_scope"' in page.text
    assert 'name="allow_approve_scope" value="1" checked' not in page.text
    assert "approve payments on your behalf" in page.text


def test_authorization_details_round_trip(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    response = httpx2.post(
        f"{wallet.url}/device/code",
        content=(
            "client_id=lwlpk_U7Qy7ThG69STZk&scope=userinfo%3Aread&connection_label=A+on+b"
            "&authorization_details%5B%5D%5Btype%5D=source"
            "&authorization_details%5B%5D%5Bactions%5D%5B%5D=read_balances"
            "&authorization_details%5B%5D=true"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200
    started = response.json()
    page = person.approve_device(started["verification_uri_complete"])
    assert page.status_code == 200
    tokens = poll_device_token(wallet, started["device_code"]).json()
    assert tokens["authorization_details"] == [
        {"type": "source", "actions": ["read_balances"]},
        True,
    ]


def test_a_person_sees_only_their_own_data(any_wallet: WalletProcess) -> None:
    alice = any_wallet.create_person()
    bob = any_wallet.create_person()
    alice_tokens = wallet_tokens(any_wallet, alice)
    bob_tokens = wallet_tokens(any_wallet, bob)

    def card_ids(tokens: dict[str, Any]) -> list[str]:
        response = httpx2.get(
            f"{any_wallet.url}/payment-details", headers=bearer(tokens), timeout=10
        )
        return [c["id"] for c in response.json()["payment_details"]]

    assert card_ids(alice_tokens) == [alice.payment_method_id]
    assert card_ids(bob_tokens) == [bob.payment_method_id]
    assert _userinfo(any_wallet, bob_tokens).json()["email"] == bob.email
