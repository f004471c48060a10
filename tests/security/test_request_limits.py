"""Request bodies are bounded while they stream in, on every route; unknown Hosts are refused.

Every test talks to a real ``link-wallet serve`` process. Oversized bodies are offered over a
raw socket (tests/support/bodies.py) that stops sending when the wallet answers or hangs up;
the wallet's peak RSS comes from ``VmHWM`` in ``/proc/<pid>/status``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from tests.support.approvals import card_body, new_agent
from tests.support.bodies import offer_body, reset_peak_rss, vm_hwm_kib
from tests.support.person import CLIENT_ID
from tests.support.wallet import WalletProcess

from link_cli.wallet.deps import body_limit
from link_cli.wallet.request_limits import allowed_hosts, host_allowed
from link_cli.wallet.settings import SettingsError, WalletSettings, load_settings

FORM_LIMIT = 64 * 1024
JSON_LIMIT = 256 * 1024
OFFERED = 200 * 1000 * 1000
MAX_GROWTH_KIB = 20 * 1024

pytestmark = pytest.mark.server

# (path, limit, how the 413's code is found in the body)
ROUTES: list[tuple[str, int, Callable[[dict[str, Any]], str]]] = [
    ("/v1/payment_intents", FORM_LIMIT, lambda body: body["error"]["code"]),
    ("/device/code", FORM_LIMIT, lambda body: body["error"]),
    ("/signin", FORM_LIMIT, lambda body: body["error"]["code"]),
    ("/spend_requests", JSON_LIMIT, lambda body: body["error"]["code"]),
]
EXPECTED_CODE = {
    "/v1/payment_intents": "request_too_large",
    "/device/code": "request_too_large",
    "/signin": "request_too_large",
    "/spend_requests": "body_too_large",
}


def _json_body(response_text: str) -> dict[str, Any]:
    return json.loads(response_text.partition("\r\n\r\n")[2])


@pytest.fixture(scope="module")
def private_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """A wallet only the memory tests use: each resets its peak RSS before measuring."""
    with WalletProcess.start(tmp_path_factory.mktemp("memory-wallet")) as process:
        yield process


@pytest.mark.parametrize(("path", "limit", "code_of"), ROUTES)
def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    wallet: WalletProcess, path: str, limit: int, code_of: Callable[[dict[str, Any]], str]
) -> None:
    # Only the head is sent: the wallet must answer without waiting for a body.
    offered = offer_body(wallet.port, path, limit + 1, chunked=False, send_body=False)
    assert offered.status == 413, offered.response
    assert "connection: close" in offered.response.lower()
    assert code_of(_json_body(offered.response)) == EXPECTED_CODE[path]


@pytest.mark.parametrize(("path", "limit", "code_of"), ROUTES)
def test_a_chunked_body_is_cut_off_at_the_limit(
    wallet: WalletProcess, path: str, limit: int, code_of: Callable[[dict[str, Any]], str]
) -> None:
    offered = offer_body(wallet.port, path, limit * 4, chunked=True)
    if path == "/spend_requests":
        # Unauthenticated: the bearer check may answer first; never with the body read whole.
        assert offered.status in (401, 413), offered.response
        return
    assert offered.status == 413, offered.response
    assert code_of(_json_body(offered.response)) == EXPECTED_CODE[path]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("path", ["/v1/payment_intents", "/device/code", "/signin"])
def test_offering_200_mb_leaves_the_wallets_memory_flat(
    private_wallet: WalletProcess, path: str, chunked: bool
) -> None:
    assert private_wallet.process is not None
    pid = private_wallet.process.pid
    reset_peak_rss(pid)  # what the offerings before this one peaked at does not count
    before = vm_hwm_kib(pid)
    offered = offer_body(private_wallet.port, path, OFFERED, chunked=chunked, timeout=120)
    growth = vm_hwm_kib(pid) - before
    assert offered.status == 413, offered.response[:300]
    assert offered.sent < OFFERED  # it stopped listening long before the end
    assert growth < MAX_GROWTH_KIB, f"peak RSS grew by {growth} KiB"


def test_the_stripe_shape_is_kept_on_v1(wallet: WalletProcess) -> None:
    offered = offer_body(wallet.port, "/v1/payment_intents", FORM_LIMIT + 1, chunked=False)
    error = _json_body(offered.response)["error"]
    assert offered.status == 413
    assert error["type"] == "invalid_request_error"
    assert error["message"]


def test_a_page_gets_an_html_413(wallet: WalletProcess) -> None:
    response = httpx2.post(
        f"{wallet.url}/signin",
        content=b"a" * (FORM_LIMIT + 1),
        headers={"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")


# -- bodies under the limit still work, for every kind of route ------------------------------


def test_a_json_body_between_the_form_and_json_limits_is_accepted(wallet: WalletProcess) -> None:
    agent = new_agent(wallet)
    try:
        raw = json.dumps(card_body()) + " " * (FORM_LIMIT * 2)
        response = agent.client.post(
            "/spend_requests", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "pending_approval"
    finally:
        agent.close()


def test_an_oauth_form_sent_chunked_is_accepted(wallet: WalletProcess) -> None:
    form = f"client_id={CLIENT_ID}&connection_label=Chunked+agent&pad={'x' * 30_000}"

    def pieces() -> Iterator[bytes]:
        data = form.encode()
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    response = httpx2.post(
        f"{wallet.url}/device/code",
        content=pieces(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["device_code"]


def test_a_web_form_near_the_limit_signs_in(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    try:
        response = person.submit_form(
            "/signin",
            {"email": person.email, "password": person.password, "pad": "x" * 50_000},
            action="/signin",
        )
        assert response.status_code == 200, response.text
        assert urlsplit(str(response.url)).path != "/signin"
        assert person.is_signed_in()
    finally:
        person.close()


def test_a_v1_form_under_the_limit_reaches_the_handler(wallet: WalletProcess) -> None:
    # No merchant key: the handler reads the whole form, then refuses the key (not the size).
    response = httpx2.post(
        f"{wallet.url}/v1/payment_intents",
        data={"amount": "100", "currency": "usd", "description": "x" * 50_000},
        timeout=10,
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


# -- Host allow-list -------------------------------------------------------------------------


def _get_with_host(port: int, host: str | None, version: str = "1.1") -> tuple[int, str]:
    lines = [f"GET /healthz HTTP/{version}", "Accept: application/json", "Connection: close"]
    if host is not None:
        lines.insert(1, f"Host: {host}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        data = b""
        while piece := sock.recv(65536):
            data += piece
    text = data.decode("latin-1")
    return int(text.split(" ", 2)[1]), text


@pytest.fixture(scope="module")
def public_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    env = {
        "LINK_WALLET_PUBLIC_URL": "https://wallet.example.com",
        "LINK_WALLET_ALLOWED_HOSTS": "alias.example:8080, other.example",
    }
    with WalletProcess.start(tmp_path_factory.mktemp("public-wallet"), env=env) as process:
        yield process


@pytest.mark.parametrize(
    "host",
    [
        "wallet.example.com",
        "WALLET.example.com:443",
        "alias.example:8080",
        "other.example:9000",
        "127.0.0.1:{port}",
        "localhost:{port}",
        "[::1]:{port}",
    ],
)
def test_the_public_host_loopback_and_listed_hosts_are_served(
    public_wallet: WalletProcess, host: str
) -> None:
    status, text = _get_with_host(public_wallet.port, host.format(port=public_wallet.port))
    assert status == 200, text


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "wallet.example.com.evil.example",
        "alias.example:8081",
        "127.0.0.1:1",
        "localhost",
        "wallet.example.com:bad",
        "[::1",
    ],
)
def test_any_other_host_is_refused_before_any_route_runs(
    public_wallet: WalletProcess, host: str
) -> None:
    status, text = _get_with_host(public_wallet.port, host)
    assert status == 400, text
    assert json.loads(text.partition("\r\n\r\n")[2])["error"]["code"] == "invalid_host"


def test_a_request_without_host_is_refused(public_wallet: WalletProcess) -> None:
    status, text = _get_with_host(public_wallet.port, None, version="1.0")
    assert status == 400, text


def test_a_refused_host_reaches_no_route(public_wallet: WalletProcess) -> None:
    # A DNS-rebinding page's POST never reaches the handler; OAuth paths keep RFC 6749's shape.
    response = httpx2.post(
        f"{public_wallet.url}/device/code",
        data={"client_id": CLIENT_ID},
        headers={"Host": "attacker.example"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_host"


# -- the allow-list and settings, without a server ---------------------------------------------


def _settings(tmp_path: Path, env: dict[str, str], host: str = "127.0.0.1") -> WalletSettings:
    base = {"LINK_WALLET_SECRET_KEY": "k" * 32}
    return load_settings(data_dir=tmp_path, host=host, port=8725, env={**base, **env})


def test_the_allow_list_is_derived_from_the_public_url_and_the_binding(tmp_path: Path) -> None:
    ipv6 = allowed_hosts(
        _settings(tmp_path, {"LINK_WALLET_PUBLIC_URL": "http://[2001:db8::1]:9000"})
    )
    assert host_allowed(ipv6, "[2001:db8::1]:9000")
    assert not host_allowed(ipv6, "[2001:db8::1]:9001")
    assert host_allowed(ipv6, "localhost:8725")
    outside = allowed_hosts(_settings(tmp_path, {}, host="10.0.0.5"))
    assert host_allowed(outside, "10.0.0.5:8725")
    assert not host_allowed(outside, "127.0.0.1:8725")  # not bound to loopback
    wildcard = allowed_hosts(_settings(tmp_path, {}, host="0.0.0.0"))
    assert host_allowed(wildcard, "127.0.0.1:8725")
    assert not host_allowed(wildcard, "evil.example:8725")
    assert not host_allowed(wildcard, None)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"LINK_WALLET_MAX_BODY_BYTES": "lots"}, "positive integer"),
        ({"LINK_WALLET_MAX_BODY_BYTES": "0"}, "positive integer"),
        ({"LINK_WALLET_MAX_CONNECTIONS": "-1"}, "positive integer"),
        ({"LINK_WALLET_ALLOWED_HOSTS": "https://wallet.example"}, "host names, not URLs"),
    ],
)
def test_bad_limit_settings_are_refused(tmp_path: Path, env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        _settings(tmp_path, env)


def test_the_body_limits_follow_the_setting(tmp_path: Path) -> None:
    small = _settings(tmp_path, {"LINK_WALLET_MAX_BODY_BYTES": "1000"})
    assert body_limit(small, "/spend_requests") == 1000
    assert body_limit(small, "/signin") == 1000  # forms never exceed the default
    large = _settings(tmp_path, {"LINK_WALLET_MAX_BODY_BYTES": str(10 * JSON_LIMIT)})
    assert body_limit(large, "/spend_requests/lsrq_1") == 10 * JSON_LIMIT
    assert body_limit(large, "/v1/payment_intents") == FORM_LIMIT
