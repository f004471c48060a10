"""The Stripe Issuing webhook endpoint refuses what Stripe did not sign, and never answers a
signed but strange event with a 5xx (docs/security.md, "Stripe Issuing issuer").

In-process: the wallet's real app in ``stripe`` mode (no call reaches Stripe for events about
cards it never issued)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.support.wallet import copy_migrated_sqlite, wallet_env

from link_cli.wallet.app import create_app
from link_cli.wallet.issuing.stripe_events import signature_header
from link_cli.wallet.settings import load_settings

SECRET = "whsec_security_test_0123456789"
OLD_SECRET = "whsec_security_test_rotated_out"
PATH = "/issuing/stripe/webhook"


class App:
    def __init__(self, data_dir: Path, issuer: str) -> None:
        copy_migrated_sqlite(data_dir / "wallet.db")
        env = wallet_env(
            {
                "LINK_WALLET_ISSUER": issuer,
                "LINK_WALLET_STRIPE_SECRET_KEY": "sk_test_security000000000000",
                "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": f"{SECRET},{OLD_SECRET}",
                "LINK_WALLET_STRIPE_API_BASE": "http://127.0.0.1:9",
            }
        )
        self.app = create_app(load_settings(data_dir=data_dir, env=env))

    def post(self, payload: bytes, signature: str | None) -> httpx2.Response:
        async def send() -> httpx2.Response:
            transport = httpx2.ASGITransport(app=self.app)
            async with httpx2.AsyncClient(
                transport=transport, base_url="http://127.0.0.1:8725"
            ) as client:
                headers = {"Content-Type": "application/json"}
                if signature is not None:
                    headers["Stripe-Signature"] = signature
                return await client.post(PATH, content=payload, headers=headers)

        return asyncio.run(send())


@pytest.fixture(scope="module")
def stripe_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = App(tmp_path_factory.mktemp("issuing-webhooks"), "stripe")
    yield app
    app.app.state.db.dispose()


def _event(kind: str, obj: Any) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{kind}_{id(obj)}",
            "type": kind,
            "api_version": "2026-10-28.endive",
            "data": {"object": obj},
        }
    ).encode()


def test_unsigned_wrongly_signed_stale_or_tampered_events_are_refused(stripe_app: App) -> None:
    payload = _event("issuing_authorization.request", {"id": "iauth_1", "card": "ic_1"})
    now = int(time.time())
    refused = [
        stripe_app.post(payload, None),
        stripe_app.post(payload, signature_header("whsec_someone_else_000000", payload, now)),
        stripe_app.post(payload, signature_header(SECRET, payload, now - 301)),
        stripe_app.post(payload + b" ", signature_header(SECRET, payload, now)),
        stripe_app.post(payload, "t=" + str(now) + ",v0=" + "0" * 64),
        stripe_app.post(payload, "garbage" * 1000),
    ]
    for response in refused:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "webhook_signature_invalid"
    # A secret being rotated out still verifies while it is configured.
    ok = stripe_app.post(payload, signature_header(OLD_SECRET, payload, now))
    assert ok.status_code == 200 and ok.json() == {"approved": False}


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"id": 7, "card": ["ic_1"], "pending_request": "x", "merchant_data": 3},
        {
            "id": "iauth_x",
            "card": {"id": "ic_unknown"},
            "pending_request": {"amount": "12", "currency": 5},
        },
        {
            "id": "iauth_" + "x" * 400,
            "card": "ic_" + "y" * 400,
            "merchant_data": {"name": "é" * 500, "url": "http://[bad"},
        },
    ],
)
@pytest.mark.parametrize(
    "kind",
    [
        "issuing_authorization.request",
        "issuing_authorization.created",
        "issuing_transaction.created",
        "issuing_card.updated",
    ],
)
def test_signed_but_strange_events_never_answer_5xx(
    stripe_app: App, kind: str, obj: dict[str, Any]
) -> None:
    payload = _event(
        kind, {**obj, "type": "capture"} if kind == "issuing_transaction.created" else obj
    )
    response = stripe_app.post(payload, signature_header(SECRET, payload))
    assert response.status_code == 200, response.text
    if kind == "issuing_authorization.request":
        assert response.json() == {"approved": False}


def test_signed_non_events_are_refused(stripe_app: App) -> None:
    for payload in (
        b"[]",
        b"not json",
        b'{"id": "evt_1"}',
        b'{"id": "evt_1", "type": "x", "data": {"object": 1}}',
    ):
        response = stripe_app.post(payload, signature_header(SECRET, payload))
        assert response.status_code == 400, response.text


def test_the_sandbox_has_no_issuer_webhook(tmp_path: Path) -> None:
    app = App(tmp_path, "sandbox")
    try:
        payload = _event("issuing_authorization.request", {})
        response = app.post(payload, signature_header(SECRET, payload))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "issuer_webhook_not_configured"
    finally:
        app.app.state.db.dispose()
