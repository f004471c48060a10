"""Validation of a card a person adds to their wallet (pure; no I/O).

Used by both ``link-wallet card add`` and the "add a card" page, so both refuse the same
input with the same per-field messages. Messages never repeat the card number or CVC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from .errors import InvalidRequest
from .text import CONTROL_SINGLE_LINE

_DIGITS = re.compile(r"[0-9]+")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FIELD_LIMITS = {
    "name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "state": 100,
    "postal_code": 20,
    "nickname": 100,
}


class CardValidationError(InvalidRequest):
    """One or more card fields are invalid; ``field_errors`` maps field name to message."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__(
            "The card details are invalid: "
            + "; ".join(f"{k}: {v}" for k, v in field_errors.items()),
            code="invalid_card",
            extra={"field_errors": field_errors},
        )
        self.field_errors = field_errors


@dataclass(frozen=True)
class BillingAddress:
    """A card's billing address (contract §7.2 BillingAddress)."""

    name: str
    line1: str
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str


@dataclass(frozen=True)
class CardInput:
    """A validated card, ready to be stored (number and CVC still in the clear)."""

    number: str
    brand: str
    exp_month: int
    exp_year: int
    cvc: str
    billing: BillingAddress
    nickname: str | None

    @property
    def last4(self) -> str:
        """The last four digits, the only part of the number ever shown."""
        return self.number[-4:]


def luhn_valid(number: str) -> bool:
    """True when ``number`` (ASCII digits only) passes the Luhn checksum."""
    if not _DIGITS.fullmatch(number):
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn checksum."""
    if not _DIGITS.fullmatch(payload):
        raise ValueError("payload must be ASCII digits")
    return next(digit for digit in "0123456789" if luhn_valid(payload + digit))


def detect_brand(number: str) -> str | None:
    """``visa``, ``mastercard``, ``amex`` or ``discover`` from the number's prefix, else None."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    prefix2, prefix4 = int(number[:2] or 0), int(number[:4] or 0)
    if 51 <= prefix2 <= 55 or 2221 <= prefix4 <= 2720:
        return "mastercard"
    if number.startswith("6011") or number.startswith("65") or 644 <= int(number[:3] or 0) <= 649:
        return "discover"
    return None


_LENGTHS = {"visa": {13, 16, 19}, "mastercard": {16}, "amex": {15}, "discover": {16, 19}}


def validate_card(fields: Mapping[str, str | None], *, today: date) -> CardInput:
    """Validate raw form/flag values; raise :class:`CardValidationError` listing every problem.

    Expected keys: number, exp_month, exp_year, cvc, name, line1, line2, city, state,
    postal_code, country, nickname. Spaces and dashes in the number are ignored.
    """
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        return (fields.get(key) or "").strip()

    number = re.sub(r"[\s-]", "", text("number"))
    brand: str | None = None
    if not number:
        errors["number"] = "Enter the card number."
    elif not _DIGITS.fullmatch(number):
        errors["number"] = "The card number may contain only digits."
    else:
        brand = detect_brand(number)
        if brand is None:
            errors["number"] = "Only Visa, Mastercard, American Express and Discover are accepted."
        elif len(number) not in _LENGTHS[brand] or not luhn_valid(number):
            errors["number"] = "This card number is not valid; check it for typos."

    exp_month = _parse_int(text("exp_month"))
    exp_year = _parse_int(text("exp_year"))
    if exp_year is not None and exp_year < 100:
        exp_year += 2000
    if exp_month is None or not 1 <= exp_month <= 12:
        errors["exp_month"] = "Enter the expiry month as a number from 1 to 12."
    if exp_year is None or not 2000 <= exp_year <= 2100:
        errors["exp_year"] = "Enter the expiry year, e.g. 2030."
    if "exp_month" not in errors and "exp_year" not in errors:
        assert exp_month is not None and exp_year is not None
        if (exp_year, exp_month) < (today.year, today.month):
            errors["exp_year"] = "This card has expired."

    cvc = text("cvc")
    expected_cvc = 4 if brand == "amex" else 3
    if not _DIGITS.fullmatch(cvc) or not 3 <= len(cvc) <= 4:
        errors["cvc"] = "Enter the 3 or 4 digit security code."
    elif brand is not None and len(cvc) != expected_cvc:
        errors["cvc"] = f"The security code of this card has {expected_cvc} digits."

    billing, nickname = _billing(text, errors)
    if errors:
        raise CardValidationError(errors)
    assert brand is not None and exp_month is not None and exp_year is not None
    return CardInput(
        number=number,
        brand=brand,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=cvc,
        billing=billing,
        nickname=nickname,
    )


def _billing(
    text: Callable[[str], str], errors: dict[str, str]
) -> tuple[BillingAddress, str | None]:
    country = text("country").upper() or "US"
    if not _COUNTRY.match(country):
        errors["country"] = "Enter a two-letter country code, e.g. US."
    for required in ("name", "line1"):
        if not text(required):
            label = "the cardholder name" if required == "name" else "the street address"
            errors[required] = f"Enter {label}."
    for key, limit in _FIELD_LIMITS.items():
        value = text(key)
        if len(value) > limit:
            errors[key] = f"Use at most {limit} characters."
        elif CONTROL_SINGLE_LINE.search(value):
            errors[key] = "Remove control characters."
    billing = BillingAddress(
        name=text("name"),
        line1=text("line1"),
        line2=text("line2") or None,
        city=text("city") or None,
        state=text("state") or None,
        postal_code=text("postal_code") or None,
        country=country,
    )
    return billing, text("nickname") or None


@dataclass(frozen=True)
class TokenisedCardInput:
    """A card tokenised by Stripe.js: its PaymentMethod id and the billing address the
    person typed; the number never reached the wallet."""

    payment_method: str
    billing: BillingAddress
    nickname: str | None


_PAYMENT_METHOD_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,200}$")


def validate_tokenised_card(fields: Mapping[str, str | None]) -> TokenisedCardInput:
    """Validate a Stripe.js form post: a ``pm_…`` id, no card number or CVC (refused, so a
    page that failed to load Stripe.js cannot send them), and the billing address."""
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        return (fields.get(key) or "").strip()

    if text("number") or text("cvc"):
        errors["number"] = (
            "This wallet takes cards only through Stripe's secure form; card numbers are "
            "never sent to it."
        )
    payment_method = text("payment_method")
    if not _PAYMENT_METHOD_ID.match(payment_method):
        errors["payment_method"] = "The card was not tokenised by Stripe; try again."
    billing, nickname = _billing(text, errors)
    if errors:
        raise CardValidationError(errors)
    return TokenisedCardInput(payment_method=payment_method, billing=billing, nickname=nickname)


def _parse_int(value: str) -> int | None:
    if not _DIGITS.fullmatch(value) or len(value) > 4:
        return None
    return int(value)
