"""AuthResource: the device grant, refresh and revoke wire format and errors (contract §6.1–6.2)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from tests.sdk.stub import RecordedRequest, StubResponse, StubServer

from link_cli import __version__
from link_cli.sdk import (
    CLIENT_ID,
    AuthResource,
    LinkApiError,
    LinkAuthorizationDeclinedError,
    LinkTransportError,
)
from link_cli.sdk.auth import flatten_form_value

StartStub = Callable[[Callable[[RecordedRequest], StubResponse]], StubServer]

DEVICE_CODE_RESPONSE = {
    "device_code": "dc_secret",
    "user_code": "apple-banana",
    "verification_uri": "http://w/device/setup",
    "verification_uri_complete": "http://w/device/setup?code=apple-banana",
    "expires_in": 600,
    "interval": 5,
}


def answer(payload: object, status: int = 200) -> Callable[[RecordedRequest], StubResponse]:
    return lambda request: StubResponse.json(payload, status)


def test_initiate_sends_fields_in_order_and_maps_verification_urls(stub: StartStub) -> None:
    server = stub(answer(DEVICE_CODE_RESPONSE))
    auth = AuthResource(server.url, hostname="build-box")
    result = auth.initiate_device_auth()
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/device/code")
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.header("User-Agent") == f"link-cli/{__version__}"
    assert request.header("Authorization") is None
    assert request.body.decode() == (
        f"client_id={CLIENT_ID}&scope=userinfo%3Aread+payment_methods.agentic"
        "&connection_label=Link+CLI+on+build-box&client_hint=Link+CLI"
    )
    assert result == {
        "device_code": "dc_secret",
        "user_code": "apple-banana",
        "verification_url": "http://w/device/setup",
        "verification_url_complete": "http://w/device/setup?code=apple-banana",
        "expires_in": 600,
        "interval": 5,
    }


def test_connection_label_uses_the_real_hostname_by_default(stub: StartStub) -> None:
    server = stub(answer(DEVICE_CODE_RESPONSE))
    AuthResource(server.url).initiate_device_auth(client_name="My Agent", scope="a b")
    form = server.requests[0].form()
    assert form[1] == ("scope", "a b")
    assert form[2] == ("connection_label", f"My Agent on {socket.gethostname()}")
    assert form[3] == ("client_hint", "My Agent")


def test_source_actions_come_first_then_freeform_details(stub: StartStub) -> None:
    server = stub(answer(DEVICE_CODE_RESPONSE))
    AuthResource(server.url, hostname="h").initiate_device_auth(
        source_actions=["read_balances", "read_balances"],
        authorization_details=[
            {"type": "account", "filters": ["current", {"include_inactive": True}]},
            True,
        ],
    )
    body = server.requests[0].body.decode()
    expected_tail = urlencode(
        [
            ("authorization_details[][type]", "source"),
            ("authorization_details[][actions][]", "read_balances"),
            ("authorization_details[][type]", "account"),
            ("authorization_details[][filters][]", "current"),
            ("authorization_details[][filters][][include_inactive]", "true"),
            ("authorization_details[]", "true"),
        ]
    )
    assert body.endswith("&client_hint=Link+CLI&" + expected_tail)
    assert (
        "authorization_details%5B%5D%5Btype%5D=source&authorization_details%5B%5D%5Bactions%5D%5B%5D=read_balances"
        in body
    )


@pytest.mark.parametrize(
    ("value", "pairs"),
    [
        ({}, []),
        ([], []),
        (None, [("k", "null")]),
        (False, [("k", "false")]),
        (3.0, [("k", "3")]),
        (2.5, [("k", "2.5")]),
        ({"a": {"b": [1, {}]}}, [("k[a][b][]", "1")]),
    ],
)
def test_php_style_flattening(value: object, pairs: list[tuple[str, str]]) -> None:
    assert list(flatten_form_value("k", value)) == pairs


def test_initiate_error_message_and_oauth_code(stub: StartStub) -> None:
    server = stub(answer({"error": "invalid_scope", "error_description": "Unknown scope x"}, 400))
    with pytest.raises(LinkApiError) as caught:
        AuthResource(server.url, hostname="h").initiate_device_auth(scope="x")
    assert str(caught.value) == "Device auth initiation failed (400): Unknown scope x"
    assert caught.value.code == "invalid_scope"
    assert caught.value.status == 400


@pytest.mark.parametrize("oauth_error", ["authorization_pending", "slow_down"])
def test_poll_pending_and_slow_down_mean_not_yet(stub: StartStub, oauth_error: str) -> None:
    server = stub(answer({"error": oauth_error}, 400))
    assert AuthResource(server.url).poll_device_auth("dc_1") is None
    assert server.requests[0].form() == [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", "dc_1"),
        ("client_id", CLIENT_ID),
    ]


def test_poll_returns_tokens_keeping_scope_only_when_non_empty(stub: StartStub) -> None:
    base = {"access_token": "at", "refresh_token": "rt", "token_type": "Bearer", "expires_in": 3600}
    server = stub(answer({**base, "scope": "", "extra": "x"}))
    assert AuthResource(server.url).poll_device_auth("dc") == base
    server = stub(
        answer(
            {**base, "scope": "userinfo:read,payment_methods.agentic", "authorization_details": []}
        )
    )
    assert AuthResource(server.url).poll_device_auth("dc") == {
        **base,
        "scope": "userinfo:read,payment_methods.agentic",
        "authorization_details": [],
    }


@pytest.mark.parametrize(
    ("oauth_error", "message"),
    [
        ("expired_token", "Device code expired. Please restart the login flow."),
        ("access_denied", "Authorization denied by user."),
    ],
)
def test_poll_terminal_errors(stub: StartStub, oauth_error: str, message: str) -> None:
    server = stub(answer({"error": oauth_error}, 400))
    with pytest.raises(LinkApiError) as caught:
        AuthResource(server.url).poll_device_auth("dc")
    assert str(caught.value) == message
    assert caught.value.code == oauth_error


def test_poll_authorization_failed_carries_scope_eligibility(stub: StartStub) -> None:
    eligibility = {
        "balances:read": {
            "eligible": False,
            "ineligibility_reasons": ["no_sources"],
            "description": "\x1b[1mNo",
        }
    }
    server = stub(answer({"error": "authorization_failed", "scope_eligibility": eligibility}, 400))
    with pytest.raises(LinkAuthorizationDeclinedError) as caught:
        AuthResource(server.url).poll_device_auth("dc")
    assert (
        str(caught.value) == "Authorization declined: account is not eligible for requested scopes"
    )
    assert caught.value.scope_eligibility == {
        "balances:read": {
            "eligible": False,
            "ineligibility_reasons": ["no_sources"],
            "description": "No",
        }
    }


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, "gateway down", "Token poll failed (500): gateway down"),
        (
            400,
            json.dumps({"error": "invalid_client", "error_description": ""}),
            "Token poll failed (400): ",
        ),
        (
            401,
            json.dumps({"error": {"code": "bad", "hint": {"x": 1}}}),
            'Token poll failed (401): {"code":"bad","hint":{"x":1}}',
        ),
    ],
)
def test_poll_other_failures(stub: StartStub, status: int, body: str, message: str) -> None:
    server = stub(lambda r: StubResponse(status, body))
    with pytest.raises(LinkApiError) as caught:
        AuthResource(server.url).poll_device_auth("dc")
    assert str(caught.value) == message
    assert "[object" not in str(caught.value)


def test_refresh_sends_the_refresh_grant_and_returns_rotated_tokens(stub: StartStub) -> None:
    tokens = {
        "access_token": "at2",
        "refresh_token": "rt2",
        "token_type": "Bearer",
        "expires_in": 60,
    }
    server = stub(answer(tokens))
    assert AuthResource(server.url).refresh("rt1") == tokens
    assert server.requests[0].form() == [
        ("grant_type", "refresh_token"),
        ("refresh_token", "rt1"),
        ("client_id", CLIENT_ID),
    ]


def test_refresh_failure_message(stub: StartStub) -> None:
    server = stub(
        answer({"error": "invalid_grant", "error_description": "Refresh token revoked"}, 400)
    )
    with pytest.raises(LinkApiError) as caught:
        AuthResource(server.url).refresh("rt")
    assert str(caught.value) == "Token refresh failed (400): Refresh token revoked"
    assert caught.value.code == "invalid_grant"


def test_revoke_sends_client_id_and_token(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse(200, ""))
    AuthResource(server.url).revoke("rt")
    assert server.requests[0].path == "/device/revoke"
    assert server.requests[0].form() == [("client_id", CLIENT_ID), ("token", "rt")]


def test_revoke_failure_message(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse(503, "maintenance"))
    with pytest.raises(LinkApiError, match=r"^Token revocation failed \(503\): maintenance$"):
        AuthResource(server.url).revoke("rt")


def test_auth_base_url_from_environment(stub: StartStub) -> None:
    server = stub(answer(DEVICE_CODE_RESPONSE))
    auth = AuthResource(
        env={"LINK_AUTH_BASE_URL": server.url, "LINK_API_BASE_URL": "http://127.0.0.1:1"}
    )
    assert auth.base_url == server.url
    auth.revoke("x")
    assert len(server.requests) == 1


def test_unreachable_auth_server_names_its_url_and_variable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(LinkTransportError) as caught:
        AuthResource(env={"LINK_AUTH_BASE_URL": base}).initiate_device_auth()
    assert str(caught.value).startswith(f"Request failed: POST {base}/device/code (")
    assert "LINK_AUTH_BASE_URL" in caught.value.hint
