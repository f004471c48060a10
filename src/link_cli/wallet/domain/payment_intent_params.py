"""The parameters of ``POST /v1/payment_intents``: validated into :class:`PaymentIntentCreate`.

Every refusal is a Stripe ``invalid_request_error`` (or a ``card_error`` for card details)
naming the bad parameter, as Stripe answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from link_cli.money import is_ascii_digits, is_currency_code

from .cards import luhn_valid
from .stripe_errors import card_error, invalid_request

__all__ = [
    "CANCELLATION_REASONS",
    "MAX_AMOUNT",
    "CardAttempt",
    "PaymentIntentConfirm",
    "PaymentIntentCreate",
    "confirmation_of",
    "parse_cancel",
    "parse_payment_intent_confirm",
    "parse_payment_intent_create",
]

MAX_AMOUNT = 99_999_999
"""Stripe's ceiling for one charge in minor units (``amount_too_large`` above it)."""

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
    """A validated ``POST /v1/payment_intents`` body.

    With ``confirm`` exactly one of ``spt``/``card``/``lpt`` is set. Without it, at most an
    SPT: the intent is only stored, and ``payment_method_data`` is refused (the wallet never
    keeps a card number, CVC or Link Pay Token it was not asked to charge at once).
    """

    amount: int
    currency: str
    spt: str | None
    card: CardAttempt | None
    payment_method_types: tuple[str, ...]
    automatic_payment_methods: dict[str, Any] | None
    metadata: dict[str, str]
    description: str | None = None
    confirm: bool = True
    lpt: str | None = None
    """A Link Pay Token (``payment_method_data[type]=link_pay_token``)."""


def parse_payment_intent_create(form: Mapping[str, Any]) -> PaymentIntentCreate:
    """Validate a decoded form; raises :class:`StripeError` (400) naming the bad parameter."""
    _refuse_unknown(form, _KNOWN | _TOLERATED)
    amount = _positive_int(form, "amount")
    currency = _currency(form.get("currency"))
    confirm = _boolean(form, "confirm")
    spt, card, lpt = _credential(form, confirm=confirm)
    types = _payment_method_types(form)
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
        spt=spt,
        card=card,
        payment_method_types=tuple(types) or ("card",),
        automatic_payment_methods=automatic,
        metadata=_metadata(form.get("metadata")),
        description=description[:1000] if isinstance(description, str) else None,
        confirm=confirm,
        lpt=lpt,
    )


_CONFIRM_KNOWN = frozenset(
    {"shared_payment_granted_token", "payment_method_data", "payment_method_types"}
)
_CONFIRM_TOLERATED = frozenset(
    {
        "expand",
        "return_url",
        "receipt_email",
        "payment_method_options",
        "setup_future_usage",
        "off_session",
        "use_stripe_sdk",
        "mandate_data",
        "capture_method",
    }
)


@dataclass(frozen=True, slots=True)
class PaymentIntentConfirm:
    """A validated ``POST /v1/payment_intents/{id}/confirm`` body: the credential, if given
    now (else the SPT given at creation is used)."""

    spt: str | None
    card: CardAttempt | None
    lpt: str | None = None


def parse_payment_intent_confirm(form: Mapping[str, Any]) -> PaymentIntentConfirm:
    """Validate a confirm body (at most one credential; none means the one given at
    creation); raises :class:`StripeError` (400 ``invalid_request_error`` or 402
    ``card_error`` for malformed card details)."""
    _refuse_unknown(form, _CONFIRM_KNOWN | _CONFIRM_TOLERATED)
    spt, card, lpt = _credential(form, confirm=True, required=False)
    _payment_method_types(form)
    return PaymentIntentConfirm(spt=spt, card=card, lpt=lpt)


def confirmation_of(draft: PaymentIntentCreate, given: PaymentIntentConfirm) -> PaymentIntentCreate:
    """What confirming the stored ``draft`` with ``given`` charges: the credential given now,
    else the SPT given at creation; refused when there is none."""
    if given.card is not None:
        return replace(draft, spt=None, card=given.card, lpt=None, confirm=True)
    if given.lpt is not None:
        return replace(draft, spt=None, card=None, lpt=given.lpt, confirm=True)
    if given.spt is not None:
        return replace(draft, spt=given.spt, card=None, lpt=None, confirm=True)
    if draft.spt is not None:
        return replace(draft, card=None, lpt=None, confirm=True)
    raise invalid_request(
        "You cannot confirm this PaymentIntent because it's missing a payment method: pass "
        "shared_payment_granted_token, payment_method_data[card] or "
        "payment_method_data[link_pay_token].",
        code="payment_intent_unexpected_state",
        param="shared_payment_granted_token",
    )


CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})


def parse_cancel(form: Mapping[str, Any]) -> str | None:
    """The ``cancellation_reason`` of ``POST /v1/payment_intents/{id}/cancel`` (or None)."""
    _refuse_unknown(form, frozenset({"cancellation_reason", "expand"}))
    reason = form.get("cancellation_reason")
    if reason is None or reason == "":
        return None
    if not isinstance(reason, str) or reason not in CANCELLATION_REASONS:
        raise invalid_request(
            f"Invalid cancellation_reason: must be one of {', '.join(sorted(CANCELLATION_REASONS))}",
            code="parameter_invalid",
            param="cancellation_reason",
        )
    return reason


def _refuse_unknown(form: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(form) - allowed)
    if unknown:
        raise invalid_request(
            f"Received unknown parameter: {unknown[0][:60]}",
            code="parameter_unknown",
            param=unknown[0][:60],
        )


def _boolean(form: Mapping[str, Any], name: str) -> bool:
    raw = form.get(name)
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise invalid_request(
        f"Invalid boolean: {str(raw)[:20]}", code="parameter_invalid_boolean", param=name
    )


def _credential(
    form: Mapping[str, Any], *, confirm: bool, required: bool = True
) -> tuple[str | None, CardAttempt | None, str | None]:
    """The SPT, the card or the Link Pay Token of a create or confirm body: never two;
    exactly one when confirming at creation (``required``)."""
    spt = form.get("shared_payment_granted_token")
    if spt is not None and (not isinstance(spt, str) or not spt.strip()):
        raise invalid_request(
            "Invalid shared_payment_granted_token.",
            code="parameter_invalid_string",
            param="shared_payment_granted_token",
        )
    if not confirm and form.get("payment_method_data") is not None:
        raise invalid_request(
            "This wallet takes card details and Link Pay Tokens only when it charges them: "
            "pass confirm=true, or give payment_method_data when you confirm the "
            "PaymentIntent.",
            code="parameter_invalid",
            param="payment_method_data",
        )
    data = form.get("payment_method_data")
    lpt = _link_pay_token(data)
    card = None if lpt is not None else _card(data)
    token = spt.strip() if isinstance(spt, str) else None
    if not confirm:
        return token, None, None
    given = sum(value is not None for value in (token, card, lpt))
    if given > 1 or (required and given == 0):
        raise invalid_request(
            "Pass exactly one of shared_payment_granted_token, payment_method_data[card] or "
            "payment_method_data[link_pay_token].",
            code="parameter_missing",
            param="shared_payment_granted_token",
        )
    return token, card, lpt


def _link_pay_token(raw: Any) -> str | None:
    """``payment_method_data[type]=link_pay_token`` with ``[link_pay_token]=lpt_…``."""
    if not isinstance(raw, dict) or raw.get("type") != "link_pay_token":
        return None
    unknown = sorted(set(raw) - {"type", "link_pay_token", "billing_details", "metadata"})
    if unknown:
        param = f"payment_method_data[{unknown[0][:40]}]"
        raise invalid_request(
            f"Received unknown parameter: {param}", code="parameter_unknown", param=param
        )
    token = raw.get("link_pay_token")
    if not isinstance(token, str) or not token.strip():
        raise invalid_request(
            "Missing required param: payment_method_data[link_pay_token].",
            code="parameter_missing",
            param="payment_method_data[link_pay_token]",
        )
    return token.strip()[:200]


def _payment_method_types(form: Mapping[str, Any]) -> tuple[str, ...]:
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
    return tuple(types)


def _positive_int(form: Mapping[str, Any], name: str) -> int:
    raw = form.get(name)
    if raw is None:
        raise invalid_request(
            f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    if not isinstance(raw, str) or not is_ascii_digits(raw) or len(raw) > 12:
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
            f"Invalid currency: {str(raw)[:20]}. Use an ISO 4217 code such as usd.",
            code="parameter_invalid",
            param="currency",
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
            "payment_method_data[type] must be `card` or `link_pay_token`.",
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
    if not is_ascii_digits(number) or not 12 <= len(number) <= 19 or not luhn_valid(number):
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
    if not is_ascii_digits(cvc) or not 3 <= len(cvc) <= 4:
        raise card_error("Your card's security code is invalid.", code="invalid_cvc", param="cvc")
    return CardAttempt(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


def _card_int(raw: Any, param: str, code: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if not is_ascii_digits(text) or len(text) > 4:
        noun = "month" if param == "exp_month" else "year"
        raise card_error(f"Your card's expiration {noun} is invalid.", code=code, param=param)
    return int(text)
