"""Builders for MPP test headers (raw text, so tests control every byte)."""

from __future__ import annotations

import base64
import json
from typing import Any

STRIPE_REQUEST: dict[str, Any] = {
    "amount": "250",
    "currency": "usd",
    "methodDetails": {"networkId": "profile_test_123", "paymentMethodTypes": ["card", "link"]},
}


def b64(value: Any, *, pad: bool = False, sort_keys: bool = True) -> str:
    """base64url of compact JSON (padding optional)."""
    raw = json.dumps(value, separators=(",", ":"), sort_keys=sort_keys).encode()
    text = base64.urlsafe_b64encode(raw).decode()
    return text if pad else text.rstrip("=")


REQUEST_B64 = b64(STRIPE_REQUEST)


def payment(**params: str) -> str:
    """``Payment k="v", …`` with the required params defaulted; pass None to drop one."""
    merged: dict[str, str | None] = {
        "id": "ch_1",
        "realm": "shop.example",
        "method": "stripe",
        "intent": "charge",
        "request": REQUEST_B64,
    }
    merged.update(params)
    return "Payment " + ", ".join(f'{k}="{v}"' for k, v in merged.items() if v is not None)
