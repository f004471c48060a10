"""Stripe Issuing: one Cardholder per person, one single-use virtual card per approval.

stripe-python is an optional extra (``link-cli[stripe]``), imported only here and only when
``LINK_WALLET_ISSUER=stripe``. Every POST carries an idempotency key derived from what it
does (the spend request, the person and their profile, the card), so a retry, by the SDK or
by a person pressing Approve again, never creates a second card or cardholder. Card numbers
and CVCs are fetched (``expand``) only when the agent retrieves the card, and never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.credentials import new_virtual_card_id
from ..domain.errors import InvalidRequest
from ..domain.spend_request import CredentialType, SpendRequest, Status
from . import stripe_events
from .base import (
    CardSecrets,
    FundingCard,
    Holder,
    IssuedCard,
    IssuedLinkPayToken,
    IssuedSpt,
    IssuerRejected,
    IssuerUnavailable,
    IssuingError,
    PaymentMethodSummary,
)
from .config import IssuerConfigError, IssuerSettings

if TYPE_CHECKING:
    from stripe import StripeClient

__all__ = ["StripeIssuer", "cardholder_name", "cardholder_params"]

log = logging.getLogger("link_wallet.issuing")

_NAME_ALLOWED = re.compile(r"[^A-Za-z .'\-]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_DEFAULT_NAME = "Link Wallet Holder"
_ISSUED_TOKENS = "/v1/shared_payment/issued_tokens"


def cardholder_name(*candidates: str | None) -> str:
    """A name Stripe prints on the card: Latin letters and ``.'-``, no digits, ≤ 24 chars."""
    for candidate in candidates:
        if not candidate:
            continue
        ascii_only = unicodedata.normalize("NFKD", candidate).encode("ascii", "ignore").decode()
        cleaned = " ".join(_NAME_ALLOWED.sub(" ", ascii_only).split())[:24].strip()
        if len(cleaned.replace(" ", "")) >= 2:
            return cleaned
    return _DEFAULT_NAME


def cardholder_params(holder: Holder, billing: dict[str, Any]) -> dict[str, Any]:
    """The Cardholder as Stripe needs it, from the person's profile and card billing address."""
    missing = [k for k in ("line1", "city", "postal_code", "country") if not billing.get(k)]
    if missing:
        raise InvalidRequest(
            "Stripe Issuing needs the card's billing address with "
            f"{', '.join(missing)}; edit the card in the wallet and approve again.",
            code="cardholder_incomplete",
            status=422,
        )
    address = {
        k: billing[k]
        for k in ("line1", "line2", "city", "state", "postal_code", "country")
        if billing.get(k)
    }
    name = cardholder_name(holder.name, billing.get("name"))
    first, _, last = name.partition(" ")
    params: dict[str, Any] = {
        "name": name,
        "email": holder.email,
        "billing": {"address": address},
        "individual": {"first_name": first, "last_name": last or first},
        "metadata": {"link_wallet_user": holder.user_id},
    }
    if holder.phone and _E164.match(holder.phone):
        params["phone_number"] = holder.phone
    if holder.terms is not None:
        acceptance: dict[str, Any] = {"date": int(holder.terms.accepted_at.timestamp())}
        if holder.terms.ip:
            acceptance["ip"] = holder.terms.ip
        if holder.terms.user_agent:
            acceptance["user_agent"] = holder.terms.user_agent
        params["individual"]["card_issuing"] = {"user_terms_acceptance": acceptance}
    return params


