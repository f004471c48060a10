"""The request path against a loopback stub: headers, 401 → refresh → retry once, errors,
base URLs, the API-only proxy and redacted verbose logs (contract §6.6, §6.7, §7, §10.4)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.sdk.stub import RecordedRequest, StubResponse, StubServer

from link_cli import __version__
from link_cli.sdk import (
    LinkApiError,
    LinkAuthenticationError,
    LinkClient,
    LinkConfigurationError,
    LinkTransportError,
    MemoryTokenStore,
    _http,
)

StartStub = Callable[[Callable[[RecordedRequest], StubResponse]], StubServer]


def tokens(access: str, refresh: str, expires_in: int = 3600) -> dict[str, object]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_headers_user_agent_bearer_and_no_content_type_without_body(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"payment_details": []}))
    client = LinkClient(api_base_url=server.url, access_token="tok_1")
    assert client.payment_methods.list() == []
    request = server.requests[0]
    assert request.header("User-Agent") == f"link-cli/{__version__}"
    assert request.header("Authorization") == "Bearer tok_1"
    assert request.header("Content-Type") is None
    assert request.body == b""


def test_json_body_has_content_type_and_cancel_has_none(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"id": "lsrq_1", "status": "canceled"}))
    client = LinkClient(api_base_url=server.url, access_token="t")
    client.spend_requests.update("lsrq_1", {"amount": 100, "merchant_url": "https://é.example"})
    client.spend_requests.cancel("lsrq_1")
    update, cancel = server.requests
    assert update.header("Content-Type") == "application/json"
    assert update.json() == {"amount": 100, "merchant_url": "https://é.example"}
    assert cancel.header("Content-Type") is None
    assert cancel.body == b""


def test_401_refreshes_once_retries_once_and_stores_the_rotated_tokens(stub: StartStub) -> None:
    def handler(request: RecordedRequest) -> StubResponse:
        if request.path == "/device/token":
            return StubResponse.json(tokens("fresh", "rt_2"))
        if request.header("Authorization") == "Bearer fresh":
            return StubResponse.json({"email": "jenny@example.com"})
        return StubResponse.json({"error": {"message": "token expired"}}, 401)

    server = stub(handler)
    store = MemoryTokenStore()
    store.set_auth(tokens("stale", "rt_1"))
    client = LinkClient(api_base_url=server.url, auth_base_url=server.url, token_store=store)
    assert client.user_info.retrieve() == {"email": "jenny@example.com"}
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/userinfo"),
        ("POST", "/device/token"),
        ("GET", "/userinfo"),
    ]
    assert dict(server.requests[1].form())["refresh_token"] == "rt_1"
    stored = store.get_auth()
    assert stored is not None
    assert (stored["access_token"], stored["refresh_token"]) == ("fresh", "rt_2")


def test_second_401_is_final_and_becomes_an_api_error(stub: StartStub) -> None:
    def handler(request: RecordedRequest) -> StubResponse:
        if request.path == "/device/token":
            return StubResponse.json(tokens("still_bad", "rt_2"))
        return StubResponse.json({"error": "unauthorized"}, 401)

    server = stub(handler)
    store = MemoryTokenStore()
    store.set_auth(tokens("stale", "rt_1"))
    client = LinkClient(api_base_url=server.url, auth_base_url=server.url, token_store=store)
    with pytest.raises(LinkApiError) as caught:
        client.payment_methods.list()
    assert caught.value.status == 401
    assert str(caught.value) == "Failed to list payment methods (401): unauthorized"
    assert [r.path for r in server.requests] == [
        "/payment-details",
        "/device/token",
        "/payment-details",
    ]


def test_401_with_refresh_disabled_is_an_authentication_error(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"error": "unauthorized"}, 401))
    store = MemoryTokenStore()
    store.set_auth(tokens("stale", "rt_1"))
    client = LinkClient(
        api_base_url=server.url,
        auth_base_url=server.url,
        token_store=store,
        env={"LINK_NO_REFRESH": "0"},
    )
    with pytest.raises(LinkAuthenticationError) as caught:
        client.payment_methods.list()
    assert str(caught.value) == 'Access token expired. Re-authenticate with "link-cli auth login".'
    assert [r.path for r in server.requests] == ["/payment-details"]


def test_env_token_401_with_refresh_token_refreshes_without_persisting(
    stub: StartStub, tmp_path: Path
) -> None:
    def handler(request: RecordedRequest) -> StubResponse:
        if request.path == "/device/token":
            return StubResponse.json(tokens("env_fresh", "env_rt_2"))
        if request.header("Authorization") == "Bearer env_fresh":
            return StubResponse.json({"shipping_addresses": []})
        return StubResponse.json({"error": "unauthorized"}, 401)

    server = stub(handler)
    auth_file = tmp_path / "creds.json"
    env = {"LINK_ACCESS_TOKEN": "env_stale", "LINK_REFRESH_TOKEN": "env_rt"}
    client = LinkClient(
        api_base_url=server.url, auth_base_url=server.url, auth_file=auth_file, env=env
    )
    assert client.shipping_addresses.list() == []
    assert dict(server.requests[1].form())["refresh_token"] == "env_rt"
    assert not auth_file.exists() or '"env_fresh"' not in auth_file.read_text()


def test_env_token_401_without_refresh_token_says_update_the_variable(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"error": "unauthorized"}, 401))
    client = LinkClient(api_base_url=server.url, env={"LINK_ACCESS_TOKEN": "env"})
    with pytest.raises(LinkAuthenticationError) as caught:
        client.user_info.retrieve()
    assert str(caught.value) == "Access token expired. Update LINK_ACCESS_TOKEN and retry."


def test_no_credentials_fail_before_any_request(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({}))
    client = LinkClient(api_base_url=server.url, token_store=MemoryTokenStore())
    with pytest.raises(LinkAuthenticationError) as caught:
        client.spend_requests.list()
    assert str(caught.value) == 'Not authenticated. Run "link-cli auth login" first.'
    assert caught.value.code == "not_authenticated"
    assert server.requests == []


def test_non_json_error_body_is_used_verbatim(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse(502, "upstream exploded", {"Content-Type": "text/plain"}))
    client = LinkClient(api_base_url=server.url, access_token="t")
    with pytest.raises(LinkApiError) as caught:
        client.spend_requests.create({"context": "x"})
    assert str(caught.value) == "Failed to create spend request (502): upstream exploded"
    assert caught.value.details is None
    assert caught.value.raw_body == "upstream exploded"


def test_non_json_success_body_is_an_invalid_shape_error(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse(200, "<html>captive portal</html>"))
    client = LinkClient(api_base_url=server.url, access_token="t")
    with pytest.raises(
        Exception, match=r"Failed to list payment methods \(200\): invalid response shape"
    ):
        client.payment_methods.list()


def test_404_is_none_for_retrieve_only(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"error": {"message": "No such spend request"}}, 404))
    client = LinkClient(api_base_url=server.url, access_token="t")
    assert client.spend_requests.retrieve("lsrq_missing") is None
    with pytest.raises(LinkApiError) as caught:
        client.spend_requests.cancel("lsrq_missing")
    assert caught.value.status == 404
    assert str(caught.value) == "Failed to cancel spend request (404): No such spend request"


def test_redirects_are_not_followed_so_the_token_never_leaves(stub: StartStub) -> None:
    elsewhere = stub(lambda r: StubResponse.json({"email": "leak"}))
    server = stub(lambda r: StubResponse(302, "", {"Location": f"{elsewhere.url}/userinfo"}))
    client = LinkClient(api_base_url=server.url, access_token="secret")
    with pytest.raises(LinkApiError) as caught:
        client.user_info.retrieve()
    assert caught.value.status == 302
    assert elsewhere.requests == []


def test_unreachable_default_wallet_names_url_and_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = LinkClient(access_token="t", env={})
    assert client.api_base_url == "http://127.0.0.1:8725"
    port_free = True
    with socket.socket() as probe:
        port_free = probe.connect_ex(("127.0.0.1", 8725)) != 0
    if not port_free:
        pytest.skip("something is listening on the default wallet port")
    with pytest.raises(LinkTransportError) as caught:
        client.payment_methods.list()
    message = str(caught.value)
    assert message.startswith("Request failed: GET http://127.0.0.1:8725/payment-details")
    assert "link-wallet serve" in message
    assert caught.value.code == "transport_error"


def test_unreachable_custom_url_is_named_without_the_wallet_hint() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    client = LinkClient(access_token="t", env={"LINK_API_BASE_URL": base})
    with pytest.raises(LinkTransportError) as caught:
        client.user_info.retrieve()
    assert str(caught.value).startswith(f"Request failed: GET {base}/userinfo")
    assert base in caught.value.hint and "LINK_API_BASE_URL" in caught.value.hint
    assert "link-wallet serve" not in str(caught.value)


def test_base_url_precedence_and_paths_appended_verbatim(stub: StartStub) -> None:
    server = stub(lambda r: StubResponse.json({"data": []}))
    env = {"LINK_API_BASE_URL": "http://127.0.0.1:1"}
    # The explicit option beats the environment…
    LinkClient(api_base_url=server.url, access_token="t", env=env).spend_requests.list()
    # …and a trailing slash gives a double slash, as upstream (contract §6.7).
    LinkClient(access_token="t", env={"LINK_API_BASE_URL": server.url + "/"}).spend_requests.list(
        include_history=True
    )
    assert [r.target for r in server.requests] == [
        "/spend_requests",
        "//spend_requests?include_history=true",
    ]


@pytest.mark.parametrize("bad", ["", "127.0.0.1:8725", "file:///etc/passwd"])
def test_bad_base_url_is_a_configuration_error(bad: str) -> None:
    client = LinkClient(access_token="t", env={"LINK_API_BASE_URL": bad})
    with pytest.raises(LinkConfigurationError, match="LINK_API_BASE_URL"):
        client.payment_methods.list()


def test_proxy_applies_to_api_calls_but_not_to_auth_calls(stub: StartStub) -> None:
    proxy = stub(lambda r: StubResponse.json({"payment_details": [{"id": "csmrpd_proxied"}]}))
    origin = stub(
        lambda r: StubResponse.json({"error": "invalid_grant", "error_description": "no"}, 400)
    )
    env = {"LINK_HTTP_PROXY": proxy.url}
    client = LinkClient(
        api_base_url=origin.url, auth_base_url=origin.url, access_token="t", env=env
    )
    assert client.payment_methods.list() == [{"id": "csmrpd_proxied"}]
    # The proxy received an absolute-form request for the origin.
    assert [r.target for r in proxy.requests] == [f"{origin.url}/payment-details"]
    with pytest.raises(LinkApiError):
        client.auth.refresh("rt")
    assert [r.path for r in origin.requests] == ["/device/token"]
    assert len(proxy.requests) == 1


def test_verbose_log_redacts_secrets_in_both_directions(stub: StartStub) -> None:
    card = {
        "id": "lsrq_1",
        "status": "approved",
        "card": {"number": "4242424242424242", "cvc": "123", "brand": "visa", "exp_year": 2030},
        "shared_payment_token": "spt_1AbC",
        "context": "card 4000 0566 5566 5556 in free text",
        "merchant_name": "\x1b]0;evil\x07Shop",
    }

    def handler(request: RecordedRequest) -> StubResponse:
        if request.path == "/device/token":
            return StubResponse.json(tokens("at_new_secret", "rt_new_secret"))
        return StubResponse.json(card)

    server = stub(handler)
    lines: list[str] = []
    client = LinkClient(
        api_base_url=server.url,
        auth_base_url=server.url,
        access_token="at_sent_secret",
        verbose=True,
        log=lines.append,
    )
    client.spend_requests.retrieve("lsrq_1", include=["card"])
    client.spend_requests.update("lsrq_1", {"metadata": {"note": "4242-4242-4242-4242"}})
    client.auth.refresh("rt_sent_secret")
    log = "\n".join(lines)
    for secret in (
        "at_sent_secret",
        "rt_sent_secret",
        "at_new_secret",
        "rt_new_secret",
        "4242424242424242",
        "4242-4242-4242-4242",
        "4000 0566 5566 5556",
        '"123"',
        "spt_1AbC",
        "\x1b",
    ):
        assert secret not in log, secret
    assert f"> GET {server.url}/spend_requests/lsrq_1?include=card" in log
    assert "Bearer <redacted>" in log
    assert "< 200 OK" in log
    assert '"brand": "visa"' in log  # non-secret fields stay readable
    assert "refresh_token=%3Credacted%3E" in log


def one_shot_raw_server(
    reply: bytes, received: list[bytes] | None = None
) -> tuple[str, threading.Thread]:
    """Accept one connection, read the request head, send ``reply`` verbatim, close.

    The head read is appended to ``received`` when given."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def run() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if received is not None:
                    received.append(data)
                connection.sendall(reply)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def test_truncated_response_is_a_transport_error() -> None:
    reply = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"da'
    base, thread = one_shot_raw_server(reply)
    client = LinkClient(api_base_url=base, access_token="t")
    with pytest.raises(LinkTransportError) as caught:
        client.spend_requests.list()
    assert str(caught.value).startswith(f"Request failed: GET {base}/spend_requests (")
    thread.join(timeout=10)


