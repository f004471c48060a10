"""What a notification of a pending approval says, and the rules of its delivery.

Pure: no I/O. A notification carries what the person needs to decide whether to open the
approval page (amount, merchant, agent, context, the link), never a credential: the request
is only pending, and nothing of the funding card (number, CVC) is ever read for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from link_cli.money import format_amount

from .text import CONTROL_SINGLE_LINE

__all__ = [
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "Notice",
    "WebhookUrlError",
    "check_webhook_url",
    "retry_delay",
    "sign_webhook",
]

MAX_ATTEMPTS = 6
"""Attempts per delivery, the first included; then the row ends ``failed``."""
FIRST_RETRY_SECONDS = 2
MAX_RETRY_SECONDS = 300
SIGNATURE_HEADER = "Link-Wallet-Signature"
CONTEXT_PREVIEW_CHARS = 280


def retry_delay(attempts: int) -> timedelta | None:
    """Wait before the next attempt after ``attempts`` failed ones; None when exhausted.

    Exponential: 2 s, 4 s, 8 s, … capped at 5 minutes."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


@dataclass(frozen=True)
class Notice:
    """One pending approval, as every channel tells it."""

    spend_request_id: str
    amount: int
    currency: str
    merchant_name: str | None
    merchant_url: str | None
    agent_name: str | None
    context: str
    credential_type: str
    approval_url: str
    created_at: datetime
    summary: str | None = None
    """Set for a request a spending policy approved: the line the notice says instead."""

    @property
    def amount_text(self) -> str:
        """``$12.34`` style."""
        return format_amount(self.amount, self.currency)

    @property
    def payee(self) -> str:
        """The merchant's name, else its site, else a neutral word (on one line)."""
        return " ".join((self.merchant_name or self.merchant_url or "a merchant").split())

    @property
    def agent(self) -> str:
        """The agent connection's name (on one line)."""
        return " ".join((self.agent_name or "").split()) or "An agent"

    @property
    def title(self) -> str:
        """Subject line and push title."""
        if self.summary is not None:
            return " ".join(self.summary.split())[:1].upper() + " ".join(self.summary.split())[1:]
        return f"Approve {self.amount_text} to {self.payee}?"

    @property
    def short_context(self) -> str:
        """The context, cut for a push notification."""
        text = " ".join(self.context.split())
        if len(text) <= CONTEXT_PREVIEW_CHARS:
            return text
        return text[: CONTEXT_PREVIEW_CHARS - 1].rstrip() + "…"

    def email_text(self) -> str:
        """The plain-text e-mail body."""
        if self.summary is not None:
            return (
                f"{self.title}.\n\nAgent: {self.agent}\nSpend request: {self.spend_request_id}\n"
                f"\nNo one was asked: one of your spending policies covered it. To revoke the "
                f"credential before it is used, open {self.approval_url}\n"
            )
        lines = [
            f"{self.agent} asks to pay {self.amount_text} to {self.payee}.",
            "",
            f"Merchant: {self.payee}" + (f" ({self.merchant_url})" if self.merchant_url else ""),
            f"Amount: {self.amount_text}",
            f"Agent: {self.agent}",
            f"Spend request: {self.spend_request_id}",
            "",
            "What the agent says:",
            " ".join(self.context.split()),
            "",
            f"Review and approve or deny: {self.approval_url}",
            "",
            "Nothing is paid until you approve on that page, signed in to your wallet.",
        ]
        return "\n".join(lines) + "\n"

    def push_payload(self) -> dict[str, Any]:
        """What the service worker receives (kept small: push services cap about 4 KB)."""
        return {
            "title": self.title,
            "body": f"{self.agent}: {self.short_context}"
            if self.summary is None
            else f"{self.agent}: approved by your spending policy; revoke it if unwanted",
            "url": self.approval_url,
            "tag": self.spend_request_id,
        }

    def webhook_payload(self, event: str, event_id: str) -> dict[str, Any]:
        """The JSON body POSTed to a webhook (docs/notifications.md)."""
        return {
            "id": event_id,
            "type": event,
            "created": int(self.created_at.timestamp()),
            "data": {
                "spend_request_id": self.spend_request_id,
                "amount": self.amount,
                "currency": self.currency,
                "amount_display": self.amount_text,
                "merchant_name": self.merchant_name,
                "merchant_url": self.merchant_url,
                "agent_name": self.agent_name,
                "context": self.context,
                "credential_type": self.credential_type,
                "approval_url": self.approval_url,
                **({"summary": self.summary} if self.summary is not None else {}),
            },
        }


def webhook_body(payload: dict[str, Any]) -> bytes:
    """Canonical JSON bytes of a webhook payload."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The header value ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookUrlError(ValueError):
    """The URL cannot be a webhook target."""


MAX_URL_LENGTH = 2048


def check_webhook_url(url: str) -> str:
    """The URL, stripped, if it is an absolute http(s) URL without credentials."""
    url = url.strip()
    if not url:
        raise WebhookUrlError("Enter the webhook's URL.")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlError("The URL is too long.")
    if any(ord(ch) < 33 for ch in url) or CONTROL_SINGLE_LINE.search(url):
        raise WebhookUrlError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlError("This is not a valid URL.") from None
    if parts.scheme not in {"http", "https"}:
        raise WebhookUrlError("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise WebhookUrlError("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("Put no user name or password in the URL; verify the signature.")
    if port == 0:
        raise WebhookUrlError("The URL's port is not valid.")
    return url
