"""Redemption rules: what a merchant may charge against an issued credential.

The wallet is its own acquirer for merchants registered with it: a merchant confirms a
Stripe-shaped PaymentIntent (``POST /v1/payment_intents``) carrying a shared payment token
(SPT), a Link Pay Token (bound to the merchant's account id) or the virtual card's number,
expiry and CVC. This module is pure: it decides whether a credential may pay.
``services/redemption.py`` loads plain snapshots, asks :func:`judge_token` (both kinds of
token: one set of rules) / :func:`judge_card`, and applies the verdict in one transaction.

Refusals fall in four kinds (:class:`Effect`), decided here so every route agrees:

* ``NONE``: the presenter proved nothing about the credential (unknown token, another
  seller's token, unknown card number, already used, no longer usable). Nothing is stored
  against the spend request, so a stranger cannot disturb someone else's purchase.
* ``ATTEMPT``: the merchant the card was meant for presented its number with a wrong expiry
  or CVC. The card is *not* burned (a typo must not cost the purchase), but the attempt
  counts; the :data:`MAX_FAILED_CARD_ATTEMPTS`-th wrong attempt burns it.
* ``FOREIGN``: the same mistake by any other merchant. It never burns the card; it counts
  apart, and after :data:`MAX_FOREIGN_FAILED_CARD_ATTEMPTS` of them the card is examined only
  for the merchant it was meant for, which bounds CVC guessing by strangers.
* ``BURN``: the presenter holds the genuine credential but the charge breaks the approval
  (amount above it, another currency). The credential is consumed and the spend request
  ends ``failed`` with ``payment_status_details.outcome = "failure"``: a one-time
  credential answers one purchase, and a new purchase needs a new approval (contract §8.5).

Expiry is not a burn: an expired credential's spend request is already (lazily) ``expired``.

Test and live mode are separate worlds, as on Stripe: :func:`same_mode` is asked first, and a
credential of the other mode is judged as if it did not exist (``judge_*`` get ``None``), so
a key learns nothing about, and does nothing to, credentials of the other mode.

Card declines are indistinguishable (docs/security.md, "Card enumeration and card
burning"): an unknown number, a wrong expiry or CVC, a used, expired, canceled, locked or
guarded card all answer the one :func:`generic_decline`, whoever presents it. Only a presenter who typed the live
card's number, expiry and CVC right learns more (the amount or currency it broke). The real
reason of a burn is kept for the person and the agent (``Refusal.reason``), never sent to
the merchant.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from link_cli.money import format_amount

from .payment_intent_params import CardAttempt
from .stripe_errors import StripeError, card_error, invalid_request

__all__ = [
    "GENERIC_DECLINE_MESSAGE",
    "LPT",
    "MAX_FAILED_CARD_ATTEMPTS",
    "MAX_FOREIGN_FAILED_CARD_ATTEMPTS",
    "SPT",
    "CardSnapshot",
    "Effect",
    "Presenter",
    "Refusal",
    "SptSnapshot",
    "TokenKind",
    "TokenSnapshot",
    "already_used",
    "generic_decline",
    "judge_card",
    "judge_spt",
    "judge_token",
    "presenter_of",
    "same_mode",
    "site_host",
]

MAX_FAILED_CARD_ATTEMPTS = 3
"""Wrong expiry/CVC attempts by the card's own merchant; the third one burns it."""

MAX_FOREIGN_FAILED_CARD_ATTEMPTS = 10
"""Wrong attempts by other merchants, after which only the card's own merchant is examined."""

GENERIC_DECLINE_MESSAGE = "Your card was declined."


class Effect(StrEnum):
    """What a refusal does to the credential and its spend request (module docstring)."""

    NONE = "none"
    ATTEMPT = "attempt"
    FOREIGN = "foreign"
    BURN = "burn"


class Presenter(StrEnum):
    """Who presents a card, relative to the merchant its spend request names."""

    INTENDED = "intended"
    """The presenter's registered site has the host of the request's ``merchant_url``."""
    OTHER = "other"
    """Both are known and differ."""
    UNKNOWN = "unknown"
    """The presenter registered no site (or the request names no usable URL)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a charge is refused, as a Stripe error, and what it does (:class:`Effect`).

    ``error`` is what the merchant is answered; ``reason``, when set, is the real cause
    recorded on the spend request for the person and the agent (a burn by wrong CVCs).
    """

    error: StripeError
    effect: Effect
    reason: StripeError | None = None


