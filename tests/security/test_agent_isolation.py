"""Agents are isolated from each other (issue 10, class 4; docs/security.md "Agent isolation").

Two device logins of the same person are two connections (OAuth grants). A spend request is
reachable through the API only with a token of the grant that created it: any other grant
gets the 404 an unknown id gets, byte for byte apart from the id it echoes. A refresh keeps
the grant. Against a real wallet process on SQLite and PostgreSQL, plus the real `link-cli`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from alembic import command
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.agent import CONTEXT, Agent, login
from tests.support.approvals import (
    ApiAgent,
    approve_spend_request,
    card_body,
)
from tests.support.person import Person, bearer, wallet_tokens
from tests.support.wallet import WalletProcess

from link_cli.wallet.store.migrations import alembic_config

APPROVE_SCOPE = "userinfo:read payment_methods.agentic spend_requests:approve"
APPROVAL_DETAILS = {
    "approved_at": 1,
    "approval_method": "programmatic",
    "app_name": "Shopping Assistant",
    "external_user_id": "user-42",
}


def connect(
    wallet: WalletProcess, person: Person, *, scope: str | None = None, approve: bool = False
) -> ApiAgent:
    """A new device login of ``person``: a new connection (grant)."""
    tokens = wallet_tokens(wallet, person, scope, approve)
    client = httpx2.Client(base_url=wallet.url, headers=bearer(tokens), timeout=30)
    return ApiAgent(person=person, tokens=tokens, client=client)


@dataclass
class TwoAgents:
    person: Person
    a: ApiAgent
    b: ApiAgent


@pytest.fixture
def two(any_wallet: WalletProcess) -> Iterator[TwoAgents]:
    person = any_wallet.create_person()
    a, b = connect(any_wallet, person), connect(any_wallet, person)
    yield TwoAgents(person, a, b)
    a.client.close()
    b.client.close()
    person.close()


def unknown_like(request_id: str) -> str:
    """An id of the same shape that no request has."""
    return request_id[:5] + secrets.token_hex(len(request_id[5:]) // 2 + 1)[: len(request_id[5:])]


def calls(agent: ApiAgent, request_id: str) -> dict[str, httpx2.Response]:
    """Every agent route that names a request."""
    return {
        "retrieve": agent.retrieve(request_id),
        "retrieve card": agent.retrieve(request_id, include="card"),
        "retrieve spt": agent.retrieve(request_id, include="shared_payment_token"),
        "retrieve both": agent.retrieve(request_id, include="card,shared_payment_token"),
        "update": agent.update(request_id, {"amount": 4000}),
        "request_approval": agent.request_approval(request_id),
        "cancel": agent.cancel(request_id),
    }


def assert_not_found_as_unknown(agent: ApiAgent, request_id: str) -> None:
    """Each route answers ``request_id`` exactly as it answers an id that does not exist."""
    other = unknown_like(request_id)
    for (name, got), unknown in zip(
        calls(agent, request_id).items(), calls(agent, other).values(), strict=True
    ):
        assert got.status_code == unknown.status_code == 404, (name, got.text)
        assert got.text.replace(request_id, "ID") == unknown.text.replace(other, "ID"), name
        assert got.json()["error"]["code"] == "resource_missing", name
        assert dict(got.headers).keys() == dict(unknown.headers).keys(), name
    assert request_id not in {r["id"] for r in agent.list()}
    assert request_id not in {r["id"] for r in agent.list(include_history=True)}


def test_approved_card_is_revealed_only_to_its_own_agent(two: TwoAgents) -> None:
    created = two.a.create_ok(card_body())
    approve_spend_request(two.person, created["approval_url"])
    card = two.a.retrieve(created["id"], include="card").json()["card"]
    assert len(card["number"]) >= 12 and card["cvc"]

    assert_not_found_as_unknown(two.b, created["id"])

    # B's attempts changed nothing: A still sees it approved, with the same card.
    mine = two.a.retrieve(created["id"], include="card").json()
    assert mine["status"] == "approved" and mine["card"] == card
    assert created["id"] in {r["id"] for r in two.a.list()}
    # The person's own page shows it whichever agent made it.
    assert "Approved" in two.person.client.get(created["approval_url"]).text
    assert two.a.cancel(created["id"]).json()["status"] == "canceled"


def test_requests_not_yet_decided_cannot_be_changed_by_another_agent(two: TwoAgents) -> None:
    created = two.a.create_ok(card_body(request_approval=False))
    pending = two.a.create_ok(card_body())
    for request in (created, pending):
        assert_not_found_as_unknown(two.b, request["id"])
    assert two.a.retrieve(created["id"]).json()["status"] == "created"
    assert two.a.retrieve(pending["id"]).json()["status"] == "pending_approval"
    new_total = [{"type": "total", "display_text": "Total", "amount": 4200}]
    changed = two.a.update(created["id"], {"amount": 4200, "totals": new_total})
    assert changed.json()["amount"] == 4200
    assert two.a.request_approval(created["id"]).json()["status"] == "pending_approval"


def test_shared_payment_token_is_revealed_only_to_its_own_agent(two: TwoAgents) -> None:
    created = two.a.create_ok(two.a.seller_spt_body())
    approve_spend_request(two.person, created["approval_url"])
    spt = two.a.retrieve(created["id"], include="shared_payment_token").json()
    assert spt["shared_payment_token"]["id"].startswith("spt_")
    assert_not_found_as_unknown(two.b, created["id"])


def test_each_agent_lists_only_its_own_requests(two: TwoAgents) -> None:
    from_a = two.a.create_ok(card_body())
    from_b = two.b.create_ok(card_body())
    assert [r["id"] for r in two.a.list(include_history=True)] == [from_a["id"]]
    assert [r["id"] for r in two.b.list(include_history=True)] == [from_b["id"]]


def test_a_duplicate_is_reported_only_to_the_agent_that_made_the_first(two: TwoAgents) -> None:
    body = card_body()
    first = two.a.create_ok(body)
    again = two.a.create(body)
    assert again.status_code == 429
    assert again.json()["error"]["duplicate_spend_request"]["id"] == first["id"]
    # The same body from another agent must not echo A's request back: it is B's own request.
    other = two.b.create(body)
    assert other.status_code == 200, other.text
    assert other.json()["id"] != first["id"]
    assert first["id"] not in other.text


def test_access_survives_refresh_and_the_grant_not_the_token_decides(
    any_wallet: WalletProcess, two: TwoAgents
) -> None:
    created = two.a.create_ok(card_body())
    approve_spend_request(two.person, created["approval_url"])
    card = two.a.retrieve(created["id"], include="card").json()["card"]
    for _ in range(2):  # each refresh rotates both tokens
        two.a.refresh()
        assert two.a.retrieve(created["id"], include="card").json()["card"] == card
        assert created["id"] in {r["id"] for r in two.a.list()}
    two.b.refresh()
    assert_not_found_as_unknown(two.b, created["id"])
    # A third login of the same person is a third connection, not A again.
    third = connect(any_wallet, two.person)
    try:
        assert_not_found_as_unknown(third, created["id"])
    finally:
        third.client.close()


def test_delegated_requests_stay_within_their_grant(any_wallet: WalletProcess) -> None:
    person = any_wallet.create_person()
    a = connect(any_wallet, person, scope=APPROVE_SCOPE, approve=True)
    b = connect(any_wallet, person, scope=APPROVE_SCOPE, approve=True)
    try:
        body = card_body(approval_details=APPROVAL_DETAILS)
        created = a.create_ok(body, delegated=True)
        assert created["status"] == "approved"
        assert a.retrieve(created["id"], include="card").json()["card"]["number"]
        # Even a connection holding the approve scope sees nothing of another's.
        assert_not_found_as_unknown(b, created["id"])
        repeat = b.create(body, delegated=True)
        assert repeat.status_code == 200 and created["id"] not in repeat.text
    finally:
        a.client.close()
        b.client.close()
        person.close()


# Read at import: the autouse fixture clears LINK_* variables before each test.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


@pytest.mark.server  # starts its own wallet process
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_requests_stored_before_the_upgrade_are_the_persons_only(
    backend: str, tmp_path: Path
) -> None:
    """Rows from before revision 0005 name no grant: no agent sees them, the person does."""
    database_url = None
    if backend == "postgres":
        if not POSTGRES_BASE:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
        database_url = fresh_postgres_database(POSTGRES_BASE, migrated=True)
    url = database_url or f"sqlite:///{tmp_path / 'wallet.db'}"
    wallet = WalletProcess.start(tmp_path, database_url=database_url)
    try:
        person = wallet.create_person()
        agent = connect(wallet, person)
        created = agent.create_ok(card_body())
        agent.client.close()
        wallet.stop()
        command.downgrade(alembic_config(url), "0003_redemption")  # as before this change
        wallet = WalletProcess.start(tmp_path, database_url=database_url)  # upgrades again
        person.wallet = wallet
        person.client.base_url = httpx2.URL(wallet.url)
        agent.client = httpx2.Client(base_url=wallet.url, headers=bearer(agent.tokens))
        assert_not_found_as_unknown(agent, created["id"])
        if not person.is_signed_in():
            person.sign_in()
        assert f"/approve/{created['id']}" in person.client.get("/wallet").text
        page = person.client.get(f"/approve/{created['id']}")
        assert page.status_code == 200 and 'value="approve"' in page.text
        agent.client.close()
        person.close()
    finally:
        wallet.stop()


def test_two_cli_auth_files_of_one_person_are_isolated(
    wallet: WalletProcess, tmp_path: Path
) -> None:
    person = wallet.create_person()
    first = Agent(wallet.url, tmp_path / "first.json")
    second = Agent(wallet.url, tmp_path / "second.json")
    try:
        login(first, person)
        login(second, person)
        args = ("--amount", "900", "-m", "Widget Shop", "--merchant-url", "https://shop.example")
        code, chunks = first.json("spend-request", "create", *args, "--context", CONTEXT)
        assert code == 0, chunks
        created: dict[str, Any] = chunks[0]
        approve_spend_request(person, created["approval_url"])
        rid = created["id"]

        code, chunks = first.json("spend-request", "retrieve", rid, "--include", "card")
        assert code == 0 and len(chunks[0]["card"]["number"]) == 16

        for command in (("retrieve", rid), ("retrieve", rid, "--include", "card")):
            code, error = second.json("spend-request", *command)
            assert (code, error) == (
                1,
                {"code": "NOT_FOUND", "message": f"Spend request {rid} not found"},
            )
        code, error = second.json("spend-request", "cancel", rid)
        assert code == 1 and "(404)" in error["message"], error
        code, listed = second.json("spend-request", "list", "--include-history")
        assert code == 0 and rid not in {r["id"] for r in listed}

        code, chunks = first.json("spend-request", "retrieve", rid)
        assert code == 0 and chunks[0]["status"] == "approved"
    finally:
        person.close()
