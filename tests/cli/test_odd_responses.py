"""Server answers our wallet never gives, from a loopback stub: verification / support URLs,
custom duplicate codes, ``requires_action`` hints, and the request-approval echo."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.support.threaded_server import serving

from link_cli.cli.main import run

CONTEXT = "Buying one blue widget for the user's desk project, as they asked in chat a minute ago, delivered this week."
CREATE = (
    "spend-request",
    "create",
    "--amount",
    "100",
    "-m",
    "Shop",
    "--merchant-url",
    "https://shop.example",
    "--context",
    CONTEXT,
    "--json",
)


def spend_request(**fields):
    return {
        "id": "lsrq_1",
        "status": "pending_approval",
        "amount": 100,
        "currency": "usd",
        "approval_url": "https://wallet.example/approve/lsrq_1",
        **fields,
    }


def requires_action(resolution: str, url: str | None = "https://bank.example/3ds"):
    return spend_request(
        status="requires_action",
        status_details={
            "requires_action": {
                "next_action": {
                    "type": "three_d_secure",
                    "resolution": resolution,
                    "display_message": "Confirm with your bank.",
                    "action_url": url,
                }
            }
        },
    )


class Stub:
    """Answers each request with the next canned (status, body) for its method + path."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[tuple[int, object]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[str] = []

    def on(self, method: str, path: str, status: int, body: object) -> None:
        self.routes.setdefault((method, path), []).append((status, body))

    def answer(self, method: str, path: str) -> tuple[int, object]:
        self.requests.append((method, path))
        queue = self.routes.get((method, path.split("?")[0]), [])
        if not queue:
            return 404, {"error": {"message": "Not Found"}}
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def stub(monkeypatch) -> Iterator[Stub]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.bodies.append(self.rfile.read(length).decode())
            status, body = state.answer(self.command, self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with serving(server):
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("LINK_API_BASE_URL", url)
        monkeypatch.setenv("LINK_AUTH_BASE_URL", url)
        monkeypatch.setenv("LINK_ACCESS_TOKEN", "lwat_test")
        yield state


def cli(*argv: str) -> tuple[int, object]:
    out = io.StringIO()
    code = run(list(argv), out)
    return code, json.loads(out.getvalue())


def test_verification_url_becomes_api_error(stub):
    stub.on(
        "POST",
        "/spend_requests",
        403,
        {
            "error": {
                "message": "Verify your identity.",
                "verification_url": "https://link.example/verify",
            }
        },
    )
    assert cli(*CREATE) == (
        1,
        {
            "code": "api_error",
            "message": "Failed to create spend request (403): Verify your identity. "
            "Verification URL: https://link.example/verify",
        },
    )


def test_support_url_becomes_api_error_on_request_approval(stub):
    stub.on(
        "POST",
        "/spend_requests/lsrq_1/request_approval",
        403,
        {"error": {"message": "Contact support.", "support_url": "https://support.example"}},
    )
    code, error = cli("spend-request", "request-approval", "lsrq_1", "--json")
    assert code == 1 and error["code"] == "api_error"
    assert error["message"].endswith("Contact support. Support URL: https://support.example")


def test_duplicate_uses_the_body_code(stub):
    stub.on(
        "POST",
        "/spend_requests",
        429,
        {
            "error": {
                "code": "spend_request_duplicate",
                "message": "Too many.",
                "duplicate_spend_request": spend_request(id="lsrq_dup", status="approved"),
            }
        },
    )
    code, error = cli(*CREATE)
    assert code == 1 and error["code"] == "spend_request_duplicate"
    assert (
        "A matching spend request already exists: lsrq_dup (status: approved)." in error["message"]
    )
    assert error["cta"]["commands"][0]["command"] == "link-cli spend-request retrieve lsrq_dup"


def test_other_api_errors_are_unknown_with_the_api_message(stub):
    stub.on("POST", "/spend_requests", 422, {"error": {"message": "amount too large"}})
    assert cli(*CREATE) == (
        1,
        {"code": "UNKNOWN", "message": "Failed to create spend request (422): amount too large"},
    )


def test_auto_resume_gets_a_retrieve_hint(stub):
    stub.on("POST", "/spend_requests", 200, requires_action("auto_resume"))
    code, (chunk,) = cli(*CREATE)
    assert code == 0 and chunk["_next"] == {
        "command": "spend-request retrieve lsrq_1 --interval 2 --max-attempts 300",
        "until": "status changes from requires_action",
    }
    assert "https://bank.example/3ds" in chunk["instruction"]


def test_other_resolutions_say_create_a_new_request_and_have_no_next(stub):
    stub.on("GET", "/spend_requests/lsrq_1", 200, requires_action("create_new_spend_request"))
    code, (chunk,) = cli("spend-request", "retrieve", "lsrq_1", "--json")
    assert code == 0 and "_next" not in chunk
    assert chunk["instruction"] == (
        "The spend request requires action (three_d_secure): Confirm with your bank. "
        "URL: https://bank.example/3ds Have the user complete this, then create a new spend request."
    )
    out = io.StringIO()
    run(["spend-request", "retrieve", "lsrq_1"], out)
    assert "\n_next: null\n" in out.getvalue() + "\n"


def test_polling_follows_auto_resume_until_approved(stub):
    stub.on("GET", "/spend_requests/lsrq_1", 200, requires_action("auto_resume"))
    stub.on("GET", "/spend_requests/lsrq_1", 200, spend_request(status="approved"))
    code, chunks = cli(
        "spend-request", "retrieve", "lsrq_1", "--interval", "0.01", "--max-attempts", "5", "--json"
    )
    assert code == 0 and [c["status"] for c in chunks] == ["requires_action", "approved"]


def test_request_approval_spreads_the_response(stub):
    stub.on(
        "POST",
        "/spend_requests/lsrq_1/request_approval",
        200,
        {"id": "lsrq_1", "approval_link": "https://wallet.example/approve/lsrq_1"},
    )
    code, (chunk,) = cli("spend-request", "request-approval", "lsrq_1", "--json")
    assert code == 0 and chunk["approval_link"] == "https://wallet.example/approve/lsrq_1"
    assert chunk["_next"]["until"] == "status changes from pending_approval"


def test_create_sends_delegated_requests_to_create_delegated(stub):
    stub.on("POST", "/spend_requests/create_delegated", 200, spend_request(status="approved"))
    code, (chunk,) = cli(*CREATE, "--approve", "--approval-detail", '{"approval_method": "click"}')
    assert code == 0 and stub.requests == [("POST", "/spend_requests/create_delegated")]
    assert (
        chunk["_next"]["command"] == "spend-request retrieve lsrq_1 --interval 2 --max-attempts 300"
    )


def test_invalid_approval_detail_json_is_unknown_and_sends_nothing(stub):
    code, error = cli(*CREATE, "--approval-detail", "{nope")
    assert code == 1 and error["code"] == "UNKNOWN" and stub.requests == []


DEVICE = {
    "device_code": "dc_1",
    "user_code": "apple-grape",
    "verification_uri": "https://w.example/device",
    "verification_uri_complete": "https://w.example/device?code=apple-grape",
    "expires_in": 600,
    "interval": 5,
}
TOKENS = {
    "access_token": "lwat_new_token_0123456789",
    "refresh_token": "lwrt_new",
    "token_type": "Bearer",
    "expires_in": 3600,
}


def test_login_sends_normalised_scope_and_details_in_order(stub, monkeypatch, tmp_path):
    from urllib.parse import parse_qsl

    monkeypatch.delenv("LINK_ACCESS_TOKEN")
    monkeypatch.setenv("LINK_AUTH_FILE", str(tmp_path / "auth.json"))
    stub.on("POST", "/device/code", 200, DEVICE)
    code, chunks = cli(
        "auth",
        "login",
        "--client-name",
        "My Agent",
        "--scope",
        "a   b",
        "--source-actions",
        "read_balances",
        "--authorization-detail",
        "true",
        "--json",
    )
    assert code == 0 and chunks[0]["phrase"] == "apple-grape"
    assert chunks[0]["_next"]["poll_interval_seconds"] == 5
    form = parse_qsl(stub.bodies[-1])
    assert form[:2] == [("client_id", "lwlpk_U7Qy7ThG69STZk"), ("scope", "a b")]
    assert form[2][0] == "connection_label" and form[2][1].startswith("My Agent on ")
    assert form[3:] == [
        ("client_hint", "My Agent"),
        ("authorization_details[][type]", "source"),
        ("authorization_details[][actions][]", "read_balances"),
        ("authorization_details[]", "true"),
    ]


def test_refused_refresh_revokes_the_old_token_then_starts_over(stub, monkeypatch, tmp_path):
    from urllib.parse import parse_qsl

    monkeypatch.delenv("LINK_ACCESS_TOKEN")
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(
        json.dumps(
            {
                "auth": {
                    "access_token": "old",
                    "refresh_token": "lwrt_old",
                    "token_type": "Bearer",
                },
                "pendingDeviceAuth": None,
            }
        )
    )
    monkeypatch.setenv("LINK_AUTH_FILE", str(auth_file))
    stub.on(
        "POST", "/device/token", 400, {"error": "invalid_grant", "error_description": "revoked"}
    )
    stub.on("POST", "/device/revoke", 500, {"error": "server_error"})  # ignored: best effort
    stub.on("POST", "/device/code", 200, DEVICE)
    code, chunks = cli("auth", "login", "--json")
    assert code == 0 and "verification_url" in chunks[0]
    assert [path for _, path in stub.requests] == [
        "/device/token",
        "/device/revoke",
        "/device/code",
    ]
    assert ("token", "lwrt_old") in parse_qsl(stub.bodies[1])
    stored = json.loads(auth_file.read_text())
    assert stored["auth"] is None and stored["pendingDeviceAuth"]["device_code"] == "dc_1"


def test_login_with_interval_and_immediate_tokens_prints_two_chunks(stub, monkeypatch, tmp_path):
    monkeypatch.delenv("LINK_ACCESS_TOKEN")
    monkeypatch.setenv("LINK_AUTH_FILE", str(tmp_path / "auth.json"))
    stub.on("POST", "/device/code", 200, DEVICE)
    stub.on("POST", "/device/token", 200, TOKENS)
    code, chunks = cli("auth", "login", "--interval", "1", "--timeout", "10", "--json")
    assert code == 0 and len(chunks) == 2 and "_next" not in chunks[0]
    assert chunks[1]["authenticated"] is True and chunks[1]["token_type"] == "Bearer"
    assert chunks[1]["access_token"] == "lwat_new_token_01234..."
