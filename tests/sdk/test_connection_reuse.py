"""The SDK's transport keeps one idle connection per origin: several requests of one command
share a connection (one TCP/TLS handshake), and a connection the server closed is replaced."""

from __future__ import annotations

import http.server
import json
import select
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.threaded_server import serving

from link_cli.sdk._http import HttpRequest, StdlibTransport


class CountingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, close_after_each: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.close_after_each = close_after_each
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: Any) -> None:
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length).decode()
        body = json.dumps({"method": self.command, "received": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # Closing without saying so: the client learns it only from the socket.
        self.close_connection = self.server.close_after_each

    do_GET = _answer
    do_POST = _answer


@pytest.fixture
def keep_alive() -> Iterator[CountingServer]:
    server = CountingServer(close_after_each=False)
    with serving(server):
        yield server


@pytest.fixture
def closing() -> Iterator[CountingServer]:
    server = CountingServer(close_after_each=True)
    with serving(server):
        yield server


def test_requests_to_one_origin_share_one_connection(keep_alive: CountingServer) -> None:
    transport = StdlibTransport()
    requests = [
        HttpRequest("GET", f"{keep_alive.url}/a", {}, None),
        HttpRequest("POST", f"{keep_alive.url}/b", {"Content-Type": "text/plain"}, b"hello"),
        HttpRequest("GET", f"{keep_alive.url}/c?x=1", {}, None),
    ]
    answers = [transport.send(request) for request in requests]
    transport.close()
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[1].json() == {"method": "POST", "received": "hello"}
    assert keep_alive.connections == 1


def wait_until_closed_by_peer(connection: Any) -> None:
    """Block until the server's close reached this idle socket (an event, not a delay)."""
    readable, _, _ = select.select([connection.sock], [], [], 30)
    assert readable


def test_a_connection_the_server_closed_is_replaced(closing: CountingServer) -> None:
    transport = StdlibTransport()
    answers = []
    for n in range(3):
        answers.append(transport.send(HttpRequest("GET", f"{closing.url}/{n}", {}, None)))
        wait_until_closed_by_peer(transport._idle[closing.url])
    transport.close()
    assert [a.status for a in answers] == [200, 200, 200]
    assert closing.connections == 3
