"""Redemption rules: what a merchant may charge against an issued credential.

The wallet is its own acquirer for merchants registered with it: a merchant confirms a
Stripe-shaped PaymentIntent (``POST /v1/payment_intents``) carrying either a shared payment
token (SPT) or the virtual card's number, expiry and CVC. This module is pure: it parses the
form the ``stripe`` SDK, pympp and mppx send, decides whether a credential may pay, and
builds the Stripe-shaped objects and errors. The repository loads plain snapshots, asks
:func:`judge_spt` / :func:`judge_card`, and applies the verdict in one transaction.

Refusals fall in three kinds (:class:`Effect`), decided here so every route agrees:

* ``NONE``: the presenter proved nothing about the credential (unknown token, another
  seller's token, unknown card number, already used, no longer usable). Nothing is stored
  against the spend request, so a stranger cannot disturb someone else's purchase.
* ``ATTEMPT``: the card number is right but the expiry or CVC is wrong. The card is *not*
  burned (a typo must not cost the purchase), but the attempt counts; the
  :data:`MAX_FAILED_CARD_ATTEMPTS`-th wrong attempt burns it, which bounds CVC guessing.
* ``BURN``: the presenter holds the genuine credential but the charge breaks the approval
  (amount above it, another currency). The credential is consumed and the spend request
  ends ``failed`` with ``payment_status_details.outcome = "failure"``: a one-time
  credential answers one purchase, and a new purchase needs a new approval (contract §8.5).

Expiry is not a burn: an expired credential's spend request is already (lazily) ``expired``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .money import format_amount, is_currency_code

__all__ = [
    "MAX_FAILED_CARD_ATTEMPTS",
    "CardAttempt",
    "CardSnapshot",
    "Effect",
    "PaymentIntentCreate",
    "Refusal",
    "SptSnapshot",
    "StripeError",
    "already_used",
    "canonical_params",
    "card_error",
    "decode_form",
    "granted_token_object",
    "invalid_request",
    "judge_card",
    "judge_spt",
    "luhn_ok",
    "parse_payment_intent_create",
    "payment_intent_object",
    "payment_status_details",
]

MAX_FAILED_CARD_ATTEMPTS = 3
"""Wrong expiry/CVC attempts a virtual card survives; the third one burns it."""

MAX_AMOUNT = 99_999_999
"""Stripe's ceiling for one charge in minor units (``amount_too_large`` above it)."""

_MAX_FORM_PAIRS = 200
_MAX_METADATA_KEYS = 50
_MAX_METADATA_KEY = 40
_MAX_METADATA_VALUE = 500

# Parameters the SDKs may send that change nothing here; accepted and ignored.
_TOLERATED = frozenset(
    {
        "description",
        "receipt_email",
        "customer",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "expand",
        "return_url",
        "capture_method",
        "confirmation_method",
        "hooks",
        "payment_method_options",
        "setup_future_usage",
        "off_session",
        "use_stripe_sdk",
    }
)
_KNOWN = frozenset(
    {
        "amount",
        "currency",
        "confirm",
        "shared_payment_granted_token",
        "payment_method_types",
        "payment_method_data",
        "automatic_payment_methods",
        "metadata",
    }
)


class Effect(StrEnum):
    """What a refusal does to the credential and its spend request (module docstring)."""

    NONE = "none"
    ATTEMPT = "attempt"
    BURN = "burn"


