"""Amounts in minor units: currency normalisation and human formatting.

Amounts travel as integers in the currency's smallest unit (cents for USD), as in the
Link API (contract §7). This module turns them into text a person can read (the wallet's
pages, the demo merchant, ``link-cli demo``); it never does arithmetic on floats. It imports
nothing from the package, so every layer may use it.
"""

from __future__ import annotations

import re

__all__ = ["ZERO_DECIMAL_CURRENCIES", "format_amount", "is_currency_code", "normalize_currency"]

# ISO 4217 currencies whose minor unit is the major unit (Stripe's zero-decimal list).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)

# Symbols for the currencies people are most likely to see; others show their code.
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}

_CURRENCY = re.compile(r"[A-Za-z]{3}")


def is_currency_code(value: str) -> bool:
    """True when ``value`` is exactly three ASCII letters (case-insensitive)."""
    return bool(_CURRENCY.fullmatch(value))


def normalize_currency(value: str) -> str:
    """Return the lowercase form of a three-letter currency code (``"USD"`` → ``"usd"``)."""
    if not is_currency_code(value):
        raise ValueError(f"not a three-letter currency code: {value!r}")
    return value.lower()


def format_amount(amount: int, currency: str) -> str:
    """Format minor units for people: ``format_amount(5000, "usd")`` → ``"$50.00"``.

    Zero-decimal currencies print whole units (``¥500``); unknown codes print as
    ``"12.34 CHF"``. Negative amounts keep their sign in front.
    """
    code = currency.lower()
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if code in ZERO_DECIMAL_CURRENCIES:
        number = f"{magnitude:,}"
    else:
        number = f"{magnitude // 100:,}.{magnitude % 100:02d}"
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code.upper()}"
