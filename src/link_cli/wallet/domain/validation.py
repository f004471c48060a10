"""Validation of spend-request bodies (contract §7.3 create, contract §7.4 update, contract §11)
and of agent reports (contract §3.16).

Input is the decoded JSON body, untrusted. Output is a :class:`SpendRequestDraft` or
:class:`SpendRequestChanges` holding only checked, normalised values, or an
:class:`InvalidRequest` naming the field (``param``, Stripe-style ``line_items[0][name]``)
and saying exactly what is wrong. The first problem found is reported.

Status rule — the *code* decides the status:

========================  ======  =====================================================
code                      status  when
========================  ======  =====================================================
``body_invalid``          400     the body is not a JSON object
``parameter_missing``     400     a required field is absent (or null)
``parameter_unknown``     400     a field this API does not have
``parameter_unsupported`` 400     a field of the official API this wallet does not offer
``parameter_not_allowed`` 400     a field that is not allowed with this credential type
``parameter_invalid_type`` 400    a field has the wrong JSON type
``parameter_invalid``     422     well-typed, but the value breaks a rule (length, range,
                                  format, allowed values)
========================  ======  =====================================================

So 400 means "this is not a well-formed request", 422 means "well-formed, but not
acceptable" — matching the official service's 422 for validation (contract §7.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from link_cli.agent_reports import OUTCOMES, TAGS, TEXT_LIMIT
from link_cli.money import is_currency_code

from .errors import InvalidRequest
from .spend_request import (
    LINK_PAY_TOKEN,
    CredentialType,
    SpendRequestChanges,
    SpendRequestDraft,
    check_totals_match,
)
from .text import CONTROL as _CONTROL
from .text import CONTROL_SINGLE_LINE as _CONTROL_SINGLE_LINE

__all__ = [
    "MAX_LINE_ITEMS",
    "MAX_METADATA_KEYS",
    "MIN_CONTEXT_LENGTH",
    "TOTAL_TYPES",
    "ReportDraft",
    "parse_approval_details",
    "parse_create_body",
    "parse_report_body",
    "parse_update_body",
]

MIN_CONTEXT_LENGTH = 100
MAX_CONTEXT_LENGTH = 5000
MAX_NAME_LENGTH = 500
MAX_TEXT_LENGTH = 5000
MAX_URL_LENGTH = 2048
MAX_ID_LENGTH = 255
MAX_LINE_ITEMS = 100
MAX_TOTALS = 50
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
# Far above any sane quantity or amount, but small enough for every database integer type.
MAX_INTEGER = 2**31 - 1

TOTAL_TYPES = (
    "subtotal",
    "tax",
    "total",
    "items_base_amount",
    "items_discount",
    "discount",
    "fulfillment",
    "shipping",
    "fee",
    "gift_wrap",
    "tip",
    "store_credit",
)
APPROVAL_METHODS = ("click", "programmatic", "voice")
DEVICE_TYPES = ("mobile", "web")
AUTHENTICATION_METHODS = ("biometric_face", "biometric_fingerprint", "passkey")

_CREATE_FIELDS = frozenset(
    {
        "payment_details",
        "credential_type",
        "network_id",
        "amount",
        "currency",
        "merchant_name",
        "merchant_url",
        "context",
        "line_items",
        "totals",
        "request_approval",
        "test",
        "approval_details",
        "metadata",
        "execution_method",
        "merchant_account_id",
    }
)
_UPDATE_FIELDS = frozenset(
    {"payment_details", "amount", "merchant_url", "profile_id", "currency", "line_items", "totals"}
)
EXECUTION_METHODS = (LINK_PAY_TOKEN,)
_LINE_ITEM_TEXT = ("name", "description", "sku")
_LINE_ITEM_URLS = ("url", "image_url", "product_url")
_LINE_ITEM_INTS = ("quantity", "unit_amount")
_LINE_ITEM_FIELDS = frozenset({*_LINE_ITEM_TEXT, *_LINE_ITEM_URLS, *_LINE_ITEM_INTS, "totals"})
_TOTAL_FIELDS = frozenset({"type", "display_text", "amount"})
_APPROVAL_REQUIRED = ("approved_at", "approval_method", "app_name", "external_user_id")
_APPROVAL_TEXT = (
    "app_name",
    "external_user_id",
    "ip_address",
    "user_agent",
    "agent_log_id",
    "external_user_name",
    "external_session_id",
)
_APPROVAL_FIELDS = frozenset(
    {*_APPROVAL_REQUIRED, *_APPROVAL_TEXT, "device_type", "authentication_method"}
)

_REPORT_FIELDS = frozenset(
    {"domain", "outcome", "spend_request_id", "tags", "step", "freeform_context"}
)
MAX_DOMAIN_LENGTH = 253  # the longest DNS name

_IDENTIFIER = re.compile(r"[A-Za-z0-9_\-.:]+")


# -- errors -------------------------------------------------------------------------------


def _fail(code: str, param: str, message: str) -> NoReturn:
    status = 422 if code == "parameter_invalid" else 400
    raise InvalidRequest(message, code=code, status=status, extra={"param": param})


def _missing(param: str, message: str | None = None) -> NoReturn:
    _fail("parameter_missing", param, message or f"Missing required parameter: {param}.")


def _invalid(param: str, message: str) -> NoReturn:
    _fail("parameter_invalid", param, message)


def _wrong_type(param: str, expected: str, value: object) -> NoReturn:
    _fail(
        "parameter_invalid_type",
        param,
        f"{param} must be {expected}, not {_json_type(value)}.",
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _reject_unknown(body: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    for key in body:
        if key not in allowed:
            param = f"{prefix}[{key}]" if prefix else key
            _fail("parameter_unknown", param, f"Received unknown parameter: {param}.")


# -- scalar readers -----------------------------------------------------------------------


def _text(
    value: object,
    param: str,
    *,
    max_length: int,
    min_length: int = 1,
    multiline: bool = False,
) -> str:
    if not isinstance(value, str):
        _wrong_type(param, "a string", value)
    if len(value.strip()) < min_length:
        if min_length == 1:
            _invalid(param, f"{param} must not be empty.")
        _invalid(
            param,
            f"{param} must be at least {min_length} characters long (got {len(value.strip())}).",
        )
    if len(value) > max_length:
        _invalid(param, f"{param} must be at most {max_length} characters long.")
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    if pattern.search(value):
        _invalid(param, f"{param} must not contain control or text-direction characters.")
    return value


def _identifier(value: object, param: str) -> str:
    if not isinstance(value, str):
        _wrong_type(param, "a string", value)
    if not value:
        _invalid(param, f"{param} must not be empty.")
    if len(value) > MAX_ID_LENGTH or not _IDENTIFIER.fullmatch(value):
        _invalid(
            param,
            f"{param} must be an identifier of at most {MAX_ID_LENGTH} letters, digits, "
            "'_', '-', '.' or ':'.",
        )
    return value


def _url(value: object, param: str) -> str:
    text = _text(value, param, max_length=MAX_URL_LENGTH)
    try:
        parts = urlsplit(text)
    except ValueError:
        _invalid(param, f"{param} must be an http or https URL.")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        _invalid(param, f"{param} must be an http or https URL.")
    return text


def _integer(value: object, param: str, *, minimum: int, maximum: int = MAX_INTEGER) -> int:
    # JSON true/false decode to Python bools, which are ints: refuse them explicitly.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            _wrong_type(param, "an integer (minor units, no decimal point)", value)
        _wrong_type(param, "an integer", value)
    if value < minimum:
        if minimum == 1:
            _invalid(param, f"{param} must be a positive integer (got {value}).")
        _invalid(param, f"{param} must be at least {minimum} (got {value}).")
    if value > maximum:
        _invalid(param, f"{param} must be at most {maximum} (got {value}).")
    return value


def _boolean(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        _wrong_type(param, "a boolean", value)
    return value


def _choice(value: object, param: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        _wrong_type(param, "a string", value)
    if value not in choices:
        _invalid(param, f"{param} must be one of {', '.join(choices)} (got {value[:40]!r}).")
    return value


def _object(value: object, param: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        _wrong_type(param, "an object", value)
    return value


def _array(value: object, param: str, *, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        _wrong_type(param, "an array", value)
    if len(value) > max_items:
        _invalid(param, f"{param} must have at most {max_items} entries (got {len(value)}).")
    return value


def _currency(value: object, param: str = "currency") -> str:
    if not isinstance(value, str):
        _wrong_type(param, "a string", value)
    if not is_currency_code(value):
        _invalid(
            param,
            f"{param} must be a three-letter ISO 4217 currency code such as usd (got {value[:20]!r}).",
        )
    return value.lower()


def _amount(value: object, max_amount: int) -> int:
    return _integer(value, "amount", minimum=1, maximum=max_amount)


# -- structured fields --------------------------------------------------------------------


def _total(value: object, param: str) -> dict[str, Any]:
    total = _object(value, param)
    _reject_unknown(total, _TOTAL_FIELDS, param)
    for key in ("type", "display_text", "amount"):
        if total.get(key) is None:
            _missing(f"{param}[{key}]")
    return {
        "type": _choice(total["type"], f"{param}[type]", TOTAL_TYPES),
        "display_text": _text(
            total["display_text"], f"{param}[display_text]", max_length=MAX_NAME_LENGTH
        ),
        # Discounts and store credit may be written as negative amounts.
        "amount": _integer(total["amount"], f"{param}[amount]", minimum=-MAX_INTEGER),
    }


def _totals(value: object, param: str) -> list[dict[str, Any]]:
    items = _array(value, param, max_items=MAX_TOTALS)
    return [_total(item, f"{param}[{index}]") for index, item in enumerate(items)]


def _line_item(value: object, param: str) -> dict[str, Any]:
    item = _object(value, param)
    _reject_unknown(item, _LINE_ITEM_FIELDS, param)
    if item.get("name") is None:
        _missing(f"{param}[name]")
    result: dict[str, Any] = {}
    for key in _LINE_ITEM_TEXT:
        if item.get(key) is not None:
            limit = MAX_TEXT_LENGTH if key == "description" else MAX_NAME_LENGTH
            result[key] = _text(
                item[key], f"{param}[{key}]", max_length=limit, multiline=key == "description"
            )
    for key in _LINE_ITEM_URLS:
        if item.get(key) is not None:
            result[key] = _url(item[key], f"{param}[{key}]")
    for key in _LINE_ITEM_INTS:
        if item.get(key) is not None:
            result[key] = _integer(item[key], f"{param}[{key}]", minimum=0)
    if item.get("totals") is not None:
        result["totals"] = _totals(item["totals"], f"{param}[totals]")
    return result


def _line_items(value: object, param: str = "line_items") -> list[dict[str, Any]]:
    items = _array(value, param, max_items=MAX_LINE_ITEMS)
    return [_line_item(item, f"{param}[{index}]") for index, item in enumerate(items)]


def _metadata(value: object) -> dict[str, str]:
    metadata = _object(value, "metadata")
    if len(metadata) > MAX_METADATA_KEYS:
        _invalid(
            "metadata",
            f"metadata can have at most {MAX_METADATA_KEYS} keys (got {len(metadata)}).",
        )
    result: dict[str, str] = {}
    for key, item in metadata.items():
        param = f"metadata[{key[:MAX_METADATA_KEY_LENGTH]}]"
        if not key or len(key) > MAX_METADATA_KEY_LENGTH:
            _invalid(
                param,
                f"metadata keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters long.",
            )
        if _CONTROL_SINGLE_LINE.search(key):
            _invalid(param, "metadata keys must not contain control characters.")
        if not isinstance(item, str):
            _wrong_type(param, "a string", item)
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            _invalid(
                param,
                f"metadata values must be at most {MAX_METADATA_VALUE_LENGTH} characters long.",
            )
        if _CONTROL.search(item):
            _invalid(param, "metadata values must not contain control characters.")
        result[key] = item
    return result


def parse_approval_details(value: object, *, now: datetime | None = None) -> dict[str, Any]:
    """Validate ``approval_details`` (contract §7.3, §11.3) and return a clean copy.

    Required: ``approved_at`` (unix seconds, not in the future when ``now`` is given),
    ``approval_method`` (click | programmatic | voice), ``app_name``, ``external_user_id``.
    """
    details = _object(value, "approval_details")
    _reject_unknown(details, _APPROVAL_FIELDS, "approval_details")
    for key in _APPROVAL_REQUIRED:
        if details.get(key) is None:
            _missing(f"approval_details[{key}]")
    approved_at = _integer(details["approved_at"], "approval_details[approved_at]", minimum=1)
    # A little slack for clock skew between the agent's host and the wallet.
    if now is not None and approved_at > now.timestamp() + 300:
        _invalid("approval_details[approved_at]", "approval_details[approved_at] is in the future.")
    result: dict[str, Any] = {
        "approved_at": approved_at,
        "approval_method": _choice(
            details["approval_method"], "approval_details[approval_method]", APPROVAL_METHODS
        ),
    }
    for key in _APPROVAL_TEXT:
        if details.get(key) is not None:
            result[key] = _text(
                details[key], f"approval_details[{key}]", max_length=MAX_NAME_LENGTH
            )
    if details.get("device_type") is not None:
        result["device_type"] = _choice(
            details["device_type"], "approval_details[device_type]", DEVICE_TYPES
        )
    if details.get("authentication_method") is not None:
        result["authentication_method"] = _choice(
            details["authentication_method"],
            "approval_details[authentication_method]",
            AUTHENTICATION_METHODS,
        )
    return result


# -- bodies -------------------------------------------------------------------------------


def _body(body: object) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        _fail("body_invalid", "body", "The request body must be a JSON object.")
    return body


def _reject_unsupported(body: Mapping[str, Any]) -> None:
    # expires_at is gated to allow-listed clients upstream; the wording is the service's.
    if "expires_at" in body:
        _fail("parameter_unsupported", "expires_at", "expires_at is not supported for this client")


def _link_pay_token_fields(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(execution_method, merchant_account_id)`` of a create body, checked with the rules
    the official client applies before sending (contract §3.5, rules a–g), in its order."""
    method = _optional(
        data, "execution_method", lambda v: _choice(v, "execution_method", EXECUTION_METHODS)
    )
    raw_account = data.get("merchant_account_id")
    if method is None and raw_account is None:
        return None, None
    if method is None:
        _missing(
            "execution_method",
            "execution_method link_pay_token is required when merchant_account_id is provided.",
        )
    account = raw_account.strip() if isinstance(raw_account, str) else raw_account
    if account is None or account == "":
        _missing(
            "merchant_account_id",
            "merchant_account_id is required when execution_method is link_pay_token.",
        )
    account = _identifier(account, "merchant_account_id")
    if data.get("credential_type", "card") != "card":
        _fail(
            "parameter_not_allowed",
            "credential_type",
            "credential_type must be card when execution_method is link_pay_token.",
        )
    for key, message in (
        ("network_id", "network_id cannot be used when execution_method is link_pay_token."),
        ("test", "test cannot be used when execution_method is link_pay_token."),
    ):
        if data.get(key) not in (None, False):
            _fail("parameter_not_allowed", key, message)
    for key in ("merchant_name", "merchant_url"):
        if data.get(key) not in (None, ""):
            _fail(
                "parameter_not_allowed",
                key,
                "merchant_name and merchant_url cannot be used when execution_method is "
                "link_pay_token; the merchant is resolved from merchant_account_id.",
            )
    return method, account


