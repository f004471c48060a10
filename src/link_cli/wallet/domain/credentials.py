"""Pure rules for one-time credentials: sandbox card numbers, CVCs, expiry, token ids.

Sandbox virtual cards come from a range reserved for the sandbox: 16-digit Visa-shaped
numbers starting ``4000 0099 9`` — the prefix of Link's documented test-mode card
(``4000009990001984``, contract §11.1) — never a live issuer's BIN. Six random digits and a Luhn check digit
follow, so a million numbers exist; the store makes each one unique.

Randomness comes from :mod:`secrets`; callers may pass ``randbelow`` to make it
deterministic in tests. No other I/O.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from .cards import luhn_check_digit, luhn_valid

__all__ = [
    "SANDBOX_CARD_PREFIX",
    "card_expiry",
    "is_sandbox_card_number",
    "new_cvc",
    "new_lpt_id",
    "new_sandbox_card_number",
    "new_spt_id",
    "new_virtual_card_id",
    "sandbox_card_number",
]

SANDBOX_CARD_PREFIX = "400000999"
_CARD_LENGTH = 16
_RANDOM_DIGITS = _CARD_LENGTH - len(SANDBOX_CARD_PREFIX) - 1
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

RandBelow = Callable[[int], int]


def sandbox_card_number(serial: int) -> str:
    """The sandbox card number for ``serial`` (0 ≤ serial < 10**6): prefix, serial, check."""
    if not 0 <= serial < 10**_RANDOM_DIGITS:
        raise ValueError(f"serial must be in [0, 10**{_RANDOM_DIGITS})")
    payload = f"{SANDBOX_CARD_PREFIX}{serial:0{_RANDOM_DIGITS}d}"
    return payload + luhn_check_digit(payload)


def new_sandbox_card_number(randbelow: RandBelow = secrets.randbelow) -> str:
    """A random, Luhn-valid number from the sandbox range."""
    return sandbox_card_number(randbelow(10**_RANDOM_DIGITS))


def is_sandbox_card_number(number: str) -> bool:
    """True for a well-formed number from the sandbox range."""
    return (
        len(number) == _CARD_LENGTH
        and number.isascii()
        and number.isdigit()
        and number.startswith(SANDBOX_CARD_PREFIX)
        and luhn_valid(number)
    )


def new_cvc(randbelow: RandBelow = secrets.randbelow) -> str:
    """Three random digits."""
    return f"{randbelow(1000):03d}"


def card_expiry(valid_until: datetime) -> tuple[int, int]:
    """``(exp_month, exp_year)`` of a card that must not outlive ``valid_until``."""
    return valid_until.month, valid_until.year


def _random_id(prefix: str, length: int, randbelow: RandBelow) -> str:
    return prefix + "".join(_ID_ALPHABET[randbelow(len(_ID_ALPHABET))] for _ in range(length))


def new_spt_id(randbelow: RandBelow = secrets.randbelow) -> str:
    """A shared payment token id: ``spt_`` and 24 random letters and digits (~143 bits)."""
    return _random_id("spt_", 24, randbelow)


def new_virtual_card_id(randbelow: RandBelow = secrets.randbelow) -> str:
    """A virtual card id: ``vcard_`` and 24 random letters and digits."""
    return _random_id("vcard_", 24, randbelow)


def new_lpt_id(randbelow: RandBelow = secrets.randbelow) -> str:
    """A Link Pay Token: ``lpt_`` and 32 random letters and digits (~190 bits): the token is
    the bearer secret, so it is longer than an id."""
    return _random_id("lpt_", 32, randbelow)
