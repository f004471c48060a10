"""Redemption rules: what a merchant may charge against an issued credential.

The wallet is its own acquirer for merchants registered with it: a merchant confirms a
Stripe-shaped PaymentIntent (``POST /v1/payment_intents``) carrying either a shared payment
token (SPT) or the virtual card's number, expiry and CVC. This module is pure: it decides
whether a credential may pay. ``services/redemption.py`` loads plain snapshots, asks
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

Test and live mode are separate worlds, as on Stripe: :func:`same_mode` is asked first, and a
credential of the other mode is judged as if it did not exist (``judge_*`` get ``None``), so
a key learns nothing about, and does nothing to, credentials of the other mode.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from link_cli.money import format_amount

from .payment_intent_params import CardAttempt
from .stripe_errors import StripeError, card_error, invalid_request

__all__ = [
    "MAX_FAILED_CARD_ATTEMPTS",
    "CardSnapshot",
    "Effect",
    "Refusal",
    "SptSnapshot",
    "already_used",
    "judge_card",
    "judge_spt",
    "same_mode",
]

MAX_FAILED_CARD_ATTEMPTS = 3
"""Wrong expiry/CVC attempts a virtual card survives; the third one burns it."""


class Effect(StrEnum):
    """What a refusal does to the credential and its spend request (module docstring)."""

    NONE = "none"
    ATTEMPT = "attempt"
    BURN = "burn"


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


def same_mode(*, credential_livemode: bool, key_livemode: bool) -> bool:
    """True when a credential may be presented with a key of this mode.

    A test credential (its spend request was created with ``test: true``, so no spend limit
    applied) pays only test merchants, and a live one only live merchants. The caller treats
    False exactly like an unknown credential: same answer, nothing stored against it.
    """
    return credential_livemode == key_livemode


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