def site_host(url: str | None) -> str | None:
    """The host of an http(s) URL, lower-case, without a trailing dot; None if there is none."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.rstrip(".").lower() or None


def presenter_of(merchant_site: str | None, merchant_url: str | None) -> Presenter:
    """Whether a merchant with ``merchant_site`` is the one a request naming ``merchant_url``
    was approved for. Hosts must be equal (``www.shop.example`` is not ``shop.example``)."""
    presenter_host = site_host(merchant_site)
    intended_host = site_host(merchant_url)
    if presenter_host is None or intended_host is None:
        return Presenter.UNKNOWN
    if hmac.compare_digest(presenter_host.encode(), intended_host.encode()):
        return Presenter.INTENDED
    return Presenter.OTHER


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
    foreign_failed_attempts: int = 0


def same_mode(*, credential_livemode: bool, key_livemode: bool) -> bool:
    """True when a credential may be presented with a key of this mode.

    A test credential (its spend request was created with ``test: true``, so no spend limit
    applied) pays only test merchants, and a live one only live merchants. The caller treats
    False exactly like an unknown credential: same answer, nothing stored against it.
    """
    return credential_livemode == key_livemode


@dataclass(frozen=True, slots=True)
class TokenKind:
    """How the merchant API names one kind of token in its errors."""

    noun: str
    """In sentences: ``shared payment token``."""
    resource: str
    """In ``No such <resource>``: the parameter's name on Stripe."""
    param: str
    """The parameter an error names."""
    code_prefix: str
    """``<prefix>_consumed``, ``_expired``, ``_revoked``."""


SPT = TokenKind(
    noun="shared payment token",
    resource="shared_payment_granted_token",
    param="shared_payment_granted_token",
    code_prefix="shared_payment_token",
)
LPT = TokenKind(
    noun="Link Pay Token",
    resource="link_pay_token",
    param="payment_method_data[link_pay_token]",
    code_prefix="link_pay_token",
)


@dataclass(frozen=True, slots=True)
class TokenSnapshot:
    """A one-time token (SPT or Link Pay Token) as the rules need it. ``bound_to`` is the
    seller it pays: an SPT's network id, a Link Pay Token's merchant account id."""

    id: str
    bound_to: str | None
    max_amount: int
    currency: str
    expires_at: datetime
    consumed: bool
    usable: bool


def judge_spt(
    spt: SptSnapshot | None,
    *,
    token: str,
    network_id: str,
    amount: int,
    currency: str,
    now: datetime,
) -> Refusal | None:
    """Decide whether the merchant with ``network_id`` may charge ``amount`` on the SPT
    (:func:`judge_token`)."""
    snapshot = None
    if spt is not None:
        snapshot = TokenSnapshot(
            id=spt.id,
            bound_to=spt.network_id,
            max_amount=spt.max_amount,
            currency=spt.currency,
            expires_at=spt.expires_at,
            consumed=spt.consumed,
            usable=spt.usable,
        )
    return judge_token(
        snapshot,
        kind=SPT,
        token=token,
        presenter=network_id,
        amount=amount,
        currency=currency,
        now=now,
    )


