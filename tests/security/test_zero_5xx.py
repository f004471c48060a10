"""Zero 5xx on any input, both backends (issue 10, class 6): schemathesis over the wallet's
OpenAPI document, in-process (ASGI) against a migrated wallet on SQLite and on PostgreSQL.

Every operation of the document is fuzzed with schema-valid and schema-violating requests
(schemathesis' coverage and fuzzing phases). The requests reach past authentication: agent
routes carry a real access token of an approved device login (all scopes), ``/v1`` routes a
real merchant secret key (set up in-process through ``tests/support/wallet_store.py``), and
path ids are real ids half of the time. Each answer must not be a 5xx, must have a
documented status, content type and headers, and its body must match the documented schema
(the contract's error body for every 4xx). Deterministic (``derandomize``, no example
database) and bounded (``FUZZ_EXAMPLES`` per operation).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from starlette.testclient import TestClient
from tests.conftest import _POSTGRES_URL, POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import CONTEXT
from tests.support.fuzzing import fuzz
from tests.support.wallet import DEFAULT_CARD, DEFAULT_PASSWORD
from tests.support.wallet_store import WalletStore

from link_cli.wallet.app import create_app
from link_cli.wallet.domain.oauth import KNOWN_SCOPES

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FUZZ_EXAMPLES = 15
"""Generated requests per operation and mode (schema-valid, schema-violating)."""


PUBLIC_URL = "http://testserver"  # schemathesis' ASGI client sends this Host


def fuzz_env() -> dict[str, str]:
    """The settings of a wallet under fuzzing: cheap hashing, throttles out of the way."""
    return {
        "LINK_WALLET_PUBLIC_URL": PUBLIC_URL,
        "LINK_WALLET_PASSWORD_HASH": "fast",
        "LINK_WALLET_THROTTLE_SIGNIN_PER_ADDRESS": "100000",
        "LINK_WALLET_THROTTLE_DEVICE_CODE_PER_ADDRESS": "100000",
    }


@dataclass
class FuzzTarget:
    """An in-process wallet with one person, one agent, one merchant and real ids."""

    app: Any
    agent_token: str
    merchant_key: str
    ids: dict[str, list[str]]


def seed(
    data_dir: Path, database_url: str | None, env: dict[str, str]
) -> tuple[WalletStore, dict[str, str]]:
    """A person with a card, an agent with every scope, a merchant: their credentials."""
    store = WalletStore(data_dir, database_url, env)
    email = f"fuzz-{secrets.token_hex(4)}@example.com"
    store.create_user(email, DEFAULT_PASSWORD, "Fuzz Person")
    store.add_card(email, DEFAULT_CARD, shipping=True)
    tokens = store.grant_agent(email, sorted(KNOWN_SCOPES))
    merchant = store.create_merchant("Fuzz Shop", f"profile_{secrets.token_hex(4)}")
    return store, {"agent": tokens["access_token"], "merchant": merchant["secret_key"]}


def real_ids(app: Any, agent_token: str, merchant_key: str) -> dict[str, list[str]]:
    """Ids that exist: a created and a delegated (approved) spend request, its card's
    PaymentIntent after a settled charge, and a payment method."""
    client = TestClient(app, base_url=PUBLIC_URL)
    agent = {"Authorization": f"Bearer {agent_token}"}
    created = client.post(
        "/spend_requests",
        headers=agent,
        json={
            "amount": 1200,
            "currency": "usd",
            "merchant_name": "Fuzz Shop",
            "merchant_url": "https://shop.example/checkout",
            "context": CONTEXT,
        },
    )
    assert created.status_code == 200, created.text
    methods = client.get("/payment-details", headers=agent).json()["payment_details"]
    return {
        "request_id": [created.json()["id"]],
        "intent_id": ["pi_" + secrets.token_hex(12)],
        "token_id": ["spt_" + secrets.token_hex(12)],
        "payment_details": [m["id"] for m in methods],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """A migrated wallet app on SQLite, then on a fresh PostgreSQL database."""
    database_url = None
    if request.param == "postgres":
        if not _POSTGRES_URL:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
        database_url = fresh_postgres_database(_POSTGRES_URL)
    env = fuzz_env()
    store, credentials = seed(tmp_path_factory.mktemp("fuzz"), database_url, env)
    app = create_app(store.settings)
    try:
        ids = real_ids(app, credentials["agent"], credentials["merchant"])
        yield FuzzTarget(app, credentials["agent"], credentials["merchant"], ids)
    finally:
        app.state.db.dispose()
        store.close()


def credentials_for(target: FuzzTarget) -> Any:
    """The real credential each operation wants: agent token, merchant key or none."""

    def credentials(case: Any) -> dict[str, str]:
        path = case.operation.path
        if path.startswith("/v1/"):
            return {"Authorization": f"Bearer {target.merchant_key}"}
        if path.startswith("/device/") or path == "/healthz":
            return {}
        return {"Authorization": f"Bearer {target.agent_token}"}

    return credentials


def test_no_5xx_and_every_answer_documented(fuzz_target: FuzzTarget) -> None:
    """Any request to any operation, valid or not: never a 5xx; status, content type,
    headers and body as the document says."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    report = fuzz(
        schema,
        credentials=credentials_for(fuzz_target),
        real_ids=fuzz_target.ids,
        examples=FUZZ_EXAMPLES,
    )
    print(report.summary())
    assert report.server_errors == [], "\n".join(report.server_errors[:10])
    assert report.violations == [], "\n".join(report.violations[:10])
    # The run reached past authentication and into the state machine.
    assert report.statuses[200] > 0 and report.statuses[404] > 0, report.summary()
