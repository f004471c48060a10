"""`Payment-Receipt` headers: parse and format (mpp §1.5).

A receipt is base64url-no-pad JSON with `status` (always ``"success"``), `method`,
`timestamp` (RFC 3339) and `reference` (Stripe: the PaymentIntent id), plus method extras
such as `externalId`. Unknown fields are kept in :attr:`Receipt.extra`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from link_cli._records import EMPTY_MAPPING, frozen_record
from link_cli.mpp import _wire
from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Receipt", "format_payment_receipt", "parse_payment_receipt"]

_FIELDS = ("status", "method", "timestamp", "reference")


@frozen_record
class Receipt:
    """Proof that a payment settled; `extra` holds any other members, unchanged."""

    method: str
    reference: str
    timestamp: str
    status: str = "success"
    extra: Mapping[str, Any] = EMPTY_MAPPING

    def __post_init__(self) -> None:
        if set(self.extra) & set(_FIELDS):
            raise ValueError("extra must not repeat a receipt field")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def to_json(self) -> dict[str, Any]:
        """The JSON object carried in the header."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            status=self.status,
            method=self.method,
            timestamp=self.timestamp,
            reference=self.reference,
        )
        return out


def format_payment_receipt(receipt: Receipt) -> str:
    """The `Payment-Receipt` header value."""
    return _wire.encode_b64_json(receipt.to_json())


def parse_payment_receipt(value: str | bytes) -> Receipt:
    """Decode a `Payment-Receipt` value; it must say ``status: "success"``."""
    data = _wire.decode_b64_json(_wire.header_text(value).strip(" \t"))
    for name in _FIELDS:
        if not isinstance(data.get(name), str):
            raise MppParseError(f"Receipt {name} must be a string.")
    if data["status"] != "success":
        raise MppParseError("Receipt status must be success.")
    extra = {key: value for key, value in data.items() if key not in _FIELDS}
    return Receipt(
        method=data["method"],
        reference=data["reference"],
        timestamp=data["timestamp"],
        status=data["status"],
        extra=extra,
    )
