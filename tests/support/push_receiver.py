"""A push service and browser in one, on loopback: receives Web Push messages, checks their
VAPID signature (RFC 8292) and decrypts them (aes128gcm, RFC 8291) with the subscription's
private key and auth secret, as the browser would. Also a webhook receiver and an SMTP sink.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .ports import free_port
from .threaded_server import serving


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscription:
    """What ``PushSubscription.toJSON()`` gives a page: endpoint and keys."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass
class PushMessage:
    path: str
    headers: dict[str, str]
    body: bytes


def verify_vapid(authorization: str, audience: str) -> tuple[dict[str, Any], str]:
    """Check ``vapid t=<jwt>,k=<key>``: ES256 signature by ``k``, ``aud``, ``exp``, ``sub``.
    Returns the claims and ``k``."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = values["t"], values["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(unb64url(header_b64))
    assert header["alg"] == "ES256", header
    claims = json.loads(unb64url(claims_b64))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    raw = unb64url(signature_b64)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify") from None
    assert claims["aud"] == audience, claims
    assert claims["sub"].startswith(("mailto:", "https://")), claims
    assert isinstance(claims["exp"], int)
    return claims, key


def decrypt(message: PushMessage, subscription: Subscription) -> bytes:
    """Decrypt as the browser does with the subscription's private key and auth secret."""
    assert message.headers.get("content-encoding") == "aes128gcm", message.headers
    return http_ece.decrypt(
        message.body,
        private_key=subscription.private_key,
        auth_secret=subscription.auth,
        version="aes128gcm",
    )


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: queue.Queue[PushMessage] = queue.Queue()
        self.statuses: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer_for(self, path: str) -> int:
        with self.lock:
            planned = self.statuses.get(path)
            return planned.pop(0) if planned else 201


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status = self.server.answer_for(self.path)
        self.server.messages.put(PushMessage(self.path, headers, body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def http_recorder() -> Iterator[_Recorder]:
    """A loopback HTTP server recording every POST; ``statuses[path]`` plans its answers."""
    server = _Recorder()
    with serving(server):
        yield server


class _MailSink:
    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[Message, bytes, list[str]]] = queue.Queue()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.put((message_from_bytes(raw), raw, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: queue.Queue[tuple[Message, bytes, list[str]]]
    logins: list[str]


@contextmanager
def smtp_server(username: str, password: str) -> Iterator[SmtpServer]:
    """aiosmtpd on loopback requiring AUTH with these credentials (plain connection)."""
    sink = _MailSink()
    logins: list[str] = []

    def authenticator(
        _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == username
            and data.password.decode() == password
        )
        if ok:
            logins.append(mechanism)
        return AuthResult(success=ok)

    # A port picked free can be taken before aiosmtpd binds it: try another.
    for attempts_left in reversed(range(5)):
        controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,
        )
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            if not attempts_left:
                raise
    try:
        yield SmtpServer("127.0.0.1", controller.port, sink.messages, logins)
    finally:
        controller.stop()
