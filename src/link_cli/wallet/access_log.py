"""Structured access log and security headers, as one pure ASGI middleware.

One JSON line per request on the ``link_wallet.access`` logger: method, path (never the query
string, which may carry codes), status and duration. No headers, no bodies, so no token, card
number or CVC can reach the log. Shared payment token ids (``spt_…``, a bearer credential a
merchant redeems) appear in paths such as ``/v1/shared_payment/granted_tokens/{id}``:
:func:`redact_path` masks them, as every log line that names a path must.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("link_wallet.access")

# A token id as issued, and anything after the prefix up to the next path separator.
_TOKEN_ID = re.compile(r"spt_[^/?#]*", re.IGNORECASE)


def redact_path(path: str) -> str:
    """``path`` with every shared payment token id replaced by ``spt_[redacted]``."""
    return _TOKEN_ID.sub("spt_[redacted]", path)


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own
    # form posts, which the CSRF origin check must refuse.
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]


class AccessLogMiddleware:
    """Logs every HTTP request and adds defensive headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            record: dict[str, Any] = {
                "event": "request",
                "method": scope.get("method"),
                "path": redact_path(str(scope.get("path", ""))),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            log.info(json.dumps(record))
