"""Test support for redemption: registered merchants and approved credentials.

Credentials come from the real Link API: an agent logs in with the device flow (the person
grants the approve scope on the real page) and creates *delegated* spend requests, which
the wallet approves and issues at once. The approval page flow is exercised by the e2e
tests; here it would only slow the suite down.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx2
from tests.support.person import bearer, wallet_tokens
from tests.support.wallet import WalletProcess

CONTEXT = (
    "Buying a three-day trail forecast and small camping supplies for the family trip next "
    "weekend, as the person asked this morning."
)


@dataclass
class Merchant:
    """A merchant registered with ``link-wallet merchant create``."""

    id: str
    network_id: str
    secret_key: str

    @property
    def auth(self) -> dict[str, str]:
        """Bearer authorization with the secret key."""
        return {"Authorization": f"Bearer {self.secret_key}"}


def register_merchant(
    wallet: WalletProcess,
    network_id: str | None = None,
    *,
    livemode: bool = True,
    url: str | None = None,
) -> Merchant:
    """A new merchant with a unique network id unless one is given, and the web site
    ``url`` if given (written in-process, as ``link-wallet merchant create [--live]`` would).

    Live by default: the spend requests these tests make are live (no ``test: true``), and
    a live credential redeems only with a live key. ``livemode=False`` gives a test merchant.
    """
    network_id = network_id or "profile_" + secrets.token_hex(6)
    data = wallet.store().create_merchant("Test Shop", network_id, livemode=livemode, url=url)
    assert data["secret_key"].startswith("sk_live_" if livemode else "sk_test_")
    return Merchant(id=data["id"], network_id=network_id, secret_key=data["secret_key"])


@dataclass
class DelegatedAgent:
    """A logged-in agent of a fresh person who granted the approve scope."""

    wallet: WalletProcess
    payment_method_id: str
    headers: dict[str, str]

    def create_delegated(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /spend_requests/create_delegated``: approved and issued at once."""
        response = self.post_delegated(body)
        assert response.status_code == 200, response.text
        return response.json()

    def post_delegated(self, body: dict[str, Any], timeout: float = 30) -> httpx2.Response:
        """``POST /spend_requests/create_delegated`` with ``body``; whatever it answers."""
        payload = {
            "payment_details": self.payment_method_id,
            "context": CONTEXT,
            "approval_details": {
                "approved_at": int(time.time()) - 5,
                "approval_method": "programmatic",
                "app_name": "redemption tests",
                "external_user_id": "user-1",
            },
            **body,
        }
        return httpx2.post(
            f"{self.wallet.url}/spend_requests/create_delegated",
            json=payload,
            headers=self.headers,
            timeout=timeout,
        )

    def retrieve(self, spend_request_id: str, include: str | None = None) -> dict[str, Any]:
        """``GET /spend_requests/{id}`` (optionally with ``include=``)."""
        params = {"include": include} if include else None
        response = httpx2.get(
            f"{self.wallet.url}/spend_requests/{spend_request_id}",
            params=params,
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def approved_spt(
        self, network_id: str, *, amount: int = 500, currency: str = "usd"
    ) -> tuple[str, str]:
        """An approved SPT spend request: ``(spend request id, spt id)``."""
        created = self.create_delegated(
            {
                "credential_type": "shared_payment_token",
                "network_id": network_id,
                "amount": amount,
                "currency": currency,
            }
        )
        token = self.retrieve(created["id"], "shared_payment_token")["shared_payment_token"]
        spt = token["id"] if isinstance(token, dict) else token
        assert spt.startswith("spt_")
        return created["id"], spt

    def approved_card(self, *, amount: int = 1850, currency: str = "usd") -> tuple[str, dict]:
        """An approved card spend request: ``(spend request id, card object)``."""
        created = self.create_delegated(
            {
                "credential_type": "card",
                "merchant_name": "Trailhead Supply Co.",
                "merchant_url": "https://shop.example",
                "amount": amount,
                "currency": currency,
            }
        )
        card = self.retrieve(created["id"], "card")["card"]
        assert len(card["number"]) >= 12
        return created["id"], card


def delegated_agent(wallet: WalletProcess) -> DelegatedAgent:
    """A fresh person with a card, logged in as an agent with the approve scope."""
    person = wallet.create_person()
    tokens = wallet_tokens(
        wallet,
        person,
        scope="userinfo:read payment_methods.agentic spend_requests:approve",
        grant_approve_scope=True,
    )
    return DelegatedAgent(
        wallet=wallet, payment_method_id=person.payment_method_id, headers=bearer(tokens)
    )


def spt_form(spt: str, *, amount: int = 500, currency: str = "usd") -> dict[str, str]:
    """What pympp sends to confirm a PaymentIntent with an SPT."""
    return {
        "amount": str(amount),
        "currency": currency,
        "confirm": "true",
        "shared_payment_granted_token": spt,
        "payment_method_types[0]": "card",
        "metadata[mpp_intent]": "charge",
    }


def card_form(card: dict[str, Any], *, amount: int = 1850, **changes: str) -> dict[str, str]:
    """What a Stripe checkout sends to confirm a PaymentIntent with card details."""
    form = {
        "amount": str(amount),
        "currency": "usd",
        "confirm": "true",
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": card["number"],
        "payment_method_data[card][exp_month]": str(card["exp_month"]),
        "payment_method_data[card][exp_year]": str(card["exp_year"]),
        "payment_method_data[card][cvc]": card["cvc"],
    }
    for key, value in changes.items():
        form[f"payment_method_data[card][{key}]"] = value
    return form


def confirm(
    wallet: WalletProcess,
    merchant: Merchant,
    form: dict[str, str],
    *,
    idempotency_key: str | None = None,
) -> httpx2.Response:
    """``POST /v1/payment_intents`` as the merchant (form-encoded, Bearer key)."""
    headers = dict(merchant.auth)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return httpx2.post(f"{wallet.url}/v1/payment_intents", data=form, headers=headers, timeout=30)
