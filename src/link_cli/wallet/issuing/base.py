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

from ..domain.spend_request import SpendRequest

__all__ = [
    "FundingCard",
    "IssuedCard",
    "IssuedLinkPayToken",
    "IssuedSpt",
    "Issuer",
    "IssuingError",
]


class IssuingError(Exception):
    """The issuer cannot issue for this request (wrong status, missing data)."""


@dataclass(frozen=True, slots=True)
class FundingCard:
    """The person's payment method behind a request, as far as an issuer needs it."""

    id: str
    brand: str
    last4: str
    billing_address: dict[str, Any]
    """Contract §7.2 BillingAddress: ``{name, line1, line2?, city?, state?, postal_code?, country}``."""


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A single-use virtual card. ``number`` and ``cvc`` never appear in reprs or logs."""

    id: str
    brand: str
    number: str = field(repr=False)
    cvc: str = field(repr=False)
    exp_month: int
    exp_year: int
    valid_until: datetime
    billing_address: dict[str, Any]
    livemode: bool = False

    @property
    def last4(self) -> str:
        """The last four digits, the only part of the number shown without ``include``."""
        return self.number[-4:]


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
    """Recorded with each credential (``"sandbox"``, later e.g. ``"stripe_issuing"``)."""

    def issue_card(
        self, request: SpendRequest, payment_method: FundingCard, now: datetime
    ) -> IssuedCard:
        """A virtual card funded by ``payment_method``, valid until ``request.valid_until``."""
        ...

    def issue_spt(self, request: SpendRequest, now: datetime) -> IssuedSpt:
        """A token for ``request.network_id``, at most ``request.amount`` in its currency."""
        ...

    def issue_link_pay_token(self, request: SpendRequest, now: datetime) -> IssuedLinkPayToken:
        """A token for ``request.merchant_account_id``, at most ``request.amount``, valid
        until ``request.valid_until`` (≤ 30 minutes after approval)."""
        ...