class StripeError(Exception):
    """An error in Stripe's wire shape: ``{"error": {type, code, message, ...}}``.

    ``status`` is the HTTP status (400 invalid request, 401 bad key, 402 card error,
    404 unknown object). ``payment_intent`` is attached once a PaymentIntent exists.
    """

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.param = param
        self.payment_intent: dict[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body Stripe answers with; absent members are omitted."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if self.param is not None:
            error["param"] = self.param
        if self.payment_intent is not None:
            error["payment_intent"] = self.payment_intent
        return {"error": error}


def invalid_request(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> StripeError:
    """A Stripe ``invalid_request_error`` (bad or missing parameter, unknown object)."""
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


def card_error(
    message: str, *, code: str, decline_code: str | None = None, param: str | None = None
) -> StripeError:
    """A Stripe ``card_error`` (HTTP 402): the payment was declined."""
    return StripeError(
        402, "card_error", message, code=code, decline_code=decline_code, param=param
    )


# --------------------------------------------------------------------------- form parsing

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's bracket form encoding into nested dicts and lists.

    ``metadata[k]=v`` → ``{"metadata": {"k": "v"}}``; ``a[]=x`` and ``a[0]=x`` → lists.
    Raises :class:`StripeError` on malformed names, conflicting shapes or too many pairs.
    """
    root: dict[str, Any] = {}
    for count, (name, value) in enumerate(pairs, start=1):
        if count > _MAX_FORM_PAIRS:
            raise invalid_request("Too many parameters.", code="parameter_invalid")
        head, _, rest = name.partition("[")
        rest = "[" + rest if rest else ""
        segments = _BRACKETS.findall(rest)
        if not _NAME.fullmatch(head) or "".join(f"[{s}]" for s in segments) != rest:
            raise invalid_request(f"Invalid parameter name: {name[:60]}", code="parameter_unknown")
        _insert(root, [head, *segments], value, name)
    return _finish(root)


def _insert(node: dict[str, Any], path: list[str], value: str, name: str) -> None:
    for index, key in enumerate(path[:-1]):
        child_key = path[index + 1]
        list_like = child_key == "" or child_key.isdigit()
        child = node.get(key)
        if child is None:
            child = {"__list__": list_like}
            node[key] = child
        if not isinstance(child, dict) or child["__list__"] != list_like:
            raise invalid_request(f"Invalid array or hash: {name[:60]}", param=path[0])
        node = child
    last = path[-1]
    if last == "":
        last = str(sum(1 for k in node if k != "__list__"))
    if last in node:
        raise invalid_request(f"Duplicate parameter: {name[:60]}", param=path[0])
    node[last] = value


def _finish(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    is_list = node.pop("__list__", False)
    if is_list:
        return [_finish(node[k]) for k in sorted(node, key=int)]
    return {k: _finish(v) for k, v in node.items()}


def canonical_params(pairs: Iterable[tuple[str, str]]) -> bytes:
    """A stable byte form of a request's parameters, for idempotency comparisons.

    It still contains card data when a card is charged: callers only ever store a keyed
    MAC of it (never the bytes themselves).
    """
    return json.dumps(sorted(pairs), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class CardAttempt:
    """Card details a merchant typed in. ``repr`` never shows the number or the CVC."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        """The last four digits, safe to show and store."""
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class PaymentIntentCreate:
    """A validated ``POST /v1/payment_intents`` body. Exactly one of ``spt``/``card``."""

    amount: int
    currency: str
    spt: str | None
    card: CardAttempt | None
    payment_method_types: tuple[str, ...]
    automatic_payment_methods: dict[str, Any] | None
    metadata: dict[str, str]
    description: str | None = None


def parse_payment_intent_create(form: Mapping[str, Any]) -> PaymentIntentCreate:
    """Validate a decoded form; raises :class:`StripeError` (400) naming the bad parameter."""
    unknown = sorted(set(form) - _KNOWN - _TOLERATED)
    if unknown:
        raise invalid_request(
            f"Received unknown parameter: {unknown[0][:60]}",
            code="parameter_unknown",
            param=unknown[0][:60],
        )
    amount = _positive_int(form, "amount")
    currency = _currency(form.get("currency"))
    confirm = form.get("confirm")
    if confirm != "true":
        raise invalid_request(
            "This wallet settles PaymentIntents at creation only: pass confirm=true.",
            code="parameter_missing" if confirm is None else "parameter_invalid_boolean",
            param="confirm",
        )
    spt = form.get("shared_payment_granted_token")
    card = _card(form.get("payment_method_data"))
    if spt is not None and (not isinstance(spt, str) or not spt.strip()):
        raise invalid_request(
            "Invalid shared_payment_granted_token.",
            code="parameter_invalid_string",
            param="shared_payment_granted_token",
        )
    if (spt is None) == (card is None):
        raise invalid_request(
            "Pass exactly one of shared_payment_granted_token or payment_method_data[card].",
            code="parameter_missing",
            param="shared_payment_granted_token",
        )
    types = form.get("payment_method_types", [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise invalid_request(
            "payment_method_types must be a list of strings.",
            code="parameter_invalid",
            param="payment_method_types",
        )
    if types and "card" not in types and "link" not in types:
        raise invalid_request(
            "This wallet only accepts card payments: include `card` in payment_method_types.",
            code="payment_method_type_unsupported",
            param="payment_method_types",
        )
    automatic = form.get("automatic_payment_methods")
    if automatic is not None and not isinstance(automatic, dict):
        raise invalid_request(
            "automatic_payment_methods must be a hash.",
            code="parameter_invalid",
            param="automatic_payment_methods",
        )
    description = form.get("description")
    return PaymentIntentCreate(
        amount=amount,
        currency=currency,
        spt=spt.strip() if isinstance(spt, str) else None,
        card=card,
        payment_method_types=tuple(types) or ("card",),
        automatic_payment_methods=automatic,
        metadata=_metadata(form.get("metadata")),
        description=description[:1000] if isinstance(description, str) else None,
    )


def _positive_int(form: Mapping[str, Any], name: str) -> int:
    raw = form.get(name)
    if raw is None:
        raise invalid_request(
            f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 12:
        raise invalid_request(
            f"Invalid integer: {str(raw)[:40]}", code="parameter_invalid_integer", param=name
        )
    value = int(raw)
    if value < 1:
        raise invalid_request("Amount must be at least 1.", code="amount_too_small", param=name)
    if value > MAX_AMOUNT:
        raise invalid_request(
            f"Amount must be no more than {MAX_AMOUNT}.", code="amount_too_large", param=name
        )
    return value


def _currency(raw: Any) -> str:
    if raw is None:
        raise invalid_request(
            "Missing required param: currency.", code="parameter_missing", param="currency"
        )
    if not isinstance(raw, str) or not is_currency_code(raw):
        raise invalid_request(
            f"Invalid currency: {str(raw)[:20]}", code="parameter_invalid", param="currency"
        )
    return raw.lower()


def _metadata(raw: Any) -> dict[str, str]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid hash: metadata.", code="parameter_invalid", param="metadata")
    if len(raw) > _MAX_METADATA_KEYS:
        raise invalid_request(
            f"metadata can have at most {_MAX_METADATA_KEYS} keys.",
            code="parameter_invalid",
            param="metadata",
        )
    result: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or len(key) > _MAX_METADATA_KEY:
            raise invalid_request(
                f"Invalid metadata key or value: {key[:40]}",
                code="parameter_invalid",
                param="metadata",
            )
        if len(value) > _MAX_METADATA_VALUE:
            raise invalid_request(
                f"metadata values must be at most {_MAX_METADATA_VALUE} characters.",
                code="parameter_invalid",
                param="metadata",
            )
        if value != "":  # Stripe: an empty value unsets the key
            result[key] = value
    return result


def _card(raw: Any) -> CardAttempt | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_request(
            "Invalid hash: payment_method_data.",
            code="parameter_invalid",
            param="payment_method_data",
        )
    if raw.get("type") != "card":
        raise invalid_request(
            "payment_method_data[type] must be `card`.",
            code="parameter_invalid",
            param="payment_method_data[type]",
        )
    card = raw.get("card")
    if not isinstance(card, dict):
        raise invalid_request(
            "Missing required param: payment_method_data[card].",
            code="parameter_missing",
            param="payment_method_data[card]",
        )
    number = re.sub(r"[ \-]", "", str(card.get("number", "")))
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        raise card_error("Your card number is incorrect.", code="incorrect_number", param="number")
    exp_month = _card_int(card.get("exp_month"), "exp_month", "invalid_expiry_month")
    exp_year = _card_int(card.get("exp_year"), "exp_year", "invalid_expiry_year")
    if not 1 <= exp_month <= 12:
        raise card_error(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param="exp_month",
        )
    if exp_year < 100:
        exp_year += 2000
    cvc = str(card.get("cvc", "")).strip()
    if not cvc.isdigit() or not 3 <= len(cvc) <= 4:
        raise card_error("Your card's security code is invalid.", code="invalid_cvc", param="cvc")
    return CardAttempt(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


def _card_int(raw: Any, param: str, code: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit() or len(text) > 4:
        noun = "month" if param == "exp_month" else "year"
        raise card_error(f"Your card's expiration {noun} is invalid.", code=code, param=param)
    return int(text)


def luhn_ok(number: str) -> bool:
    """True when ``number`` (digits only) passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a charge is refused, as a Stripe error, and what it does (:class:`Effect`)."""

    error: StripeError
    effect: Effect


@dataclass(frozen=True, slots=True)
class SptSnapshot:
    """An issued SPT as the rules need it. ``usable`` is False once its spend request left
    ``approved`` (canceled, failed, expired...)."""

    id: str
    network_id: str | None
    max_amount: int
    currency: str
    expires_at: datetime
    consumed: bool
    usable: bool


@dataclass(frozen=True, slots=True)
class CardSnapshot:
    """An issued virtual card as the rules need it (decrypted only in memory)."""

    id: str
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    max_amount: int
    currency: str
    valid_until: datetime
    consumed: bool
    usable: bool
    failed_attempts: int = 0


def judge_spt(
    spt: SptSnapshot | None,
    *,
    token: str,
    network_id: str,
    amount: int,
    currency: str,
    now: datetime,
) -> Refusal | None:
    """Decide whether the merchant with ``network_id`` may charge ``amount`` on the SPT.

    None means "settle". A token issued for another seller is reported exactly like an
    unknown one (``resource_missing``), so its existence does not leak.
    """
    if (
        spt is None
        or spt.network_id is None
        or not hmac.compare_digest(spt.network_id.encode(), network_id.encode())
    ):
        return Refusal(
            invalid_request(
                f"No such shared_payment_granted_token: '{token[:64]}'",
                code="resource_missing",
                param="shared_payment_granted_token",
            ),
            Effect.NONE,
        )
    if spt.consumed:
        return already_used(spt=True)
    if now >= spt.expires_at:
        return Refusal(
            invalid_request(
                "This shared payment token has expired.",
                code="shared_payment_token_expired",
                param="shared_payment_granted_token",
            ),
            Effect.NONE,
        )
    if not spt.usable:
        return Refusal(
            invalid_request(
                "This shared payment token has been revoked.",
                code="shared_payment_token_revoked",
                param="shared_payment_granted_token",
            ),
            Effect.NONE,
        )
    if currency != spt.currency:
        return Refusal(
            invalid_request(
                f"This shared payment token can only be used in {spt.currency.upper()}.",
                code="currency_mismatch",
                param="currency",
            ),
            Effect.BURN,
        )
    if amount > spt.max_amount:
        return Refusal(
            invalid_request(
                "Amount exceeds this shared payment token's limit of "
                f"{format_amount(spt.max_amount, spt.currency)}.",
                code="amount_too_large",
                param="amount",
            ),
            Effect.BURN,
        )
    return None


def judge_card(
    card: CardSnapshot | None, attempt: CardAttempt, *, amount: int, currency: str, now: datetime
) -> Refusal | None:
    """Decide whether ``attempt`` may charge ``amount`` on the virtual card (None: settle).

    Secrets are compared in constant time; the order of checks never reveals the CVC of a
    card whose expiry was guessed wrong.
    """
    if card is None:
        return Refusal(_declined("generic_decline", "Your card was declined."), Effect.NONE)
    if card.consumed or not card.usable:
        if now >= card.valid_until:
            return Refusal(_expired(), Effect.NONE)
        return already_used(spt=False)
    expiry_ok = (attempt.exp_month, attempt.exp_year) == (card.exp_month, card.exp_year)
    cvc_ok = hmac.compare_digest(attempt.cvc.encode(), card.cvc.encode())
    if not (expiry_ok and cvc_ok):
        effect = (
            Effect.BURN if card.failed_attempts + 1 >= MAX_FAILED_CARD_ATTEMPTS else Effect.ATTEMPT
        )
        if not expiry_ok:
            error = _declined("invalid_expiry_year", "Your card's expiration date is incorrect.")
        else:
            error = card_error(
                "Your card's security code is incorrect.",
                code="incorrect_cvc",
                decline_code="incorrect_cvc",
                param="cvc",
            )
        return Refusal(error, effect)
    if now >= card.valid_until:
        return Refusal(_expired(), Effect.NONE)
    if currency != card.currency:
        return Refusal(
            _declined(
                "currency_not_supported",
                f"Your card was declined: it can only be charged in {card.currency.upper()}.",
            ),
            Effect.BURN,
        )
    if amount > card.max_amount:
        return Refusal(
            _declined(
                "invalid_amount",
                "Your card was declined: the amount exceeds the approved "
                f"{format_amount(card.max_amount, card.currency)}.",
            ),
            Effect.BURN,
        )
    return None


def already_used(*, spt: bool) -> Refusal:
    """The refusal for a credential that was already redeemed (or lost the race to it)."""
    if spt:
        error = invalid_request(
            "This shared payment token has already been used.",
            code="shared_payment_token_consumed",
            param="shared_payment_granted_token",
        )
    else:
        error = _declined(
            "generic_decline", "Your card was declined: this card can no longer be used."
        )
    return Refusal(error, Effect.NONE)


def _declined(decline_code: str, message: str) -> StripeError:
    return card_error(message, code="card_declined", decline_code=decline_code)


def _expired() -> StripeError:
    return card_error("Your card has expired.", code="expired_card", decline_code="expired_card")


# --------------------------------------------------------------------------- wire objects


def payment_intent_object(
    *,
    id: str,
    amount: int,
    currency: str,
    status: str,
    created: datetime,
    payment_method: str | None,
    payment_method_types: Iterable[str],
    metadata: Mapping[str, str],
    spt: str | None = None,
    automatic_payment_methods: Mapping[str, Any] | None = None,
    description: str | None = None,
    last_payment_error: Mapping[str, Any] | None = None,
    latest_charge: str | None = None,
) -> dict[str, Any]:
    """A PaymentIntent in Stripe's shape (the fields the SDKs and agents read)."""
    succeeded = status == "succeeded"
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if succeeded else 0,
        "automatic_payment_methods": dict(automatic_payment_methods)
        if automatic_payment_methods
        else None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": None,
        "confirmation_method": "automatic",
        "created": int(created.timestamp()),
        "currency": currency,
        "customer": None,
        "description": description,
        "last_payment_error": dict(last_payment_error) if last_payment_error else None,
        "latest_charge": latest_charge,
        "livemode": False,
        "metadata": dict(metadata),
        "next_action": None,
        "payment_method": payment_method,
        "payment_method_types": list(payment_method_types),
        "shared_payment_granted_token": spt,
        "status": status,
    }


def granted_token_object(
    spt: SptSnapshot,
    *,
    created: datetime,
    amount_captured: int,
    now: datetime,
    consumed_at: datetime | None = None,
) -> dict[str, Any]:
    """A SharedPaymentGrantedToken as the seller sees it (Stripe's view-only object).

    ``deactivated_reason`` is ``consumed`` once redeemed, ``expired`` past its expiry and
    ``revoked`` when its spend request ended otherwise (canceled, failed).
    """
    deactivated_reason = None
    deactivated_at = None
    if spt.consumed:
        deactivated_reason, deactivated_at = "consumed", consumed_at
    elif now >= spt.expires_at:
        deactivated_reason, deactivated_at = "expired", spt.expires_at
    elif not spt.usable:
        deactivated_reason = "revoked"
    return {
        "id": spt.id,
        "object": "shared_payment.granted_token",
        "created": int(created.timestamp()),
        "deactivated_at": int(deactivated_at.timestamp()) if deactivated_at else None,
        "deactivated_reason": deactivated_reason,
        "livemode": False,
        "usage_details": {"amount_captured": {"value": amount_captured, "currency": spt.currency}},
        "usage_limits": {
            "currency": spt.currency,
            "expires_at": int(spt.expires_at.timestamp()),
            "max_amount": spt.max_amount,
        },
    }


def payment_status_details(
    *, amount: int, currency: str, created: datetime, error: StripeError | None = None
) -> dict[str, Any]:
    """``payment_status_details`` for the spend request (contract §4.5)."""
    details: dict[str, Any] = {
        "outcome": "success" if error is None else "failure",
        "amount": amount,
        "currency": currency,
        "created": int(created.timestamp()),
    }
    if error is not None:
        details["code"] = error.code
        if error.decline_code is not None:
            details["decline_code"] = error.decline_code
    return details
