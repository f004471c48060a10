"""Request bodies bounded while they stream in, and a Host allow-list, as one ASGI middleware.

Runs before any route: a ``Host`` the wallet does not answer for gets 400 ``invalid_host``; a
declared ``Content-Length`` over the route's limit gets 413 without a byte of the body being
read; a chunked (or under-declared) body is counted as it arrives and refused with 413 the
moment the count passes the limit, so no more than the limit plus one network read is ever
held. The 413 closes the connection, so the rest of the body is never read either.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api.errors import error_response
from .deps import body_limit, too_large_error
from .domain.errors import WalletError
from .settings import WalletSettings

LOOPBACK_BIND_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BIND_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (compared, not bound)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

HostEntry = tuple[str, int | None]  # (name, port); port None: any port


class _BodyTooLarge(Exception):
    """Raised inside the app's ``receive`` once the body passes its limit."""


def _split_host(value: str) -> HostEntry | None:
    """``name[:port]`` or ``[v6]:port`` → (lower-case name, port); None when malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        if not bracket:
            return None
        name += "]"
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    else:
        name, colon, port_text = value.partition(":")
        if not colon:
            port_text = ""
    if not name or port_text is None or ":" in (port_text or ""):
        return None
    if port_text == "":
        return name, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return name, int(port_text)


def allowed_hosts(settings: WalletSettings) -> frozenset[HostEntry]:
    """The public URL's host, loopback names when bound to loopback or every address, and
    ``LINK_WALLET_ALLOWED_HOSTS``."""
    entries: set[HostEntry] = set()
    public = urlsplit(settings.public_url)
    name = (public.hostname or "").lower()
    if ":" in name:
        name = f"[{name}]"
    default_port = 443 if public.scheme == "https" else 80
    port = public.port if public.port not in (None, default_port) else None
    entries.add((name, port))
    if settings.host in LOOPBACK_BIND_HOSTS | WILDCARD_BIND_HOSTS or settings.host.startswith(
        "127."
    ):
        entries.update((loopback, settings.port) for loopback in LOOPBACK_NAMES)
    for extra in settings.allowed_hosts:
        parsed = _split_host(extra)
        if parsed:
            entries.add(parsed)
    return frozenset(entries)


def host_allowed(allowed: frozenset[HostEntry], header: str | None) -> bool:
    """Whether a request's ``Host`` header names this wallet."""
    parsed = _split_host(header or "")
    if parsed is None:
        return False
    return parsed in allowed or (parsed[0], None) in allowed


class RequestLimitsMiddleware:
    """Host allow-list and streamed body limits for every HTTP request, before any route."""

    def __init__(self, app: ASGIApp, *, settings: WalletSettings) -> None:
        self.app = app
        self.settings = settings
        self.allowed = allowed_hosts(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not host_allowed(self.allowed, headers.get("host")):
            error = WalletError(
                "This wallet does not answer for that host name.", code="invalid_host", status=400
            )
            await _refuse(scope, send, error)
            return
        path: str = scope["path"]
        limit = body_limit(self.settings, path)
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, too_large_error(path, limit))
            return

        received = 0
        overflowed = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflowed and not started:
                return  # the 413 below replaces whatever the app makes of the cut-off body
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not overflowed or started:
                raise
        if overflowed and not started:
            await _refuse(scope, send, too_large_error(path, limit))


async def _refuse(scope: Scope, send: Send, error: WalletError) -> None:
    """Answer ``error`` in the route's shape and close the connection (the body stays unread)."""
    response = error_response(Request(scope), error)
    response.headers["connection"] = "close"

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
