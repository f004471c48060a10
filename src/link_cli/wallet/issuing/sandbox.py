"""The built-in sandbox issuer: the wallet is issuer (and, for its merchants, acquirer).

Cards come from the reserved sandbox range (``domain.credentials``), so they can never
charge a real account. ``livemode`` is the mode of the request at this wallet: a credential
of a ``test: true`` request is a test credential (redeemable only with a test merchant key),
any other is live (only with a live key).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ..domain.credentials import (
    RandBelow,
    card_expiry,
    new_cvc,
    new_lpt_id,
    new_sandbox_card_number,
    new_spt_id,
    new_virtual_card_id,
)
from ..domain.errors import NotFound
from ..domain.spend_request import CredentialType, SpendRequest, Status
from .base import (
    CardSecrets,
    FundingCard,
    Holder,
    IssuedCard,
    IssuedLinkPayToken,
    IssuedSpt,
    IssuingError,
    PaymentMethodSummary,
)

__all__ = ["SandboxIssuer"]


def _require_approved(request: SpendRequest, credential_type: CredentialType) -> datetime:
    if request.status is not Status.APPROVED or request.valid_until is None:
        raise IssuingError(f"spend request {request.id} is not approved")
    if request.credential_type is not credential_type:
        raise IssuingError(
            f"spend request {request.id} asks for {request.credential_type}, not {credential_type}"
        )
    return request.valid_until


class SandboxIssuer:
    """Implements :class:`~.base.Issuer` with numbers from the sandbox range."""

    name = "sandbox"
    remote = False
    spt_redeemed_elsewhere = False
    user_terms_url: str | None = None

    def __init__(self, randbelow: RandBelow = secrets.randbelow) -> None:
        self._randbelow = randbelow

    def issue_card(
        self,
        request: SpendRequest,
        payment_method: FundingCard,
        now: datetime,
        holder: Holder | None = None,
    ) -> IssuedCard:
        """A fresh sandbox Visa with the funding card's billing address."""
        valid_until = _require_approved(request, CredentialType.CARD)
        if valid_until <= now:
            raise IssuingError(f"spend request {request.id} is past its valid_until")
        exp_month, exp_year = card_expiry(valid_until)
        return IssuedCard(
            id=new_virtual_card_id(self._randbelow),
            brand="visa",
            number=new_sandbox_card_number(self._randbelow),
            cvc=new_cvc(self._randbelow),
            exp_month=exp_month,
            exp_year=exp_year,
            valid_until=valid_until,
            billing_address=dict(payment_method.billing_address),
            livemode=not request.test,
        )

    def issue_spt(
        self, request: SpendRequest, now: datetime, payment_method: FundingCard | None = None
    ) -> IssuedSpt:
        """A token for the request's seller, capped at its amount, in its currency."""
        valid_until = _require_approved(request, CredentialType.SHARED_PAYMENT_TOKEN)
        if valid_until <= now:
            raise IssuingError(f"spend request {request.id} is past its valid_until")
        if not request.network_id:
            raise IssuingError(f"spend request {request.id} has no network id")
        return IssuedSpt(
            id=new_spt_id(self._randbelow),
            network_id=request.network_id,
            max_amount=request.amount,
            currency=request.currency,
            valid_until=valid_until,
            livemode=not request.test,
        )

    def issue_link_pay_token(self, request: SpendRequest, now: datetime) -> IssuedLinkPayToken:
        """A token for the request's merchant account, capped at its amount and currency."""
        valid_until = _require_approved(request, CredentialType.CARD)
        if valid_until <= now:
            raise IssuingError(f"spend request {request.id} is past its valid_until")
        if not request.is_link_pay_token or not request.merchant_account_id:
            raise IssuingError(f"spend request {request.id} is not a Link Pay Token request")
        return IssuedLinkPayToken(
            token=new_lpt_id(self._randbelow),
            merchant_account_id=request.merchant_account_id,
            max_amount=request.amount,
            currency=request.currency,
            valid_until=valid_until,
            livemode=not request.test,
        )

    def reveal_card(self, issuer_ref: str) -> CardSecrets:
        """Sandbox cards keep their own secrets (encrypted in the wallet's database)."""
        raise IssuingError("sandbox cards have no outside issuer")

    def cancel_card(self, issuer_ref: str) -> None:
        """Nothing to stop elsewhere: the sandbox card dies with its spend request."""

    def revoke_spt(self, issuer_ref: str) -> None:
        """Nothing to revoke elsewhere: the sandbox token dies with its spend request."""

    def payment_method(self, payment_method_id: str) -> PaymentMethodSummary:
        """The sandbox keeps cards itself; it has no tokenised ones."""
        raise IssuingError("the sandbox issuer has no Stripe PaymentMethods")

    def verify_event(self, payload: bytes, signature: str | None, now: datetime) -> dict[str, Any]:
        """The sandbox receives no issuer webhooks."""
        raise NotFound(
            "This wallet issues sandbox credentials; it has no issuer webhook endpoint.",
            code="issuer_webhook_not_configured",
        )
