"""MPP over JSON-RPC and MCP (mpp §3.1): challenges in errors, credentials in ``_meta``.

A paid tool call fails with JSON-RPC error ``-32042`` ("Payment Required", or ``-32043``
after a refused attempt) whose ``data.challenges`` lists challenge *objects*: like the HTTP
auth-params, except that ``request`` is a native JSON object and ``opaque`` may be an object
(pympp) or a base64url string (mppx). mppx also puts the same data in a tool result at
``result._meta["org.paymentauth/payment-required"]``. The payer retries the call with
``params._meta["org.paymentauth/credential"] = {challenge, payload, source?}``, echoing the
challenge object exactly as received, and reads the receipt from
``result._meta["org.paymentauth/receipt"]`` (at the message root for generic JSON-RPC).

Pure and stdlib-only, like the rest of the codec; parsers raise only :class:`MppParseError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from link_cli.mpp import _wire
from link_cli.mpp.challenge import Challenge, challenge_from_params
from link_cli.mpp.errors import MppParseError
from link_cli.mpp.methods import stripe
from link_cli.mpp.receipt import Receipt

__all__ = [
    "CREDENTIAL_META",
    "PAYMENT_REQUIRED",
    "PAYMENT_REQUIRED_META",
    "RECEIPT_META",
    "VERIFICATION_FAILED",
    "McpChallenge",
    "build_credential_meta",
    "parse_mcp_challenges",
    "parse_mcp_receipt",
    "select_stripe",
]

PAYMENT_REQUIRED = -32042
VERIFICATION_FAILED = -32043
CREDENTIAL_META = "org.paymentauth/credential"
RECEIPT_META = "org.paymentauth/receipt"
PAYMENT_REQUIRED_META = "org.paymentauth/payment-required"
_STRING_PARAMS = ("id", "realm", "method", "intent", "description", "digest", "expires", "header")


@dataclass(frozen=True)
class McpChallenge:
    """One challenge object as received (`raw`, echoed unchanged) and its HTTP-shaped twin
    (`challenge`, with `request`/`opaque` as base64url) for selection and method checks."""

    raw: Mapping[str, Any] = field(repr=False)
    challenge: Challenge

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", MappingProxyType(copy.deepcopy(dict(self.raw))))


def _challenge_of(obj: Any) -> McpChallenge:
    if not isinstance(obj, dict):
        raise MppParseError("MCP challenge must be an object.")
    params: dict[str, str] = {}
    for name in _STRING_PARAMS:
        if name in obj and obj[name] is not None:
            if not isinstance(obj[name], str):
                raise MppParseError(f"MCP challenge {name} must be a string.")
            params[name] = obj[name]
    request = obj.get("request")
    if not isinstance(request, dict):
        raise MppParseError("MCP challenge request must be an object.")
    try:
        params["request"] = _wire.encode_b64_json(request)
    except (ValueError, RecursionError):
        raise MppParseError("MCP challenge request is not valid JSON.") from None
    opaque = obj.get("opaque")
    if isinstance(opaque, dict):
        try:
            params["opaque"] = _wire.encode_b64_json(opaque)
        except (ValueError, RecursionError):
            raise MppParseError("MCP challenge opaque is not valid JSON.") from None
    elif isinstance(opaque, str):
        params["opaque"] = opaque
    elif opaque is not None:
        raise MppParseError("MCP challenge opaque must be an object or a string.")
    return McpChallenge(raw=obj, challenge=challenge_from_params(params))


def _payment_data(message: Mapping[str, Any]) -> Any:
    """The payment-required data of an error object, a response or a tool result, or None."""
    error_field = message.get("error")
    error: Mapping[str, Any] = error_field if isinstance(error_field, dict) else message
    code = error.get("code")
    if code in (PAYMENT_REQUIRED, VERIFICATION_FAILED) and not isinstance(code, bool):
        return error.get("data")
    result_field = message.get("result")
    result: Mapping[str, Any] = result_field if isinstance(result_field, dict) else message
    meta = result.get("_meta")
    if isinstance(meta, dict):
        return meta.get(PAYMENT_REQUIRED_META)
    return None


def parse_mcp_challenges(message: Mapping[str, Any]) -> list[McpChallenge]:
    """Every usable challenge of a JSON-RPC payment error (``-32042``/``-32043``), given as
    the error object, the whole response, or a tool result carrying them in ``_meta``.

    ``[]`` when the message is no payment requirement: another code, or ``-32042`` used for
    something else (no ``challenges`` list). Raises :class:`MppParseError` when it is one
    but no challenge in it is usable (the first one's reason).
    """
    if not isinstance(message, Mapping):
        raise MppParseError("JSON-RPC message must be an object.")
    data = _payment_data(message)
    challenges = data.get("challenges") if isinstance(data, dict) else None
    if not isinstance(challenges, list):
        return []
    parsed: list[McpChallenge] = []
    first_error: str | None = None
    for obj in challenges:
        try:
            parsed.append(_challenge_of(obj))
        except MppParseError as exc:
            first_error = first_error or str(exc)
    if not parsed:
        raise MppParseError(first_error or "No payment challenge in the message.")
    return parsed


def select_stripe(
    challenges: list[McpChallenge], *, check: stripe.OfferCheck | None = None
) -> McpChallenge:
    """The first acceptable stripe charge/session offer (as :func:`stripe.select_stripe_challenge`)."""
    chosen = stripe.select_stripe_challenge([item.challenge for item in challenges], check=check)
    return next(item for item in challenges if item.challenge is chosen)


def build_credential_meta(
    chosen: McpChallenge, payload: Mapping[str, Any], source: str | None = None
) -> dict[str, Any]:
    """The ``_meta`` entry answering `chosen`: ``{CREDENTIAL_META: {challenge, payload}}``.

    Put it in ``params._meta`` for MCP (at the message root for generic JSON-RPC). The
    challenge object is the one received, unchanged (opaque object or string alike).
    """
    credential: dict[str, Any] = {
        "challenge": copy.deepcopy(dict(chosen.raw)),
        "payload": dict(payload),
    }
    if source is not None:
        credential["source"] = source
    return {CREDENTIAL_META: credential}


def parse_mcp_receipt(message: Mapping[str, Any]) -> Receipt | None:
    """The receipt of a paid call (``result._meta`` or root ``_meta``), or None without one.

    Requires ``status == "success"``, `method`, `timestamp` and `challengeId`; `reference` is
    optional here (empty when absent); other members are kept in :attr:`Receipt.extra`.
    """
    if not isinstance(message, Mapping):
        raise MppParseError("JSON-RPC message must be an object.")
    receipt = None
    for holder in (message.get("result"), message):
        meta = holder.get("_meta") if isinstance(holder, Mapping) else None
        if isinstance(meta, dict) and RECEIPT_META in meta:
            receipt = meta[RECEIPT_META]
            break
    if receipt is None:
        return None
    if not isinstance(receipt, dict):
        raise MppParseError("Receipt must be an object.")
    for name in ("status", "method", "timestamp", "challengeId"):
        if not isinstance(receipt.get(name), str):
            raise MppParseError(f"Receipt {name} must be a string.")
    if receipt["status"] != "success":
        raise MppParseError("Receipt status must be success.")
    reference = receipt.get("reference", "")
    if not isinstance(reference, str):
        raise MppParseError("Receipt reference must be a string.")
    fields = ("status", "method", "timestamp", "reference")
    return Receipt(
        method=receipt["method"],
        reference=reference,
        timestamp=receipt["timestamp"],
        extra={k: v for k, v in receipt.items() if k not in fields},
    )
