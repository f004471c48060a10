"""The buying side of the end-to-end tests: a person, their logged-in ``link-cli`` agent,
and spend requests the person approves on the wallet's real page."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import Merchant, register_merchant
from tests.support.agent import CONTEXT, Agent, login
from tests.support.approvals import approve_spend_request
from tests.support.wallet import WalletProcess


@dataclass
class Buyer:
    """The person (``person``) and their agent (``agent``) at ``wallet``."""

    wallet: WalletProcess
    agent: Agent
    person: Any

    def api(self) -> httpx2.Client:
        """The agent's own token, for checks the CLI has no command for."""
        token = json.loads(self.agent.auth_file.read_text())["auth"]["access_token"]
        return httpx2.Client(
            base_url=self.wallet.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def spend_request(self, request_id: str, include: str | None = None) -> dict[str, Any]:
        """``GET /spend_requests/{id}`` (optionally with ``include=``)."""
        with self.api() as api:
            params = {"include": include} if include else None
            response = api.get(f"/spend_requests/{request_id}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def status(self, request_id: str) -> str:
        """The spend request's status."""
        return str(self.spend_request(request_id)["status"])

    def approved_spt(self, network_id: str, amount: int = 250) -> tuple[str, str]:
        """An SPT spend request approved on the wallet's page: ``(request id, spt id)``."""
        body = {
            "payment_details": self.person.payment_method_id,
            "credential_type": "shared_payment_token",
            "network_id": network_id,
            "amount": amount,
            "currency": "usd",
            "context": CONTEXT,
            "request_approval": True,
        }
        with self.api() as api:
            created = api.post("/spend_requests", json=body)
        assert created.status_code == 200, created.text
        request_id = created.json()["id"]
        approve_spend_request(self.person, created.json()["approval_url"])
        spt = self.spend_request(request_id, "shared_payment_token")["shared_payment_token"]
        return request_id, spt["id"] if isinstance(spt, dict) else spt


@contextlib.contextmanager
def logged_in_buyer(wallet: WalletProcess, directory: Path) -> Iterator[Buyer]:
    """A new person with a card whose agent logged in with ``link-cli auth login``
    (credentials under ``directory``)."""
    person = wallet.create_person()
    agent = Agent(wallet.url, directory / "auth.json")
    login(agent, person)
    try:
        yield Buyer(wallet, agent, person)
    finally:
        person.close()


@contextlib.contextmanager
def demo_shop(wallet: WalletProcess) -> Iterator[tuple[Merchant, ShopProcess]]:
    """The demo shop as a process, registered at ``wallet`` as a new merchant."""
    merchant = register_merchant(wallet)
    with ShopProcess(
        wallet_url=wallet.url, secret_key=merchant.secret_key, network_id=merchant.network_id
    ) as shop:
        yield merchant, shop
