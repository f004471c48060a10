"""OAuth device login (RFC 8628, contract §6.1) against a real wallet process."""

from __future__ import annotations

import httpx2
import pytest
from tests.support.person import (
    CLIENT_ID,
    DEVICE_GRANT,
    bearer,
    poll_device_token,
    start_device_login,
    wallet_tokens,
)
from tests.support.wallet import WalletProcess


def _post(wallet: WalletProcess, path: str, **data: str) -> httpx2.Response:
    return httpx2.post(f"{wallet.url}{path}", data=data, timeout=10)


def test_device_login_end_to_end(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    started = start_device_login(any_wallet, connection_label="Claude on laptop")

    assert started["expires_in"] == 900
    assert started["interval"] == 5
    assert started["verification_uri"] == f"{any_wallet.url}/device/setup"
    assert started["verification_uri_complete"].endswith("?code=" + started["user_code"])
    assert 2 <= len(started["user_code"].split("-")) <= 3

    pending = poll_device_token(any_wallet, started["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"

    page = person.approve_device(started["verification_uri_complete"])
    assert "Claude on laptop" in page.text

    tokens = poll_device_token(any_wallet, started["device_code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"].split() == ["userinfo:read", "payment_methods.agentic"]
    assert body["access_token"] != body["refresh_token"]

    me = httpx2.get(f"{any_wallet.url}/userinfo", headers=bearer(body), timeout=10)
    assert me.status_code == 200
    assert me.json()["email"] == person.email

    # The device code is single use.
    again = poll_device_token(any_wallet, started["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_the_verification_page_shows_agent_and_access_in_plain_words(
    wallet: WalletProcess,
) -> None:
    person = wallet.create_person()
    person.sign_in()
    started = start_device_login(wallet, connection_label="Cursor on build-box")
    page = person.client.get("/device/setup", params={"code": started["user_code"].upper()})
    assert page.status_code == 200
    assert "Cursor on build-box" in page.text
    assert "See your name and email address" in page.text
    assert started["user_code"] in page.text
    assert "allow_approve_scope" not in page.text  # not requested, so not offered


def test_the_verification_page_asks_to_sign_in_first(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    started = start_device_login(wallet)
    response = person.client.get(started["verification_uri_complete"], follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=/device/setup")

    # After signing in the person lands back on the verification page.
    person.client.get(response.headers["location"])
    signed_in = person.submit_form(
        response.headers["location"],
        {"email": person.email, "password": person.password},
        action="/signin",
    )
    assert signed_in.url.path == "/device/setup"
    assert started["user_code"] in signed_in.text


def test_unknown_scopes_are_shown_but_not_granted(wallet: WalletProcess) -> None:
    # The official client passes scopes like balances:read through (contract §6.3); the wallet lists
    # them as not offered, grants the rest and says so in the token's scope (RFC 6749 §3.3).
    person = wallet.create_person()
    started = start_device_login(wallet, scope="userinfo:read balances:read <i>x</i>")
    person.sign_in()
    page = person.client.get(started["verification_uri_complete"])
    assert "does not offer" in page.text
    assert "<code>balances:read</code>" in page.text
    assert "<code>&lt;i&gt;x&lt;/i&gt;</code>" in page.text  # shown as text, never as markup
    person.approve_device(started["verification_uri_complete"])
    tokens = poll_device_token(wallet, started["device_code"]).json()
    assert tokens["scope"] == "userinfo:read"
    me = httpx2.get(f"{wallet.url}/userinfo", headers=bearer(tokens), timeout=10)
    assert me.status_code == 200
    cards = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    assert cards.status_code == 403
    assert cards.json()["error"]["code"] == "insufficient_scope"


def test_denied_login_answers_access_denied(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    started = start_device_login(any_wallet)
    person.deny_device(started["verification_uri_complete"])
    response = poll_device_token(any_wallet, started["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "access_denied"
    assert response.json()["error_description"]


def test_polling_faster_than_the_interval_earns_slow_down(wallet: WalletProcess) -> None:
    started = start_device_login(wallet)
    first = poll_device_token(wallet, started["device_code"])
    second = poll_device_token(wallet, started["device_code"])
    assert first.json()["error"] == "authorization_pending"
    assert second.status_code == 400
    assert second.json()["error"] == "slow_down"
    assert "10 seconds" in second.json()["error_description"]  # interval bumped by 5


def test_device_codes_expire(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet = make_wallet()
    person = wallet.create_person()
    started = start_device_login(wallet)
    wallet.advance_clock(901)
    response = poll_device_token(wallet, started["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "expired_token"
    # The phrase no longer leads anywhere either.
    person.sign_in()
    page = person.client.get(started["verification_uri_complete"])
    assert page.status_code == 400
    assert "match a pending sign-in" in page.text


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"client_id": "lwlpk_someone_else"}, "invalid_client"),
        ({}, "invalid_request"),
        ({"client_id": CLIENT_ID, "scope": "admin:all"}, "invalid_scope"),
        ({"client_id": CLIENT_ID, "scope": "userinfo:read a\\b"}, "invalid_scope"),
    ],
)
def test_device_code_errors(wallet: WalletProcess, data: dict[str, str], error: str) -> None:
    response = _post(wallet, "/device/code", **data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert isinstance(response.json()["error_description"], str)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"client_id": CLIENT_ID, "grant_type": DEVICE_GRANT, "device_code": "lwdc_nope"},
            "invalid_grant",
        ),
        ({"client_id": CLIENT_ID, "grant_type": DEVICE_GRANT}, "invalid_request"),
        ({"client_id": CLIENT_ID, "grant_type": "password"}, "unsupported_grant_type"),
        ({"client_id": "other", "grant_type": DEVICE_GRANT, "device_code": "x"}, "invalid_client"),
        (
            {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": "lwrt_x"},
            "invalid_grant",
        ),
    ],
)
def test_token_endpoint_errors(wallet: WalletProcess, data: dict[str, str], error: str) -> None:
    response = _post(wallet, "/device/token", **data)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_helper_returns_working_tokens(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    tokens = wallet_tokens(wallet, person)
    cards = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    assert cards.status_code == 200
    assert [c["id"] for c in cards.json()["payment_details"]] == [person.payment_method_id]


def test_wrong_phrases_are_refused_then_throttled(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    person.sign_in()
    started = start_device_login(wallet)

    wrong = person.client.get("/device/setup", params={"code": "apple-apple-apple"})
    assert wrong.status_code == 400
    assert "match a pending sign-in" in wrong.text
    _page, form = person.get_form(started["verification_uri_complete"], action="/device/setup")
    for _ in range(4):
        posted = person.client.post(
            "/device/setup",
            data={**form.fields, "user_code": "zebra-zebra-zebra", "action": "approve"},
        )
        assert posted.status_code == 400

    # Five failures in ten minutes: even the right phrase has to wait.
    locked = person.client.get(started["verification_uri_complete"])
    assert locked.status_code == 429
    assert "Too many wrong phrases" in locked.text
    assert poll_device_token(wallet, started["device_code"]).json()["error"] in {
        "authorization_pending",
        "slow_down",
    }

    # Another person is not affected by this person's mistakes.
    other = wallet.create_person()
    other.approve_device(started["verification_uri_complete"])
    assert poll_device_token(wallet, started["device_code"]).status_code == 200


def test_a_decided_login_cannot_be_answered_again(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    started = start_device_login(wallet)
    person.sign_in()
    _page, form = person.get_form(started["verification_uri_complete"], action="/device/setup")
    first = person.client.post("/device/setup", data={**form.fields, "action": "deny"})
    assert first.status_code == 200
    second = person.client.post("/device/setup", data={**form.fields, "action": "approve"})
    assert second.status_code == 400  # the phrase no longer names a pending login
    assert poll_device_token(wallet, started["device_code"]).json()["error"] == "access_denied"


def test_phrase_is_matched_case_and_separator_insensitively(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    started = start_device_login(wallet)
    typed = started["user_code"].upper().replace("-", " ")
    person.approve_device(typed)
    assert poll_device_token(wallet, started["device_code"]).status_code == 200


def test_agent_label_is_stripped_of_control_and_bidi_characters(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    person.sign_in()
    started = start_device_login(wallet, connection_label="\x1b[2JSafe\u202e Agent\r on host")
    page = person.client.get(started["verification_uri_complete"])
    assert "Safe Agent on host" in page.text
    assert "\u202e" not in page.text
    assert "\x1b" not in page.text


def test_oversized_forms_are_refused(wallet: WalletProcess) -> None:
    response = httpx2.post(
        f"{wallet.url}/device/code",
        data={"client_id": CLIENT_ID, "connection_label": "x" * 70_000},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