def judge_token(
    snapshot: TokenSnapshot | None,
    *,
    kind: TokenKind,
    token: str,
    presenter: str,
    amount: int,
    currency: str,
    now: datetime,
) -> Refusal | None:
    """The one set of rules of one-time tokens: whether the seller ``presenter`` (a network
    id or a merchant account id) may charge ``amount`` in ``currency``. None means "settle".

    A token bound to another seller is reported exactly like an unknown one
    (``resource_missing``), so its existence does not leak. Then, in order: already used,
    expired, no longer usable (its request canceled or failed), another currency, more
    than approved (these two burn it: a one-time token answers one purchase).
    """
    if (
        snapshot is None
        or snapshot.bound_to is None
        or not hmac.compare_digest(snapshot.bound_to.encode(), presenter.encode())
    ):
        return Refusal(
            invalid_request(
                f"No such {kind.resource}: '{token[:64]}'",
                code="resource_missing",
                param=kind.param,
            ),
            Effect.NONE,
        )
    if snapshot.consumed:
        return already_used(kind)
    if now >= snapshot.expires_at:
        return Refusal(
            invalid_request(
                f"This {kind.noun} has expired.",
                code=f"{kind.code_prefix}_expired",
                param=kind.param,
            ),
            Effect.NONE,
        )
    if not snapshot.usable:
        return Refusal(
            invalid_request(
                f"This {kind.noun} has been revoked.",
                code=f"{kind.code_prefix}_revoked",
                param=kind.param,
            ),
            Effect.NONE,
        )
    if currency != snapshot.currency:
        return Refusal(
            invalid_request(
                f"This {kind.noun} can only be used in {snapshot.currency.upper()}.",
                code="currency_mismatch",
                param="currency",
            ),
            Effect.BURN,
        )
    if amount > snapshot.max_amount:
        return Refusal(
            invalid_request(
                f"Amount exceeds this {kind.noun}'s limit of "
                f"{format_amount(snapshot.max_amount, snapshot.currency)}.",
                code="amount_too_large",
                param="amount",
            ),
            Effect.BURN,
        )
    return None


def judge_card(
    card: CardSnapshot | None,
    attempt: CardAttempt,
    *,
    amount: int,
    currency: str,
    now: datetime,
    presenter: Presenter = Presenter.INTENDED,
    merchant_lock: bool = False,
) -> Refusal | None:
    """Decide whether ``attempt`` may charge ``amount`` on the virtual card (None: settle).

    Every refusal a presenter could meet without knowing the live card's number, expiry and
    CVC is :func:`generic_decline`. Expiry and CVC are always both compared, in constant
    time, whatever else is wrong. With ``merchant_lock`` a card pays only the merchant it
    was meant for; any other presenter is declined without its details being examined.
    """
    if card is None:
        return Refusal(generic_decline(), Effect.NONE)
    expiry_ok = _same(
        f"{attempt.exp_month:02d}/{attempt.exp_year}", f"{card.exp_month:02d}/{card.exp_year}"
    )
    cvc_ok = _same(attempt.cvc, card.cvc)
    intended = presenter is Presenter.INTENDED
    if not intended and (
        merchant_lock or card.foreign_failed_attempts >= MAX_FOREIGN_FAILED_CARD_ATTEMPTS
    ):
        return Refusal(generic_decline(), Effect.NONE)
    if card.consumed or not card.usable or now >= card.valid_until:
        return Refusal(generic_decline(), Effect.NONE)
    if not (expiry_ok and cvc_ok):
        if not intended:
            return Refusal(generic_decline(), Effect.FOREIGN)
        burns = card.failed_attempts + 1 >= MAX_FAILED_CARD_ATTEMPTS
        if not expiry_ok:
            reason = _declined("invalid_expiry_year", "Your card's expiration date is incorrect.")
        else:
            reason = card_error(
                "Your card's security code is incorrect.",
                code="incorrect_cvc",
                decline_code="incorrect_cvc",
                param="cvc",
            )
        return Refusal(generic_decline(), Effect.BURN if burns else Effect.ATTEMPT, reason)
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


def generic_decline() -> StripeError:
    """The one answer to every card presentation that proved nothing (module docstring)."""
    return _declined("generic_decline", GENERIC_DECLINE_MESSAGE)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def already_used(kind: TokenKind | None) -> Refusal:
    """The refusal for a credential that was already redeemed (or lost the race to it):
    a token of ``kind``, or a card (None)."""
    if kind is not None:
        error = invalid_request(
            f"This {kind.noun} has already been used.",
            code=f"{kind.code_prefix}_consumed",
            param=kind.param,
        )
    else:
        error = generic_decline()
    return Refusal(error, Effect.NONE)


def _declined(decline_code: str, message: str) -> StripeError:
    return card_error(message, code="card_declined", decline_code=decline_code)
