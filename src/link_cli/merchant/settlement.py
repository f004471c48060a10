"""Settling payments at the wallet through its Stripe-compatible ``/v1/payment_intents``.

The shop speaks to the wallet exactly as a Stripe merchant speaks to Stripe: a form-encoded
PaymentIntent confirmed at creation, the secret key as a Bearer token, and an
``Idempotency-Key`` so a retried request can never charge twice.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx2

from link_cli._sanitize import sanitize_text

__all__ = [
    "Account",
    "CardDetails",
    "Declined",
    "Settled",
    "SettlementClient",
    "WalletUnavailable",
]


@dataclass(frozen=True)
class CardDetails:
    """Card data typed into the checkout. Never logged, never shown in ``repr``."""

    number: str = field(repr=False)
    exp_month: str
    exp_year: str
    cvc: str = field(repr=False)


@dataclass(frozen=True)
class Settled:
    """The wallet confirmed the PaymentIntent; ``replayed`` when it answered from its
    idempotency record rather than charging now."""

    payment_intent: Mapping[str, Any]
    replayed: bool

    @property
    def id(self) -> str:
        """The PaymentIntent id (``pi_…``)."""
        return str(self.payment_intent.get("id", ""))


@dataclass(frozen=True)
class Account:
    """The shop's own account at the wallet (``GET /v1/account``)."""

    id: str
    """``acct_…``: the merchant account id agents create Link Pay Token requests for."""
    livemode: bool
    name: str | None = None
    """The name the shop is registered under at the wallet (what payers are shown)."""


class Declined(Exception):
    """The wallet refused the payment; ``code``/``decline_code`` are Stripe's."""

    def __init__(self, status: int, error: Mapping[str, Any]) -> None:
        self.status = status
        self.code = _text(error.get("code"))
        self.decline_code = _text(error.get("decline_code"))
        self.message = _text(error.get("message")) or "The payment was declined."
        super().__init__(self.message)


class WalletUnavailable(Exception):
    """The wallet could not be reached or answered something that is not Stripe-shaped.

    ``maybe_processed`` is False only when the request certainly never reached the wallet
    (the connection was refused or timed out while connecting); otherwise the wallet may
    have settled it. Either way, repeating the request with the same ``Idempotency-Key``
    is safe: it settles once, or replays the first answer.
    """

    def __init__(self, message: str, *, maybe_processed: bool = True) -> None:
        super().__init__(message)
        self.maybe_processed = maybe_processed


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every settlement: building one loads the CA bundle (tens of
    milliseconds of CPU), which a client per call would otherwise pay on every payment."""
    return httpx2.create_ssl_context()


def _text(value: Any) -> str | None:
    return sanitize_text(value)[:300] if isinstance(value, str) else None


class SettlementClient:
    """Creates confirmed PaymentIntents at the wallet."""

    def __init__(self, wallet_url: str, secret_key: str, *, timeout: float = 30.0) -> None:
        self._url = wallet_url.rstrip("/") + "/v1/payment_intents"
        self._account_url = wallet_url.rstrip("/") + "/v1/account"
        self._secret_key = secret_key
        self._timeout = timeout

    async def account(self) -> Account:
        """The shop's account id and mode, as the wallet knows them."""
        headers = {"Authorization": f"Bearer {self._secret_key}"}
        try:
            async with httpx2.AsyncClient(timeout=self._timeout, verify=_tls_context()) as client:
                response = await client.get(self._account_url, headers=headers)
            body = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise WalletUnavailable(
                f"the wallet's account could not be read ({type(exc).__name__})"
            ) from None
        account_id = body.get("id") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(account_id, str):
            raise WalletUnavailable(f"the wallet answered HTTP {response.status_code}")
        profile = body.get("business_profile")
        registered = profile.get("name") if isinstance(profile, dict) else None
        if not isinstance(registered, str) or not registered.strip():
            registered = None
        return Account(id=account_id, livemode=body.get("livemode") is True, name=registered)

    async def charge_link_pay_token(
        self,
        *,
        amount: int,
        currency: str,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Settled:
        """Charge a Link Pay Token an agent put into the checkout: only this shop's account
        can, once, up to the amount the person approved."""
        form = self._base(amount, currency, metadata)
        form += [
            ("payment_method_data[type]", "link_pay_token"),
            ("payment_method_data[link_pay_token]", token),
        ]
        return await self._post(form, idempotency_key)

    async def charge_spt(
        self,
        *,
        amount: int,
        currency: str,
        spt: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Settled:
        """Charge a shared payment token (the 402 flow)."""
        form = self._base(amount, currency, metadata)
        form.append(("shared_payment_granted_token", spt))
        return await self._post(form, idempotency_key)

    async def charge_card(
        self,
        *,
        amount: int,
        currency: str,
        card: CardDetails,
        idempotency_key: str,
        billing: Mapping[str, str] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Settled:
        """Charge card details typed into the checkout; ``billing`` holds ``name`` and the
        address fields (``line1``, ``city``, ``postal_code``, ``country``...)."""
        form = self._base(amount, currency, metadata)
        form += [
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", card.number),
            ("payment_method_data[card][exp_month]", card.exp_month),
            ("payment_method_data[card][exp_year]", card.exp_year),
            ("payment_method_data[card][cvc]", card.cvc),
        ]
        for key, value in (billing or {}).items():
            if not value:
                continue
            path = "[name]" if key == "name" else f"[address][{key}]"
            form.append((f"payment_method_data[billing_details]{path}", value))
        return await self._post(form, idempotency_key)

    @staticmethod
    def _base(
        amount: int, currency: str, metadata: Mapping[str, str] | None
    ) -> list[tuple[str, str]]:
        form = [
            ("amount", str(amount)),
            ("currency", currency),
            ("confirm", "true"),
            ("payment_method_types[0]", "card"),
        ]
        form += [(f"metadata[{key}]", value) for key, value in (metadata or {}).items()]
        return form

    async def _post(self, form: list[tuple[str, str]], idempotency_key: str) -> Settled:
        headers = {
            "Authorization": f"Bearer {self._secret_key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": idempotency_key,
        }
        try:
            async with httpx2.AsyncClient(timeout=self._timeout, verify=_tls_context()) as client:
                response = await client.post(self._url, content=urlencode(form), headers=headers)
        except httpx2.HTTPError as exc:
            # Only the exception's class is surfaced: never the form (card data).
            raise WalletUnavailable(
                f"the wallet could not be reached ({type(exc).__name__})",
                maybe_processed=not isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout),
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise WalletUnavailable(f"the wallet answered HTTP {response.status_code} without JSON")
        if response.status_code >= 500:
            raise WalletUnavailable(f"the wallet answered HTTP {response.status_code}")
        if response.status_code in (401, 403):
            # The shop's own key was refused: nothing was charged, and the wallet's message
            # (which names part of the key) is for the operator, never for the payer.
            raise WalletUnavailable(
                f"the wallet refused the shop's API key (HTTP {response.status_code})",
                maybe_processed=False,
            )
        error = body.get("error")
        if response.status_code >= 400 or isinstance(error, dict):
            raise Declined(response.status_code, error if isinstance(error, dict) else {})
        if body.get("status") != "succeeded":
            raise Declined(response.status_code, {"message": "The payment did not succeed."})
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return Settled(payment_intent=body, replayed=replayed)