def _optional(body: Mapping[str, Any], key: str, read: Callable[[Any], Any]) -> Any:
    value = body.get(key)
    return None if value is None else read(value)


def parse_create_body(
    body: object, *, max_amount: int, now: datetime | None = None
) -> SpendRequestDraft:
    """Validate a CreateSpendRequest body (contract §7.3).

    ``max_amount`` is the operator's per-request cap in minor units (default 50000).
    Raises :class:`InvalidRequest` for the first problem found.
    """
    data = _body(body)
    _reject_unsupported(data)
    _reject_unknown(data, _CREATE_FIELDS)

    credential_type = CredentialType(
        _optional(
            data,
            "credential_type",
            lambda v: _choice(v, "credential_type", tuple(t.value for t in CredentialType)),
        )
        or CredentialType.CARD
    )
    if data.get("context") is None:
        _missing("context")
    context = _text(
        data["context"],
        "context",
        min_length=MIN_CONTEXT_LENGTH,
        max_length=MAX_CONTEXT_LENGTH,
        multiline=True,
    )
    if data.get("amount") is None:
        _missing("amount")
    amount = _amount(data["amount"], max_amount)
    currency = _optional(data, "currency", _currency) or "usd"

    execution_method, merchant_account_id = _link_pay_token_fields(data)
    merchant_name = _optional(
        data, "merchant_name", lambda v: _text(v, "merchant_name", max_length=MAX_NAME_LENGTH)
    )
    merchant_url = _optional(data, "merchant_url", lambda v: _url(v, "merchant_url"))
    network_id = _optional(data, "network_id", lambda v: _identifier(v, "network_id"))
    if execution_method is not None:
        pass  # the merchant's name and site come from its registration (services)
    elif credential_type is CredentialType.CARD:
        if network_id is not None:
            _fail(
                "parameter_not_allowed",
                "network_id",
                "network_id can only be used when credential_type is shared_payment_token.",
            )
        if merchant_name is None:
            _missing("merchant_name", "merchant_name is required when credential_type is card.")
        if merchant_url is None:
            _missing("merchant_url", "merchant_url is required when credential_type is card.")
    else:
        if network_id is None:
            _missing(
                "network_id",
                "network_id is required when credential_type is shared_payment_token.",
            )
        for key in ("merchant_name", "merchant_url"):
            if data.get(key) is not None:
                _fail(
                    "parameter_not_allowed",
                    key,
                    f"{key} cannot be used when credential_type is shared_payment_token; "
                    "the seller is identified by network_id.",
                )

    totals = _optional(data, "totals", lambda v: _totals(v, "totals")) or []
    check_totals_match(amount, totals)
    return SpendRequestDraft(
        credential_type=credential_type,
        amount=amount,
        currency=currency,
        context=context,
        merchant_name=merchant_name,
        merchant_url=merchant_url,
        network_id=network_id,
        payment_method_id=_optional(
            data, "payment_details", lambda v: _identifier(v, "payment_details")
        ),
        line_items=_optional(data, "line_items", _line_items) or [],
        totals=totals,
        metadata=_optional(data, "metadata", _metadata) or {},
        request_approval=bool(
            _optional(data, "request_approval", lambda v: _boolean(v, "request_approval"))
        ),
        test=bool(_optional(data, "test", lambda v: _boolean(v, "test"))),
        approval_details=_optional(
            data, "approval_details", lambda v: parse_approval_details(v, now=now)
        ),
        execution_method=execution_method,
        merchant_account_id=merchant_account_id,
    )


