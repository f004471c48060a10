"""A tiny stdlib HTTP server on 127.0.0.1 for responses a real wallet cannot produce.

Tests register a handler ``(RecordedRequest) -> StubResponse`` and read back every request
the server saw, in order. Used only for odd responses (401 loops, non-JSON bodies, nested
error objects, rotating refresh tokens); end-to-end behaviour is tested against the real
``link-wallet``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    target: str  # the request-target as sent (absolute URL when proxied)
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class StubResponse:
    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> StubResponse:
        return cls(status, json.dumps(payload), {"Content-Type": "application/json"})


Handler = Callable[[RecordedRequest], StubResponse]


class StubServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                # The request line as sent: http.server collapses a leading "//" in .path.
                target = self.requestline.split(" ")[1]
                recorded = RecordedRequest(
                    self.command, target, split.path, split.query, dict(self.headers), body
                )
                with stub._lock:
                    stub.requests.append(recorded)
                response = stub.handler(recorded)
                payload = (
                    response.body.encode() if isinstance(response.body, str) else response.body
                )
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve(handler: Handler) -> Iterator[StubServer]:
    server = StubServer(handler).start()
    try:
        yield server
    finally:
        server.stop()
