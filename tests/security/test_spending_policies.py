"""Spending policies (docs/security.md, "Spending policies"): budgets hold under concurrency
(100 requests released together against a $100 budget, from four agents of one person,
through two wallet processes on one PostgreSQL database, never approve more than $100), and
a person's policies are reachable by that person only, through CSRF-checked forms."""

from __future__ import annotations

import os
import secrets

import httpx2
import pytest
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import card_body
from tests.support.person import bearer
from tests.support.racing import race
from tests.support.wallet import WalletProcess

from link_cli.wallet.domain.oauth import DEFAULT_SCOPES

pytestmark = [pytest.mark.server, pytest.mark.postgres]

POSTGRES_BASE = os.environ.get(POSTGRES_ENV)  # read at import: tests run without LINK_*
REQUESTS = 100
AMOUNT = 300  # $3.00: 33 fit in $100
BUDGET = 10_000
LIMITS = {
    # The wallet's own limits stay out of the way: the policy's budget is under test.
    "LINK_WALLET_LIMIT_MAX_ACTIVE": "500",
    "LINK_WALLET_LIMIT_MAX_APPROVED": "500",
    "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "500",
    "LINK_WALLET_LIMIT_CREATIONS_60D": "500",
    "LINK_WALLET_SECRET_KEY": secrets.token_hex(32),
}


def test_concurrent_requests_on_two_processes_never_exceed_the_budget(make_wallet) -> None:  # type: ignore[no-untyped-def]
    base = POSTGRES_BASE
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(base, migrated=True)
    wallets: list[WalletProcess] = [make_wallet(database_url=url, env=LIMITS) for _ in range(2)]
    store = wallets[0].store()
    email = wallets[0].create_person().email
    store.create_policy(email, name="Hundred", currency="usd", budget=BUDGET, period="month")
    clients = [
        httpx2.Client(
            base_url=wallets[i % 2].url,
            headers=bearer(store.grant_agent(email, list(DEFAULT_SCOPES))),
            timeout=60,
        )
        for i in range(4)
    ]
    try:
        bodies = [card_body(amount=AMOUNT) for _ in range(REQUESTS)]
        calls = [
            (lambda c=clients[i % 4], b=bodies[i]: c.post("/spend_requests", json=b))
            for i in range(REQUESTS)
        ]
        responses = race(calls)
        assert all(isinstance(r, httpx2.Response) and r.status_code == 200 for r in responses), [
            getattr(r, "text", r) for r in responses if getattr(r, "status_code", 0) != 200
        ]
        statuses = [r.json()["status"] for r in responses]
        approved = statuses.count("approved")
        assert approved * AMOUNT <= BUDGET
        assert approved == BUDGET // AMOUNT  # every request the budget could hold, no more
        assert statuses.count("pending_approval") == REQUESTS - approved
    finally:
        for client in clients:
            client.close()


def test_another_persons_policy_is_a_404_and_changes_need_the_csrf_token(
    wallet: WalletProcess,
) -> None:
    owner = wallet.create_person()
    policy = wallet.store().create_policy(owner.email, name="Mine", max_amount=500)
    stranger = wallet.create_person()
    try:
        stranger.sign_in()
        assert stranger.client.get(f"/wallet/policies/{policy['id']}").status_code == 404
        _, form = stranger.get_form("/wallet/policies", action="/wallet/policies")
        token = form.fields["csrf_token"]
        for action in ("delete", "pause"):
            answer = stranger.client.post(
                f"/wallet/policies/{policy['id']}/{action}", data={"csrf_token": token}
            )
            assert answer.status_code == 404
        owner.sign_in()
        forged = owner.client.post(f"/wallet/policies/{policy['id']}/delete", data={})
        assert forged.status_code == 403
        page = owner.client.get("/wallet/policies")
        assert policy["id"] in page.text and "paused" not in page.text.split("Mine")[1][:80]
    finally:
        owner.close()
        stranger.close()