def parse_update_body(body: object, *, max_amount: int) -> SpendRequestChanges:
    """Validate an UpdateSpendRequest body (contract §7.4): any subset of its fields.

    ``profile_id`` is the seller's network id of a shared_payment_token request. Whether a
    field fits the request's credential type is checked by ``spend_request.update``.
    """
    data = _body(body)
    _reject_unsupported(data)
    if "merchant_id" in data:
        _fail(
            "parameter_not_allowed",
            "merchant_id",
            "merchant_id cannot be changed: a Link Pay Token request's merchant account is "
            "fixed when it is created.",
        )
    _reject_unknown(data, _UPDATE_FIELDS)
    return SpendRequestChanges(
        payment_method_id=_optional(
            data, "payment_details", lambda v: _identifier(v, "payment_details")
        ),
        amount=_optional(data, "amount", lambda v: _amount(v, max_amount)),
        currency=_optional(data, "currency", _currency),
        merchant_url=_optional(data, "merchant_url", lambda v: _url(v, "merchant_url")),
        network_id=_optional(data, "profile_id", lambda v: _identifier(v, "profile_id")),
        line_items=_optional(data, "line_items", _line_items),
        totals=_optional(data, "totals", lambda v: _totals(v, "totals")),
    )


# -- agent reports (contract §3.16) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A checked ``POST /agent_observations`` body."""

    domain: str
    outcome: str
    spend_request_id: str
    tags: tuple[str, ...] = ()
    step: str | None = None
    freeform_context: str | None = None


