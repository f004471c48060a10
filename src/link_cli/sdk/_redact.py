"""Redaction for ``--verbose`` logs (contract §10.4, deliberately stricter).

The official CLI prints response bodies verbatim, tokens and card numbers included. Ours
redacts secrets in both directions: OAuth tokens and device codes, card numbers and CVCs,
shared payment tokens and Link Pay tokens, cookies, and anything in a string that looks
like a card number (13–19 digits, optionally grouped by spaces or dashes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from ._errors import parse_json_or_none

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

REDACTED = "<redacted>"

# JSON keys whose values are secrets wherever they appear.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "device_code",
        "token",
        "number",
        "cvc",
        "link_pay_token",
        "shared_payment_token",
        "shared_payment_granted_token",
        "password",
        "client_secret",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})

_PAN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_SPT_ID = re.compile(r"\bspt_[A-Za-z0-9_]+")
_JSON_SECRET_MEMBER = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|[0-9]+)'
)


def redact_text(text: str) -> str:
    """Mask card-number-like digit runs, SPT ids and quoted secret members in free text."""
    text = _JSON_SECRET_MEMBER.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = _SPT_ID.sub(REDACTED, text)
    return _PAN.sub(REDACTED, text)


def redact_json(value: Any) -> Any:
    """A copy of ``value`` with secret members and card-like strings replaced."""
    if isinstance(value, dict):
        return {key: _redact_member(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_member(key: str, value: Any) -> Any:
    if key not in SECRET_KEYS or value is None:
        return redact_json(value)
    if isinstance(value, dict):
        # A shared_payment_token object: keep its shape, hide the id.
        return {**redact_json(value), "id": REDACTED} if "id" in value else REDACTED
    return REDACTED


def redact_form(body: str) -> str:
    """Redact secret fields of an ``application/x-www-form-urlencoded`` body."""
    pairs = parse_qsl(body, keep_blank_values=True)
    return urlencode(
        [(key, REDACTED if key in SECRET_KEYS else redact_text(value)) for key, value in pairs]
    )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials hidden (``Authorization: Bearer <redacted>``)."""
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            redacted[name] = f"{scheme} {REDACTED}".strip()
        elif lowered in SECRET_HEADERS:
            redacted[name] = REDACTED
        else:
            redacted[name] = redact_text(value)
    return redacted


def redact_body(text: str, content_type: str | None) -> str:
    """Redact a request or response body for logging, pretty-printing JSON."""
    if not text:
        return ""
    if content_type and "x-www-form-urlencoded" in content_type:
        return redact_form(text)
    parsed = parse_json_or_none(text)
    if parsed is None:
        return redact_text(text)
    return json.dumps(redact_json(parsed), indent=2, ensure_ascii=False)
