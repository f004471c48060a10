"""Stripe-shaped objects the wallet answers with: PaymentIntents, granted tokens, and the
spend request's ``payment_status_details``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .redemption import SptSnapshot
from .stripe_errors import StripeError

__all__ = [
    "account_object",
    "granted_token_object",
    "payment_intent_object",
    "payment_method_object",
    "payment_status_details",
]


def payment_intent_object(
    *,
    id: str,
    amount: int,
    currency: str,
    status: str,
    created: datetime,
    payment_method: str | None,
    payment_method_types: Iterable[str],
    metadata: Mapping[str, str],
    spt: str | None = None,
    automatic_payment_methods: Mapping[str, Any] | None = None,
    description: str | None = None,
    last_payment_error: Mapping[str, Any] | None = None,
    latest_charge: str | None = None,
    canceled_at: datetime | None = None,
    cancellation_reason: str | None = None,
    livemode: bool,
) -> dict[str, Any]:
    """A PaymentIntent in Stripe's shape (the fields the SDKs and agents read); ``livemode``
    is the mode of the merchant's key."""
    succeeded = status == "succeeded"
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if succeeded else 0,
        "automatic_payment_methods": dict(automatic_payment_methods)
        if automatic_payment_methods
        else None,
        "canceled_at": int(canceled_at.timestamp()) if canceled_at else None,
        "cancellation_reason": cancellation_reason,
        "capture_method": "automatic",
        "client_secret": None,
        "confirmation_method": "automatic",
        "created": int(created.timestamp()),
        "currency": currency,
        "customer": None,
        "description": description,
        "last_payment_error": dict(last_payment_error) if last_payment_error else None,
        "latest_charge": latest_charge,
        "livemode": livemode,
        "metadata": dict(metadata),
        "next_action": None,
        "payment_method": payment_method,
        "payment_method_types": list(payment_method_types),
        "shared_payment_granted_token": spt,
        "status": status,
    }


def payment_method_object(
    *,
    id: str,
    created: datetime,
    brand: str | None,
    last4: str | None,
    exp_month: int | None,
    exp_year: int | None,
    livemode: bool,
) -> dict[str, Any]:
    """A card PaymentMethod in Stripe's shape: only what the presenter already knew (brand,
    last four digits, expiry), never the number or the CVC."""
    return {
        "id": id,
        "object": "payment_method",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {
            "brand": brand or "unknown",
            "checks": None,
            "country": None,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "funding": "credit" if brand else "unknown",
            "last4": last4,
            "wallet": None,
        },
        "created": int(created.timestamp()),
        "customer": None,
        "livemode": livemode,
        "metadata": {},
        "type": "card",
    }


def granted_token_object(
    spt: SptSnapshot,
    *,
    created: datetime,
    amount_captured: int,
    now: datetime,
    consumed_at: datetime | None = None,
    livemode: bool,
) -> dict[str, Any]:
    """A SharedPaymentGrantedToken as the seller sees it (Stripe's view-only object).

    ``deactivated_reason`` is ``consumed`` once redeemed, ``expired`` past its expiry and
    ``revoked`` when its spend request ended otherwise (canceled, failed).
    """
    deactivated_reason = None
    deactivated_at = None
    if spt.consumed:
        deactivated_reason, deactivated_at = "consumed", consumed_at
    elif now >= spt.expires_at:
        deactivated_reason, deactivated_at = "expired", spt.expires_at
    elif not spt.usable:
        deactivated_reason = "revoked"
    return {
        "id": spt.id,
        "object": "shared_payment.granted_token",
        "created": int(created.timestamp()),
        "deactivated_at": int(deactivated_at.timestamp()) if deactivated_at else None,
        "deactivated_reason": deactivated_reason,
        "livemode": livemode,
        "usage_details": {"amount_captured": {"value": amount_captured, "currency": spt.currency}},
        "usage_limits": {
            "currency": spt.currency,
            "expires_at": int(spt.expires_at.timestamp()),
            "max_amount": spt.max_amount,
        },
    }


def payment_status_details(
    *, amount: int, currency: str, created: datetime, error: StripeError | None = None
) -> dict[str, Any]:
    """``payment_status_details`` for the spend request (contract §4.5)."""
    details: dict[str, Any] = {
        "outcome": "success" if error is None else "failure",
        "amount": amount,
        "currency": currency,
        "created": int(created.timestamp()),
    }
    if error is not None:
        details["code"] = error.code or None
        if error.decline_code is not None:
            details["decline_code"] = error.decline_code
    return details


def account_object(
    *, id: str, name: str, url: str | None, livemode: bool, created: datetime
) -> dict[str, Any]:
    """A merchant's own account in the shape of Stripe's ``GET /v1/account``: what a
    checkout needs to advertise Link Pay Tokens (its ``id``, the merchant account id)."""
    return {
        "id": id,
        "object": "account",
        "business_profile": {"name": name, "url": url},
        "charges_enabled": True,
        "country": "US",
        "created": int(created.timestamp()),
        "default_currency": "usd",
        "livemode": livemode,
        "type": "standard",
    }
