"""Both sides of a spend request, over real HTTP.

    agent = new_agent(wallet)                      # a person with a card + a device-flow token
    created = agent.create_ok(card_body(amount=1200))
    approve_spend_request(agent.person, created["approval_url"])

Both sign the person in when needed, submit the page's own form (so the CSRF token and
the page's revision travel as a browser would send them) and return the final response,
raising when the wallet did not land back on the approval page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from .person import Person, bearer, refresh_tokens, wallet_tokens
from .wallet import WalletProcess


def approval_path(approval_url: str) -> str:
    """``/approve/lsrq_…`` from a full ``approval_url`` (or a path)."""
    return urlsplit(approval_url).path


def _decide(person: Person, approval_url: str, action: str) -> httpx2.Response:
    if not person.is_signed_in():
        person.sign_in()
    path = approval_path(approval_url)
    response = person.submit_form(path, {"action": action}, action=path)
    if response.status_code != 200 or urlsplit(str(response.url)).path != path:
        raise AssertionError(
            f"spend request {action} failed ({response.status_code}): {response.text[-2000:]}"
        )
    return response


def approve_spend_request(person: Person, approval_url: str) -> httpx2.Response:
    """Approve through the page; the response is the page showing the outcome."""
    return _decide(person, approval_url, "approve")


def deny_spend_request(person: Person, approval_url: str) -> httpx2.Response:
    """Deny through the page; the response is the page showing the outcome."""
    return _decide(person, approval_url, "deny")


# -- the agent's side: spend requests over the Link API ------------------------------------

CONTEXT = (
    "The person asked me to buy a replacement charger for their laptop before Friday; "
    "this is the cheapest in-stock option I found."
)


def card_body(**overrides: Any) -> dict[str, Any]:
    """A valid card create body (contract §7.3) with a unique merchant, so it is never a duplicate."""
    body: dict[str, Any] = {
        "credential_type": "card",
        "amount": 5000,
        "currency": "usd",
        "merchant_name": f"Shop {secrets.token_hex(4)}",
        "merchant_url": "https://shop.example/checkout",
        "context": CONTEXT,
        "line_items": [{"name": "Charger", "quantity": 2, "unit_amount": 2500}],
        "totals": [{"type": "total", "display_text": "Total", "amount": 5000}],
        "request_approval": True,
    }
    body.update(overrides)
    if "amount" in overrides and "totals" not in overrides:
        # The total shown is the amount charged: it follows an overridden amount.
        body["totals"] = [{"type": "total", "display_text": "Total", "amount": body["amount"]}]
    return {k: v for k, v in body.items() if v is not ...}


def spt_body(**overrides: Any) -> dict[str, Any]:
    """A valid shared_payment_token create body, as `mpp pay` sends it."""
    body: dict[str, Any] = {
        "credential_type": "shared_payment_token",
        "network_id": f"profile_{secrets.token_hex(4)}",
        "amount": 500,
        "currency": "usd",
        "context": CONTEXT,
        "request_approval": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@dataclass
class ApiAgent:
    """An agent logged in to ``person``'s wallet with a real device-flow token."""

    person: Person
    tokens: dict[str, Any]
    client: httpx2.Client = field(repr=False)

    def create(self, body: Any, *, delegated: bool = False) -> httpx2.Response:
        """``POST /spend_requests`` (or ``/create_delegated``) with ``body`` as JSON."""
        path = "/spend_requests/create_delegated" if delegated else "/spend_requests"
        return self.client.post(path, json=body)

    def create_ok(self, body: Any = None, *, delegated: bool = False) -> dict[str, Any]:
        """Create and insist on success; returns the spend request."""
        response = self.create(card_body() if body is None else body, delegated=delegated)
        assert response.status_code == 200, response.text
        return response.json()

    def seller_spt_body(self, **overrides: Any) -> dict[str, Any]:
        """:func:`spt_body` for a seller registered at this agent's wallet, in the body's
        mode, so the token can be redeemed (the wallet refuses other network ids)."""
        body = spt_body(**overrides)
        self.person.wallet.store().create_merchant(
            "Seller", body["network_id"], livemode=not body.get("test", False)
        )
        return body

    def retrieve(self, request_id: str, include: str | None = None) -> httpx2.Response:
        """``GET /spend_requests/{id}[?include=…]``."""
        params = {"include": include} if include is not None else None
        return self.client.get(f"/spend_requests/{request_id}", params=params)

    def status_of(self, request_id: str) -> str:
        """The request's current status (asserting it is visible)."""
        response = self.retrieve(request_id)
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    def list(self, include_history: bool = False) -> list[dict[str, Any]]:
        """``GET /spend_requests`` → the ``data`` list."""
        params = {"include_history": "true"} if include_history else None
        response = self.client.get("/spend_requests", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["data"])

    def update(self, request_id: str, body: Any) -> httpx2.Response:
        """``POST /spend_requests/{id}``."""
        return self.client.post(f"/spend_requests/{request_id}", json=body)

    def request_approval(self, request_id: str) -> httpx2.Response:
        """``POST /spend_requests/{id}/request_approval`` (no body)."""
        return self.client.post(f"/spend_requests/{request_id}/request_approval")

    def cancel(self, request_id: str) -> httpx2.Response:
        """``POST /spend_requests/{id}/cancel`` (no body)."""
        return self.client.post(f"/spend_requests/{request_id}/cancel")

    def refresh(self) -> None:
        """Rotate the tokens with the refresh token (same grant: the agent keeps its
        requests) and use the new access token from now on."""
        self.tokens = refresh_tokens(self.person.wallet, self.tokens)
        self.client.headers.update(bearer(self.tokens))

    def close(self) -> None:
        """Close the HTTP client (the person's browser client too)."""
        self.client.close()
        self.person.close()


def new_agent(
    wallet: WalletProcess,
    *,
    scope: str | None = None,
    grant_approve_scope: bool = False,
    with_card: bool = True,
) -> ApiAgent:
    """A new person with a card, and an agent logged in to their wallet."""
    person = wallet.create_person(with_card=with_card)
    tokens = wallet_tokens(wallet, person, scope, grant_approve_scope)
    client = httpx2.Client(base_url=wallet.url, headers=bearer(tokens), timeout=30)
    return ApiAgent(person=person, tokens=tokens, client=client)