def parse_report_body(body: object) -> ReportDraft:
    """Check an agent's report: the options of ``report``, with the same choices and limits."""
    fields = _body(body)
    _reject_unknown(fields, _REPORT_FIELDS)
    for key in ("domain", "outcome", "spend_request_id"):
        if fields.get(key) is None:
            _missing(key)
    tags: list[str] = []
    for index, tag in enumerate(_optional(fields, "tags", _report_tags) or ()):
        tag = _choice(tag, f"tags[{index}]", TAGS)
        if tag not in tags:
            tags.append(tag)
    return ReportDraft(
        domain=_text(fields["domain"], "domain", max_length=MAX_DOMAIN_LENGTH).strip(),
        outcome=_choice(fields["outcome"], "outcome", OUTCOMES),
        spend_request_id=_identifier(fields["spend_request_id"], "spend_request_id"),
        tags=tuple(tags),
        step=_optional(fields, "step", lambda v: _text(v, "step", max_length=TEXT_LIMIT)),
        freeform_context=_optional(
            fields,
            "freeform_context",
            lambda v: _text(v, "freeform_context", max_length=TEXT_LIMIT, multiline=True),
        ),
    )


def _report_tags(value: object) -> list[Any]:
    return _array(value, "tags", max_items=len(TAGS) * 2)
