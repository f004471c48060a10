"""`link-cli serve`: the MCP server over streamable HTTP (contract §9.5).

Whoever reaches the port acts with the CLI owner's Link session, so the outer ASGI app
below decides, before the MCP SDK sees anything, who may talk and what may be asked:

1. an ``Origin`` whose hostname is not loopback gets ``403 {"error":"forbidden origin"}``
   (unparseable origins such as ``null`` too; requests without ``Origin`` pass);
2. CORS headers are set, reflecting an allowed ``Origin`` — never ``*``;
3. ``OPTIONS`` on any path answers ``204``;
4. only ``/mcp`` (``POST``; other methods ``405``) and ``GET /.well-known/skills/…`` are
   routed; everything else is ``404 {"error":"not found"}``.

Deliberate difference from the official server: ``/mcp`` answers with an SSE stream
rather than plain JSON, so progress notifications of long-running tools reach HTTP
clients too (every MCP client must accept both, and the SDK client does).
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO
from urllib.parse import urlsplit

from link_cli.commands._context import Context
from link_cli.errors import Unknown
from link_cli.mcp import skills

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 54321
MCP_PATH = "/mcp"
SKILLS_PREFIX = "/.well-known/skills/"

# Hosts whose bind needs no warning (contract §9.5, compared case-insensitively).
LOOPBACK_BIND_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Origin hostnames a browser page may call us from. A bracketed IPv6 origin
# (``http://[::1]:3000``) is refused, as the official server refuses it.
LOOPBACK_ORIGIN_HOSTS = frozenset({"127.0.0.1", "localhost"})

CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, Accept, Mcp-Session-Id"

BIND_WARNING = (
    "warning: link-cli serve is bound to {host}, so it may be reachable from beyond this machine.\n"
    "warning: anyone who can reach port {port} can use this CLI's authenticated Link session.\n"
)


def is_loopback_bind(host: str) -> bool:
    """True when binding ``host`` keeps the server on this machine (no warning needed)."""
    return host.lower() in LOOPBACK_BIND_HOSTS


def is_allowed_origin(origin: str) -> bool:
    """True when ``origin`` is an http(s) URL whose hostname is a loopback name."""
    try:
        parts = urlsplit(origin.strip())
        hostname = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not hostname:
        return False
    if "[" in parts.netloc:
        return False
    return hostname in LOOPBACK_ORIGIN_HOSTS


async def _respond(
    send: Send,
    status: int,
    body: bytes = b"",
    *,
    content_type: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    raw_headers = list(headers or [])
    if content_type is not None:
        raw_headers.append((b"content-type", content_type.encode()))
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _json_body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class ServeApp:
    """The ASGI app of ``link-cli serve``: guards, CORS, routing, then the MCP SDK app.

    ``mcp_app`` is the SDK's streamable-HTTP Starlette app (its lifespan runs the
    session manager, so ``lifespan`` scopes are forwarded to it untouched).
    """

    def __init__(self, mcp_app: ASGIApp, *, log: TextIO | None = None) -> None:
        self._mcp_app = mcp_app
        self._log = log if log is not None else sys.stderr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._mcp_app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets: the connection is simply not accepted
        origin = _header(scope, b"origin")
        if origin is not None and not is_allowed_origin(origin):
            await _respond(
                send,
                403,
                _json_body({"error": "forbidden origin"}),
                content_type="application/json",
            )
            return
        cors = [
            (b"access-control-allow-methods", CORS_METHODS.encode()),
            (b"access-control-allow-headers", CORS_HEADERS.encode()),
        ]
        if origin is not None:
            cors += [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        method = scope["method"].upper()
        path = scope["path"]
        if method == "OPTIONS":
            await _respond(send, 204, headers=cors)
        elif path == MCP_PATH:
            await self._forward_mcp(scope, receive, send, cors)
        elif method == "GET" and path.startswith(SKILLS_PREFIX):
            await self._skill(path[len(SKILLS_PREFIX) :], send, cors)
        else:
            await _respond(
                send, 404, _json_body({"error": "not found"}), content_type="application/json"
            )

    async def _forward_mcp(
        self, scope: Scope, receive: Receive, send: Send, cors: list[tuple[bytes, bytes]]
    ) -> None:
        if scope["method"].upper() != "POST":
            # Stateless server: no GET event stream and no session to DELETE (contract §9.5).
            await _respond(send, 405, headers=[*cors, (b"allow", b"POST")])
            return
        started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        try:
            await self._mcp_app(scope, receive, send_with_cors)
        except Exception as error:
            # Log the class only: a message could quote a request body.
            print(f"link-cli serve: MCP request failed ({type(error).__name__})", file=self._log)
            if not started:
                await _respond(
                    send,
                    500,
                    _json_body({"error": "Internal server error"}),
                    content_type="application/json",
                    headers=cors,
                )

    async def _skill(self, rest: str, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        if rest == "index.json":
            await _respond(
                send,
                200,
                _json_body(skills.skill_index()),
                content_type="application/json",
                headers=[*cors, (b"cache-control", b"public, max-age=300")],
            )
            return
        name, _, file_name = rest.partition("/")
        text = skills.skill_markdown(name) if file_name == "SKILL.md" else None
        if text is None:
            await _respond(send, 404, b"Not Found", content_type="text/plain", headers=cors)
            return
        await _respond(
            send,
            200,
            text.encode(),
            content_type="text/markdown; charset=utf-8",
            headers=[*cors, (b"cache-control", b"public, max-age=300")],
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def build_app(*, log: TextIO | None = None) -> ServeApp:
    """The complete ``serve`` ASGI app: guards around the SDK's stateless /mcp endpoint."""
    from mcp.server.transport_security import TransportSecuritySettings

    from link_cli.mcp.server import build_server

    server = build_server()
    # The Origin rules above are the only ones (one place, as contract §9.5 states them); the SDK's
    # own Host/Origin allow-list would refuse e.g. ``http://localhost`` without a port.
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=False,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return ServeApp(mcp_app, log=log)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a bind failure is a command error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as error:
        raise Unknown(f"Could not resolve {host}: {error.strerror or error}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise Unknown(f"Could not listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, log: TextIO | None = None) -> None:
    """Run the server until SIGINT/SIGTERM. Messages go to ``log`` (stderr), never stdout."""
    import uvicorn

    log = log if log is not None else sys.stderr
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]  # differs from ``port`` when 0 asked for any port
    if not is_loopback_bind(host):
        log.write(BIND_WARNING.format(host=host, port=actual_port))
    app = build_app(log=log)
    log.write(f"link-cli MCP server listening on http://{host}:{actual_port}{MCP_PATH}\n")
    log.flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def serve_command(params: dict[str, Any], ctx: Context) -> None:
    """The ``serve`` command's handler; a port already in use is a command error."""
    if ctx.auth_given and ctx.auth_path:
        import os

        os.environ["LINK_AUTH_FILE"] = ctx.auth_path  # tools use the same session (contract §9.5)
    serve(params["host"], int(params["port"]))
