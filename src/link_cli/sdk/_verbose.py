"""``--verbose``: log each request and response to stderr, secrets redacted (contract §10.4).

Imported only when verbose logging is on. Lines: ``> METHOD url``, ``  Headers: {…}``
(``Authorization: Bearer <redacted>``), the body; then ``< status reason``, each response
header as ``  name: value``, the body. Unlike the official CLI, tokens, device codes, card
numbers, CVCs and SPT ids are redacted in both directions (see :mod:`._redact`).
"""

from __future__ import annotations

import json
import sys

from link_cli._sanitize import sanitize_text
from link_cli.sdk import _redact
from link_cli.sdk._http import HttpRequest, HttpResponse, Log, Transport


class VerboseLogger:
    """Logs requests and responses to stderr with every secret redacted (contract §10.4)."""

    def __init__(self, write: Log | None = None) -> None:
        self._sink = write or _write_stderr

    def _write(self, text: str) -> None:
        # Server text goes to a terminal: strip escape sequences like any other output.
        self._sink(sanitize_text(text))

    def request(self, request: HttpRequest) -> None:
        """Log ``> METHOD url``, the headers and the body."""
        lines = [f"> {request.method} {request.url}"]
        headers = {k: v for k, v in request.headers.items() if k.lower() != "user-agent"}
        lines.append(f"  Headers: {json.dumps(_redact.redact_headers(headers))}")
        if request.body:
            content_type = next(
                (v for k, v in request.headers.items() if k.lower() == "content-type"), None
            )
            text = request.body.decode("utf-8", errors="replace")
            lines.append(_redact.redact_body(text, content_type))
        self._write("\n".join(lines))

    def response(self, response: HttpResponse) -> None:
        """Log ``< status reason``, the headers and the body."""
        lines = [f"< {response.status} {response.reason}".rstrip()]
        for name, value in _redact.redact_headers(dict(response.headers)).items():
            lines.append(f"  {name}: {value}")
        body = _redact.redact_body(response.text, response.header("content-type"))
        if body:
            lines.append(body)
        self._write("\n".join(lines))


def _write_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class LoggingTransport(Transport):
    """Wraps a transport, logging each exchange with :class:`VerboseLogger`."""

    def __init__(self, inner: Transport, logger: VerboseLogger) -> None:
        self.inner = inner
        self.logger = logger

    def send(self, request: HttpRequest) -> HttpResponse:
        """Log, send, log."""
        self.logger.request(request)
        response = self.inner.send(request)
        self.logger.response(response)
        return response
