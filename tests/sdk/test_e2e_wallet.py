"""The SDK against a real ``link-wallet serve`` process: device login approved by the person
through the wallet's own forms, account reads, spend requests, refresh and revocation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.wallet import WalletProcess

from link_cli.sdk import (
    LinkApiError,
    LinkClient,
    TokenStore,
)

CONTEXT = (
    "Buying one bag of single-origin coffee beans for the office kitchen, as the person asked "
    "in chat this morning; the shop only takes cards."
)


@pytest.fixture
def person(wallet: WalletProcess) -> Iterator[Any]:
    person = wallet.create_person()
    yield person
    person.close()


def client_for(wallet: WalletProcess, auth_file: Path) -> LinkClient:
    return LinkClient(
        api_base_url=wallet.url, auth_base_url=wallet.url, auth_file=auth_file, env={}
    )


def device_login(client: LinkClient, person: Any) -> dict[str, Any]:
    """Initiate, see it pending, let the person approve in the wallet, poll the tokens."""
    device = client.auth.initiate_device_auth(client_name="SDK e2e")
    assert device["verification_url_complete"].startswith(f"{client.api_base_url}/device/setup")
    assert client.auth.poll_device_auth(device["device_code"]) is None
    person.approve_device(device["verification_url_complete"])
    tokens = client.auth.poll_device_auth(device["device_code"])
    assert tokens is not None and tokens["token_type"] == "Bearer"
    client.token_store.set_auth(tokens)
    return dict(tokens)


def test_login_then_read_the_account(wallet: WalletProcess, person: Any, tmp_path: Path) -> None:
    client = client_for(wallet, tmp_path / "creds")
    assert client.token_store.path == str(tmp_path / "creds.json")
    assert client.is_authenticated() is False
    device_login(client, person)
    assert client.is_authenticated() is True

    methods = client.payment_methods.list()
    assert person.payment_method_id in [m["id"] for m in methods]
    assert client.user_info.retrieve()["email"] == person.email
    assert isinstance(client.shipping_addresses.list(), list)


def test_spend_request_lifecycle(wallet: WalletProcess, person: Any, tmp_path: Path) -> None:
    client = client_for(wallet, tmp_path / "creds.json")
    device_login(client, person)
    created = client.spend_requests.create(
        {
            "payment_details": person.payment_method_id,
            "credential_type": "card",
            "amount": 1800,
            "currency": "usd",
            "merchant_name": "Bean Shop",
            "merchant_url": "https://beans.example",
            "context": CONTEXT,
            "line_items": [{"name": "Coffee beans", "quantity": 1, "unit_amount": 1800}],
            "totals": [{"type": "total", "display_text": "Total", "amount": 1800}],
            "request_approval": True,
        }
    )
    assert created["id"].startswith("lsrq_")
    assert created["status"] == "pending_approval"
    fetched = client.spend_requests.retrieve(created["id"], include=["card"])
    assert fetched is not None and fetched["id"] == created["id"]
    assert "card" not in fetched or not fetched["card"].get("number")  # not approved: no card
    assert created["id"] in [r["id"] for r in client.spend_requests.list()]
    assert client.spend_requests.retrieve("lsrq_does_not_exist") is None

    canceled = client.spend_requests.cancel(created["id"])
    assert canceled["status"] == "canceled"
    with pytest.raises(LinkApiError) as caught:
        client.spend_requests.cancel(created["id"])
    assert caught.value.status == 409
    assert caught.value.message.startswith("Failed to cancel spend request (409): ")


def test_refresh_rotates_and_revoke_ends_the_session(
    wallet: WalletProcess, person: Any, tmp_path: Path
) -> None:
    client = client_for(wallet, tmp_path / "creds.json")
    first = device_login(client, person)

    # A forced refresh (what a 401 triggers) stores a new pair that works.
    new_access = client.token_provider(True)
    stored = TokenStore(tmp_path / "creds.json").get_auth()
    assert stored is not None
    assert new_access == stored["access_token"] != first["access_token"]
    assert stored["refresh_token"] != first["refresh_token"]
    assert client.payment_methods.list()

    # The rotated-away refresh token is no longer accepted.
    with pytest.raises(LinkApiError) as caught:
        client.auth.refresh(first["refresh_token"])
    assert caught.value.message.startswith("Token refresh failed (")

    client.auth.revoke(stored["refresh_token"])
    with pytest.raises(LinkApiError):
        client.auth.refresh(stored["refresh_token"])


def test_expired_access_token_is_refreshed_on_401_and_retried(
    wallet: WalletProcess, person: Any, tmp_path: Path
) -> None:
    client = client_for(wallet, tmp_path / "creds.json")
    tokens = device_login(client, person)
    # Make the local copy look fresh but hand the server a token it does not know: the
    # server answers 401, the SDK refreshes with the real refresh token and retries once.
    client.token_store.set_auth({**tokens, "access_token": "not-a-real-token"})
    assert client.user_info.retrieve()["email"] == person.email
    stored = client.token_store.get_auth()
    assert stored is not None and stored["access_token"] not in (
        "not-a-real-token",
        tokens["access_token"],
    )


def test_person_denies_the_login(wallet: WalletProcess, person: Any, tmp_path: Path) -> None:
    client = client_for(wallet, tmp_path / "creds.json")
    device = client.auth.initiate_device_auth()
    person.deny_device(device["verification_url_complete"])
    with pytest.raises(LinkApiError) as caught:
        client.auth.poll_device_auth(device["device_code"])
    assert str(caught.value) == "Authorization denied by user."
    assert caught.value.code == "access_denied"
