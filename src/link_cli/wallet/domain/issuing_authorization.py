"""Whether a card network authorization of an issued card may go through (pure rules).

The issuer (Stripe Issuing) asks in real time; the answer is yes only when every one holds:

1. the card belongs to a spend request of this wallet, and that request is ``approved``
   (not canceled, denied, failed, succeeded) and before its ``valid_until``;
2. the currency is the approved one and the amount at most the approved amount;
3. the card was not used before (a second authorization is refused, whatever its amount);
4. the merchant is the one the person approved (:func:`merchant_matches`).

Each refusal has a stable reason, recorded with the decision and shown to the agent as the
spend request's ``payment_status_details.decline_code``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from .spend_request import SpendRequest, Status

__all__ = [
    "AuthorizationAsk",
    "Decision",
    "decide",
    "merchant_matches",
    "normalised_name",
]

MIN_NAME_MATCH = 4
"""A descriptor shorter than this after normalisation never matches by name alone."""


@dataclass(frozen=True, slots=True)
class AuthorizationAsk:
    """What the network asks: amount and currency of the card, and who the merchant is."""

    amount: int
    currency: str
    merchant_name: str | None
    merchant_url: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer and its reason (``approved`` when it goes through)."""

    approved: bool
    reason: str
    message: str


def normalised_name(name: str | None) -> str:
    """Letters and digits only, lower-case, accents dropped: ``Café Déjà-Vu Ltd.`` →
    ``cafedejavultd``."""
    if not name:
        return ""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", folded)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    candidate = url if "://" in url else f"https://{url}"
    try:
        host = urlsplit(candidate.strip()).hostname
    except ValueError:
        return None
    return host or None


def merchant_matches(
    *,
    approved_name: str | None,
    approved_url: str | None,
    descriptor_name: str | None,
    descriptor_url: str | None,
    registrable_domain: Callable[[str], str],
) -> bool:
    """Whether the merchant of an authorization is the one the person approved.

    * When the network reports the merchant's web address (3-D Secure), its registrable
      domain must equal that of the approved ``merchant_url``; the name is not consulted.
    * Otherwise, by name: the normalised card descriptor must start with one of the
      normalised approved merchant name, the approved site's registrable domain
      (``rocketrides.io``) or its first label (``rocketrides``), each at least
      :data:`MIN_NAME_MATCH` characters. Descriptors are truncated by networks, so a
      descriptor of 12 or more characters that is a prefix of one of them also matches.
    """
    approved_host = _host(approved_url)
    approved_domain = registrable_domain(approved_host) if approved_host else None
    seen_host = _host(descriptor_url)
    if seen_host:
        return approved_domain is not None and registrable_domain(seen_host) == approved_domain
    descriptor = normalised_name(descriptor_name)
    if len(descriptor) < MIN_NAME_MATCH:
        return False
    candidates = {normalised_name(approved_name)}
    if approved_domain:
        candidates.add(normalised_name(approved_domain))
        candidates.add(normalised_name(approved_domain.split(".", 1)[0]))
    for candidate in candidates:
        if len(candidate) < MIN_NAME_MATCH:
            continue
        if descriptor.startswith(candidate):
            return True
        if len(descriptor) >= 12 and candidate.startswith(descriptor):
            return True
    return False


def decide(
    request: SpendRequest | None,
    ask: AuthorizationAsk,
    *,
    card_used: bool,
    merchant_ok: bool,
    now: datetime,
) -> Decision:
    """The decision on one authorization, first failing rule first."""
    if request is None:
        return Decision(False, "unknown_card", "The card was not issued by this wallet.")
    if request.status is not Status.APPROVED:
        return Decision(
            False,
            "spend_request_not_approved",
            f"The spend request is {request.status}, not approved.",
        )
    if request.valid_until is None or now >= request.valid_until:
        return Decision(False, "spend_request_expired", "The spend request has expired.")
    if ask.currency.lower() != request.currency.lower():
        return Decision(
            False,
            "currency_mismatch",
            f"The charge is in {ask.currency.upper()}; {request.currency.upper()} was approved.",
        )
    if ask.amount > request.amount:
        return Decision(
            False,
            "amount_exceeds_approval",
            f"The charge of {ask.amount} exceeds the approved {request.amount} (minor units).",
        )
    if card_used:
        return Decision(False, "credential_already_used", "The card was already used once.")
    if not merchant_ok:
        return Decision(
            False,
            "merchant_mismatch",
            "The merchant charging the card is not the one the person approved.",
        )
    return Decision(True, "approved", "Approved within the spend request.")