def _profile_fingerprint(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


class StripeIssuer:
    """Implements :class:`~.base.Issuer` with Stripe Issuing (docs/issuers.md)."""

    name = "stripe_issuing"
    remote = True

    def __init__(self, settings: IssuerSettings, client: StripeClient | None = None) -> None:
        if not settings.stripe_secret_key:
            raise IssuerConfigError("the stripe issuer needs a secret key")
        self.settings = settings
        self.spt_redeemed_elsewhere = settings.issued_tokens
        self.user_terms_url = settings.user_terms_url
        self._client = client or _make_client(settings)

    # -- cards -----------------------------------------------------------------------------

    def issue_card(
        self,
        request: SpendRequest,
        payment_method: FundingCard,
        now: datetime,
        holder: Holder | None = None,
    ) -> IssuedCard:
        """An active single-use virtual card capped at the approved amount."""
        if request.status is not Status.APPROVED or request.valid_until is None:
            raise IssuingError(f"spend request {request.id} is not approved")
        if request.credential_type is not CredentialType.CARD or request.is_link_pay_token:
            raise InvalidRequest(
                "The stripe issuer issues virtual cards here; Link Pay Tokens need the sandbox "
                "issuer (docs/issuers.md).",
                code="credential_type_unsupported",
            )
        if request.valid_until <= now:
            raise IssuingError(f"spend request {request.id} is past its valid_until")
        self._same_mode(request)
        if holder is None:
            raise IssuingError("a Stripe card needs its holder")
        holder = self._ensure_cardholder(holder, payment_method.billing_address)
        amount = request.amount
        params = {
            "cardholder": holder.cardholder_id,
            "currency": request.currency.lower(),
            "type": "virtual",
            "status": "active",
            "spending_controls": {
                "spending_limits": [
                    {"amount": amount, "interval": "per_authorization"},
                    {"amount": amount, "interval": "all_time"},
                ]
            },
            "lifecycle_controls": {"cancel_after": {"payment_count": 1}},
            "metadata": {"link_spend_request": request.id, "link_wallet_user": request.user_id},
        }
        with _translated("create the card"):
            card = self._client.v1.issuing.cards.create(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": f"link-wallet-card-{request.id}"},
            )
        billing = dict(payment_method.billing_address)
        return IssuedCard(
            id=new_virtual_card_id(),
            brand=str(card["brand"]).lower(),
            number=None,
            cvc=None,
            exp_month=int(card["exp_month"]),
            exp_year=int(card["exp_year"]),
            valid_until=request.valid_until,
            billing_address=billing,
            livemode=bool(card["livemode"]),
            reported_last4=str(card["last4"]),
            issuer_ref=str(card["id"]),
            holder=holder,
        )

    def _ensure_cardholder(self, holder: Holder, billing: dict[str, Any]) -> Holder:
        params = cardholder_params(holder, billing)
        fingerprint = _profile_fingerprint(params)
        if holder.cardholder_id and holder.synced_profile == fingerprint:
            return holder
        key = f"link-wallet-cardholder-{holder.user_id}-{fingerprint[:24]}"
        if holder.cardholder_id:
            with _translated("update the cardholder"):
                self._client.v1.issuing.cardholders.update(
                    holder.cardholder_id,
                    params,  # type: ignore[arg-type]
                    options={"idempotency_key": key},
                )
            return _with(holder, holder.cardholder_id, fingerprint)
        with _translated("create the cardholder"):
            created = self._client.v1.issuing.cardholders.create(
                {**params, "type": "individual", "status": "active"},  # type: ignore[typeddict-item]
                options={"idempotency_key": key},
            )
        return _with(holder, str(created["id"]), fingerprint)

    def reveal_card(self, issuer_ref: str) -> CardSecrets:
        """``GET /v1/issuing/cards/{id}?expand[]=number&expand[]=cvc``."""
        with _translated("fetch the card"):
            card = self._client.v1.issuing.cards.retrieve(
                issuer_ref, params={"expand": ["number", "cvc"]}
            )
        # StripeObject has no .get(): a field named "get" would shadow it.
        shown = card.to_dict()
        number, cvc = shown.get("number"), shown.get("cvc")
        if not isinstance(number, str) or not isinstance(cvc, str):
            raise IssuerRejected("Stripe returned the card without its number and CVC.")
        return CardSecrets(number=number, cvc=cvc)

    def cancel_card(self, issuer_ref: str) -> None:
        """``status=canceled``, for good; canceling twice is harmless."""
        with _translated("cancel the card"):
            self._client.v1.issuing.cards.update(
                issuer_ref,
                {"status": "canceled"},
                options={"idempotency_key": f"link-wallet-cancel-{issuer_ref}"},
            )

    # -- other credentials -----------------------------------------------------------------

    def issue_spt(
        self, request: SpendRequest, now: datetime, payment_method: FundingCard | None = None
    ) -> IssuedSpt:
        """``POST /v1/shared_payment/issued_tokens`` (preview API): a token for the seller's
        network profile, capped at the approved amount and currency, until ``valid_until``."""
        if not self.settings.issued_tokens:
            raise InvalidRequest(
                "This wallet issues cards through Stripe Issuing; Stripe-issued shared payment "
                "tokens need the preview (LINK_WALLET_STRIPE_ISSUED_TOKENS=on, docs/issuers.md).",
                code="credential_type_unsupported",
            )
        if request.status is not Status.APPROVED or request.valid_until is None:
            raise IssuingError(f"spend request {request.id} is not approved")
        if request.credential_type is not CredentialType.SHARED_PAYMENT_TOKEN:
            raise IssuingError(f"spend request {request.id} is not a shared payment token request")
        if request.valid_until <= now:
            raise IssuingError(f"spend request {request.id} is past its valid_until")
        if not request.network_id:
            raise IssuingError(f"spend request {request.id} has no network id")
        self._same_mode(request)
        pm = payment_method.stripe_payment_method if payment_method else None
        if not pm:
            raise InvalidRequest(
                "A Stripe-issued shared payment token is charged to a card added with Stripe's "
                "secure form; add the card again in the wallet and choose it.",
                code="payment_method_not_tokenised",
                status=422,
            )
        params = {
            "payment_method": pm,
            "seller_details": {
                "network_business_profile": request.network_id,
                "external_id": request.id,
            },
            "usage_limits": {
                "currency": request.currency.lower(),
                "max_amount": request.amount,
                "expires_at": int(request.valid_until.timestamp()),
            },
        }
        token = self._preview("post", _ISSUED_TOKENS, f"link-wallet-spt-{request.id}", params)
        token_id = token.get("id")
        if not isinstance(token_id, str) or not token_id.startswith("spt_"):
            raise IssuerRejected("Stripe returned no shared payment token.")
        if token.get("status") != "active":
            # Stripe wants the person to authenticate (next_action): not supported here, so
            # the token is withdrawn at once rather than left waiting.
            self.revoke_spt(token_id)
            raise IssuerRejected(
                "Stripe asks the cardholder to authenticate this token "
                f"(status {str(token.get('status'))[:30]}); use another card.",
                extra={"issuer_code": "token_requires_action"},
            )
        return IssuedSpt(
            id="isspt_" + secrets.token_hex(12),
            network_id=request.network_id,
            max_amount=request.amount,
            currency=request.currency,
            valid_until=request.valid_until,
            livemode=bool(token.get("livemode")),
            issuer_ref=token_id,
        )

    def revoke_spt(self, issuer_ref: str) -> None:
        """``POST …/issued_tokens/{id}/revoke``; a token already deactivated is left as is."""
        path = f"{_ISSUED_TOKENS}/{issuer_ref}"
        try:
            self._preview("post", f"{path}/revoke", f"link-wallet-revoke-{issuer_ref}", {})
        except IssuerRejected:
            if self._preview("get", path, None, {}).get("status") != "deactivated":
                raise

    def payment_method(self, payment_method_id: str) -> PaymentMethodSummary:
        """``GET /v1/payment_methods/{id}``: the card Stripe.js tokenised, in this account."""
        with _translated("fetch the payment method"):
            method = self._client.v1.payment_methods.retrieve(payment_method_id).to_dict()
        card = method.get("card")
        if method.get("type") != "card" or not isinstance(card, dict):
            raise IssuerRejected("That Stripe payment method is not a card.")
        return PaymentMethodSummary(
            id=str(method["id"]),
            brand=str(card.get("brand") or "unknown").lower(),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )

    def _preview(
        self, method: str, path: str, idempotency_key: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        """A call to a preview endpoint (no generated SDK method): the preview version is
        sent only here, the rest of the wallet keeps the pinned GA version."""
        options: dict[str, Any] = {"stripe_version": self.settings.preview_api_version}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        with _translated("reach the shared payment token API"):
            response = self._client.raw_request(method, path, **options, **params)
        data = response.data
        if not isinstance(data, dict):
            raise IssuerRejected("Stripe's answer is not an object.")
        return data

    def _same_mode(self, request: SpendRequest) -> None:
        if request.test == self.settings.livemode:
            mode = "test" if request.test else "live"
            raise InvalidRequest(
                f"This {mode}-mode spend request cannot get a credential from a "
                f"{'live' if self.settings.livemode else 'test'}-mode Stripe key.",
                code="issuer_mode_mismatch",
                status=409,
            )

    def issue_link_pay_token(self, request: SpendRequest, now: datetime) -> IssuedLinkPayToken:
        raise InvalidRequest(
            "Link Pay Tokens are not issued through Stripe Issuing (docs/issuers.md).",
            code="credential_type_unsupported",
        )

    # -- webhooks --------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature: str | None, now: datetime) -> dict[str, Any]:
        """The event, verified against every configured signing secret. Stripe signs with
        real time, so the tolerance is measured on the machine's clock, not ``now`` (which
        a test clock may have moved)."""
        return stripe_events.verify_event(
            payload,
            signature,
            self.settings.webhook_secrets,
            now=time.time(),
            tolerance_seconds=self.settings.webhook_tolerance_seconds,
        )


def _with(holder: Holder, cardholder_id: str, fingerprint: str) -> Holder:
    return Holder(
        user_id=holder.user_id,
        email=holder.email,
        name=holder.name,
        phone=holder.phone,
        cardholder_id=cardholder_id,
        synced_profile=fingerprint,
        terms=holder.terms,
    )


def _make_client(settings: IssuerSettings) -> StripeClient:
    try:
        import stripe
    except ModuleNotFoundError:
        raise IssuerConfigError(
            "LINK_WALLET_ISSUER=stripe needs stripe-python: pip install 'link-cli[wallet,stripe]'"
        ) from None
    base = {"api": settings.api_base} if settings.api_base else None
    return stripe.StripeClient(
        settings.stripe_secret_key or "",
        stripe_version=settings.api_version,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=settings.max_network_retries,
        http_client=stripe.RequestsClient(timeout=settings.timeout_seconds),
    )


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Stripe's errors as the wallet's: unavailable (retry is safe) or rejected."""
    import stripe

    started = time.monotonic()
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        log.warning("stripe: could not %s: %s", action, type(exc).__name__)
        raise IssuerUnavailable(
            f"Stripe did not answer in time to {action}; nothing was issued twice, try again.",
        ) from None
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        code = getattr(exc, "code", None) or type(exc).__name__
        log.warning("stripe: could not %s: HTTP %s %s", action, status, code)
        if status >= 500:
            raise IssuerUnavailable(
                f"Stripe failed to {action} (HTTP {status}); try again."
            ) from None
        message = (exc.user_message or str(getattr(exc, "_message", "") or ""))[:300]
        raise IssuerRejected(
            f"Stripe refused to {action}: {message or code}", extra={"issuer_code": code}
        ) from None
    finally:
        log.debug("stripe: %s took %.0f ms", action, (time.monotonic() - started) * 1000)
