"""The issuer interface: where one-time credentials come from.

An issuer turns an *approved* spend request into exactly one credential. The wallet ships
:class:`~.sandbox.SandboxIssuer`; an adapter for a real issuer (Stripe Issuing, Stripe's
issued shared payment tokens) implements the same protocol. Code outside ``issuing/``
never asks which issuer it has. Redemption (authorize / capture against a credential)
joins this protocol with the merchant-facing routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..domain.errors import WalletError
from ..domain.spend_request import SpendRequest

__all__ = [
    "CardSecrets",
    "FundingCard",
    "Holder",
    "IssuedCard",
    "IssuedLinkPayToken",
    "IssuedSpt",
    "Issuer",
    "IssuerRejected",
    "IssuerUnavailable",
    "IssuingError",
    "PaymentMethodSummary",
    "TermsAcceptance",
    "WebhookRejected",
]


class IssuingError(Exception):
    """The issuer cannot issue for this request (wrong status, missing data)."""


class IssuerUnavailable(WalletError):
    """The outside issuer did not answer in time or failed; nothing was issued, and
    trying again is safe (requests carry idempotency keys)."""

    default_code = "issuer_unavailable"
    default_status = 503


class IssuerRejected(WalletError):
    """The outside issuer refused the request (its message is passed on, never a key)."""

    default_code = "issuer_error"
    default_status = 502


class WebhookRejected(WalletError):
    """An issuer webhook whose signature, timestamp or body is not acceptable."""

    default_code = "webhook_signature_invalid"
    default_status = 400


@dataclass(frozen=True, slots=True)
class TermsAcceptance:
    """When, from where and with which browser the person accepted the card program's
    Authorized User Terms (Stripe's ``individual.card_issuing.user_terms_acceptance``)."""

    accepted_at: datetime
    ip: str | None
    """None when the wallet did not know a valid client address."""
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """The person a card is issued to, and what the issuer already knows of them."""

    user_id: str
    email: str
    name: str | None
    phone: str | None
    cardholder_id: str | None = None
    """The issuer's id of this person (e.g. Stripe's ``ich_…``), once created."""
    synced_profile: str | None = None
    """Fingerprint of the profile last sent to the issuer: a change is sent again."""
    terms: TermsAcceptance | None = None
    """The person's acceptance of the card program's terms, once given."""


@dataclass(frozen=True, slots=True)
class CardSecrets:
    """Number and CVC of an outside issuer's card, fetched when the agent asks for them."""

    number: str = field(repr=False)
    cvc: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class FundingCard:
    """The person's payment method behind a request, as far as an issuer needs it."""

    id: str
    brand: str
    last4: str
    billing_address: dict[str, Any]
    """Contract §7.2 BillingAddress: ``{name, line1, line2?, city?, state?, postal_code?, country}``."""
    stripe_payment_method: str | None = None
    """The card's Stripe PaymentMethod (``pm_…``) when it was added with Stripe.js."""


@dataclass(frozen=True, slots=True)
class PaymentMethodSummary:
    """What the issuer reports of a tokenised card: never its number."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A single-use virtual card. ``number`` and ``cvc`` never appear in reprs or logs; an
    outside issuer leaves them None (fetched only when the agent retrieves the card)."""

    id: str
    brand: str
    number: str | None = field(repr=False)
    cvc: str | None = field(repr=False)
    exp_month: int
    exp_year: int
    valid_until: datetime
    billing_address: dict[str, Any]
    livemode: bool = False
    reported_last4: str | None = None
    """The last four digits as the issuer reports them, when ``number`` is not known yet."""
    issuer_ref: str | None = None
    """The issuer's own id of the card (Stripe's ``ic_…``); None for the sandbox."""
    holder: Holder | None = None
    """The holder as the issuer now knows them (id and synced profile), to be remembered."""

    @property
    def last4(self) -> str:
        """The last four digits, the only part of the number shown without ``include``."""
        return self.number[-4:] if self.number else (self.reported_last4 or "")


@dataclass(frozen=True, slots=True)
class IssuedSpt:
    """A shared payment token bound to one seller, one currency and a maximum amount."""

    id: str
    network_id: str
    max_amount: int
    """Minor units; redemptions above it are refused."""
    currency: str
    valid_until: datetime
    livemode: bool = False
    issuer_ref: str | None = None
    """The outside issuer's token (Stripe's ``spt_…``), the one the agent hands the seller;
    ``id`` is then the wallet's own reference, never shown."""


@dataclass(frozen=True, slots=True)
class IssuedLinkPayToken:
    """A Link Pay Token: one payment, to one merchant account, at most ``max_amount``."""

    token: str = field(repr=False)
    merchant_account_id: str
    max_amount: int
    currency: str
    valid_until: datetime
    livemode: bool = True


class Issuer(Protocol):
    """Issues the credential of an approved spend request, in the request's mode
    (``livemode`` is ``not request.test``; the wallet records the request's mode)."""

    name: str
    """Recorded with each credential (``"sandbox"``, ``"stripe_issuing"``)."""
    remote: bool
    """True when cards live at an outside issuer and must be stopped there when their
    request ends (the wallet then runs a card stopper)."""
    spt_redeemed_elsewhere: bool
    """True when its shared payment tokens are redeemed at the outside issuer (by any seller
    there), not at this wallet's own merchants."""
    user_terms_url: str | None
    """Terms each person must accept before their first card from this issuer, or None."""

    def issue_card(
        self,
        request: SpendRequest,
        payment_method: FundingCard,
        now: datetime,
        holder: Holder | None = None,
    ) -> IssuedCard:
        """A virtual card funded by ``payment_method``, valid until ``request.valid_until``,
        issued to ``holder`` (outside issuers need one)."""
        ...

    def issue_spt(
        self, request: SpendRequest, now: datetime, payment_method: FundingCard | None = None
    ) -> IssuedSpt:
        """A token for ``request.network_id``, at most ``request.amount`` in its currency
        (an outside issuer charges ``payment_method``)."""
        ...

    def revoke_spt(self, issuer_ref: str) -> None:
        """Deactivate an outside issuer's token for good (idempotent)."""
        ...

    def payment_method(self, payment_method_id: str) -> PaymentMethodSummary:
        """Brand, last four and expiry of a tokenised card (``pm_…``)."""
        ...

    def issue_link_pay_token(self, request: SpendRequest, now: datetime) -> IssuedLinkPayToken:
        """A token for ``request.merchant_account_id``, at most ``request.amount``, valid
        until ``request.valid_until`` (≤ 30 minutes after approval)."""
        ...

    def reveal_card(self, issuer_ref: str) -> CardSecrets:
        """Number and CVC of an outside issuer's card (never logged)."""
        ...

    def cancel_card(self, issuer_ref: str) -> None:
        """Stop an outside issuer's card for good (idempotent)."""
        ...

    def verify_event(self, payload: bytes, signature: str | None, now: datetime) -> dict[str, Any]:
        """The issuer's webhook event in ``payload``, once its signature is verified on the
        raw bytes; raises :class:`WebhookRejected`."""
        ...
