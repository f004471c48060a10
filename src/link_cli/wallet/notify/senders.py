"""The three ways a notice leaves the wallet. Each raises :class:`DeliveryError` with a
short, secret-free reason the settings page can show.

E-mail goes through the configured SMTP server (``smtplib``). Web Push encrypts the payload
for the subscription (``aes128gcm``, RFC 8291, ``http_ece``) and signs a VAPID JWT (RFC 8292,
``py_vapid``). A webhook is a signed JSON POST. HTTP targets are checked against private
addresses (unless allowed) and redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

import http_ece
import httpx2
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from ..domain.notifications import SIGNATURE_HEADER, Notice, sign_webhook, webhook_body
from ..settings import NotifySettings, SmtpSettings
from .vapid import b64url_decode, vapid_private_key

HTTP_TIMEOUT_SECONDS = 10
PUSH_TTL_SECONDS = 3600
USER_AGENT = "link-wallet-notify/1"


class DeliveryError(Exception):
    """One attempt failed; ``permanent`` when retrying cannot help (e.g. 404/410 from a push
    service: the subscription is gone)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason[:300])
        self.permanent = permanent


def send_email(smtp: SmtpSettings, to: str, notice: Notice) -> None:
    """Send the notice as a plain-text e-mail."""
    if not smtp.enabled or smtp.host is None:
        raise DeliveryError("no SMTP server is configured (LINK_WALLET_SMTP_HOST)")
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = smtp.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.email_text())
    # An explicit EHLO name: smtplib's default (socket.getfqdn) may wait on reverse DNS.
    helo = socket.gethostname() or "localhost"
    try:
        client: smtplib.SMTP
        if smtp.ssl:
            client = smtplib.SMTP_SSL(
                smtp.host,
                smtp.port,
                local_hostname=helo,
                timeout=smtp.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(
                smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout_seconds
            )
        with client:
            if smtp.starttls and not smtp.ssl:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError("the SMTP server refused the recipient address") from None
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError("the SMTP server refused the user name or password") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"the SMTP server does not support this: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from None


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse URLs whose host resolves to a loopback, private, link-local or otherwise
    non-public address (SSRF), unless ``allow_private``."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DeliveryError("not an http(s) URL", permanent=True)
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"cannot resolve {parts.hostname[:80]}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise DeliveryError(
                f"{parts.hostname[:80]} resolves to a non-public address ({address}); "
                "set LINK_WALLET_WEBHOOK_ALLOW_PRIVATE=on to allow it",
                permanent=True,
            )


def http_client() -> httpx2.Client:
    """One client per worker: its TLS context and connections are reused between sends."""
    return httpx2.Client(
        timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    )


def _post(
    client: httpx2.Client, url: str, *, content: bytes, headers: dict[str, str]
) -> httpx2.Response:
    try:
        return client.post(url, content=content, headers=headers)
    except httpx2.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None


def send_push(
    client: httpx2.Client,
    settings: NotifySettings,
    secret_key: bytes,
    public_url: str,
    endpoint: str,
    keys: dict[str, str],
    notice: Notice,
) -> None:
    """Encrypt the notice for one subscription and hand it to its push service."""
    check_destination(endpoint, allow_private=settings.webhook_allow_private)
    try:
        receiver_key = b64url_decode(keys["p256dh"])
        auth_secret = b64url_decode(keys["auth"])
    except (KeyError, ValueError):
        raise DeliveryError("the subscription's keys are malformed", permanent=True) from None
    body = json.dumps(notice.push_payload(), ensure_ascii=False).encode("utf-8")
    try:
        encrypted = http_ece.encrypt(
            body,
            salt=os.urandom(16),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=receiver_key,
            auth_secret=auth_secret,
            version="aes128gcm",
        )
    except Exception as exc:  # http_ece raises several types for bad receiver keys
        raise DeliveryError(
            f"cannot encrypt for this subscription: {exc}", permanent=True
        ) from None
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + 12 * 3600,
        "sub": settings.vapid_subject or _default_subject(settings, public_url),
    }
    vapid = Vapid02(private_key=vapid_private_key(secret_key))
    headers = vapid.sign(claims)
    response = _post(
        client,
        endpoint,
        content=encrypted,
        headers={
            "Authorization": headers["Authorization"],
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(PUSH_TTL_SECONDS),
            "Urgency": "high",
        },
    )
    if response.status_code in {404, 410}:
        raise DeliveryError(
            f"the push service says this subscription is gone ({response.status_code})",
            permanent=True,
        )
    if response.status_code >= 300:
        raise DeliveryError(f"the push service answered {response.status_code}")


def _default_subject(settings: NotifySettings, public_url: str) -> str:
    if public_url.startswith("https://"):
        return public_url
    return f"mailto:{settings.smtp.sender}"


def send_webhook(
    client: httpx2.Client,
    settings: NotifySettings,
    url: str,
    secret: str,
    payload: dict[str, object],
) -> None:
    """POST the signed payload; any 2xx is a delivery."""
    check_destination(url, allow_private=settings.webhook_allow_private)
    body = webhook_body(payload)
    signature = sign_webhook(secret, int(time.time()), body)
    response = _post(
        client,
        url,
        content=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
    )
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"the webhook answered {response.status_code}")
