"""Stripe webhook signatures, verified on the raw body with the standard library.

``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…]``; each ``v1`` is HMAC-SHA256 of
``"<t>.<raw body>"`` under an endpoint's signing secret. Any secret (the real-time
authorization endpoint's, the event endpoint's, or an old one during rotation) may match;
comparison is constant-time; a timestamp further than the tolerance from now is refused, so
a captured request cannot be replayed later. Kept off stripe-python so the authorization's
hot path costs no SDK import.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

from .base import WebhookRejected

__all__ = ["sign", "signature_header", "verify_event"]

_MAX_SIGNATURES = 16


def sign(secret: str, timestamp: int, payload: bytes) -> str:
    """The ``v1`` signature of ``payload`` at ``timestamp`` (hex)."""
    message = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` (what Stripe sends)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={sign(secret, moment, payload)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(",")[: _MAX_SIGNATURES * 2]:
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and len(value) == 64:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("The Stripe-Signature header has no timestamp or no v1 signature.")
    return timestamp, signatures


def verify_event(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance_seconds: int,
) -> dict[str, Any]:
    """The event in ``payload`` once a signature matches; raises :class:`WebhookRejected`."""
    if not header or len(header) > 4096:
        raise WebhookRejected("The request carries no Stripe-Signature header.")
    timestamp, signatures = _parse(header)
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp, payload)
        for candidate in signatures:
            # Every pair is compared, so the time does not tell which secret matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookRejected("No signature in Stripe-Signature matches this endpoint's secret.")
    if abs(now - timestamp) > tolerance_seconds:
        raise WebhookRejected(
            "The Stripe-Signature timestamp is outside the tolerance; the event is refused "
            "as a possible replay."
        )
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeError, RecursionError):
        raise WebhookRejected("The webhook body is not JSON.", code="webhook_invalid") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRejected("The webhook body is not a Stripe event.", code="webhook_invalid")
    data = event.get("data")
    if not isinstance(event.get("type"), str) or not isinstance(data, dict):
        raise WebhookRejected("The webhook body is not a Stripe event.", code="webhook_invalid")
    if not isinstance(data.get("object"), dict):
        raise WebhookRejected("The webhook body is not a Stripe event.", code="webhook_invalid")
    return event