def test_garbage_instead_of_http_is_a_transport_error() -> None:
    base, thread = one_shot_raw_server(b"SSH-2.0-OpenSSH_9.6\r\n")
    client = LinkClient(api_base_url=base, access_token="t")
    with pytest.raises(LinkTransportError):
        client.user_info.retrieve()
    thread.join(timeout=10)


def test_oversized_response_is_refused(stub: StartStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "MAX_BODY_BYTES", 1024)
    server = stub(lambda r: StubResponse.json({"data": ["x" * 2048]}))
    client = LinkClient(api_base_url=server.url, access_token="t")
    with pytest.raises(LinkTransportError, match="response body larger than"):
        client.spend_requests.list()


def test_https_through_the_proxy_is_a_connect_tunnel_with_the_proxy_credentials() -> None:
    received: list[bytes] = []
    reply = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    proxy, thread = one_shot_raw_server(reply, received)
    proxy_url = proxy.replace("http://", "http://agent:p%40ss@")
    client = LinkClient(
        api_base_url="https://api.link.example",
        access_token="at_never_to_the_proxy",
        env={"LINK_HTTP_PROXY": proxy_url},
    )
    with pytest.raises(LinkTransportError, match="Tunnel connection failed: 407"):
        client.payment_methods.list()
    thread.join(timeout=10)
    head = received[0].decode()
    assert head.startswith("CONNECT api.link.example:443 HTTP/1.")
    assert "Proxy-Authorization: Basic YWdlbnQ6cEBzcw==\r\n" in head  # agent:p@ss
    assert "at_never_to_the_proxy" not in head  # the bearer token travels inside TLS only


def test_http_through_the_proxy_sends_absolute_form_with_the_proxy_credentials() -> None:
    received: list[bytes] = []
    body = b'{"payment_details": []}'
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    proxy, thread = one_shot_raw_server(reply, received)
    client = LinkClient(
        api_base_url="http://wallet.example:8725",
        access_token="t",
        env={"LINK_HTTP_PROXY": proxy.replace("http://", "http://agent@")},
    )
    assert client.payment_methods.list() == []
    thread.join(timeout=10)
    head = received[0].decode()
    assert head.startswith("GET http://wallet.example:8725/payment-details HTTP/1.1\r\n")
    assert "Host: wallet.example:8725\r\n" in head
    assert "Proxy-Authorization: Basic YWdlbnQ6\r\n" in head  # agent:
