"""Throttle policy: which budgets a sign-in, a device phrase, a device login or a merchant's
card presentation spends.

A budget allows ``limit`` attempts per key within a sliding ``window``. The store reserves one
attempt in every budget of an action atomically *before* the password or phrase is checked
(store/throttle.py), so concurrent guesses never see a stale count. A success gives its
reservation back; a failure keeps it. The policy is documented in docs/security.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

SIGNIN_WINDOW = timedelta(minutes=15)
PHRASE_WINDOW = timedelta(minutes=10)
DEVICE_CODE_WINDOW = timedelta(minutes=10)
CARD_FAILURE_WINDOW = timedelta(minutes=15)
LONGEST_WINDOW = max(SIGNIN_WINDOW, PHRASE_WINDOW, DEVICE_CODE_WINDOW, CARD_FAILURE_WINDOW)


@dataclass(frozen=True)
class ThrottleSettings:
    """Attempt budgets; each can be set with ``LINK_WALLET_THROTTLE_<UPPER NAME>``."""

    signin_per_account_address: int = 5
    """Failed sign-ins for one email from one client address per 15 minutes."""
    signin_per_address: int = 20
    """Failed sign-ins from one client address, whatever the email, per 15 minutes."""
    signin_per_account: int = 30
    """Failed sign-ins for one email from all addresses together per 15 minutes."""
    phrase_per_person: int = 5
    """Wrong device phrases typed by one signed-in person per 10 minutes."""
    phrase_global: int = 100
    """Wrong device phrases typed by everyone together per 10 minutes."""
    device_code_per_address: int = 30
    """Device logins (``POST /device/code``) started from one client address per 10 minutes."""
    card_failures_per_key: int = 20
    """Declined card presentations (``POST /v1/payment_intents``) per merchant key per 15 min."""


@dataclass(frozen=True)
class Budget:
    """``limit`` attempts of ``kind`` for ``key`` within ``window``."""

    kind: str
    key: str
    limit: int
    window: timedelta


def signin_budgets(settings: ThrottleSettings, *, email: str, address: str) -> list[Budget]:
    """What one sign-in attempt spends: per (email, address), per address, per email."""
    return [
        Budget("signin", f"{email}\0{address}", settings.signin_per_account_address, SIGNIN_WINDOW),
        Budget("signin_address", address, settings.signin_per_address, SIGNIN_WINDOW),
        Budget("signin_account", email, settings.signin_per_account, SIGNIN_WINDOW),
    ]


def phrase_budgets(settings: ThrottleSettings, *, person_id: str) -> list[Budget]:
    """What one typed device phrase spends: per person and for everyone together."""
    return [
        Budget("device_phrase", person_id, settings.phrase_per_person, PHRASE_WINDOW),
        Budget("device_phrase_all", "*", settings.phrase_global, PHRASE_WINDOW),
    ]


def device_code_budgets(settings: ThrottleSettings, *, address: str) -> list[Budget]:
    """What starting one device login spends: per client address."""
    return [Budget("device_code", address, settings.device_code_per_address, DEVICE_CODE_WINDOW)]


def card_failure_budgets(settings: ThrottleSettings, *, merchant_id: str) -> list[Budget]:
    """What presenting card details spends until it succeeds: per merchant (one key each)."""
    return [
        Budget("card_failure", merchant_id, settings.card_failures_per_key, CARD_FAILURE_WINDOW)
    ]
