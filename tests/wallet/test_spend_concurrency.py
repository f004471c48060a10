"""Races the database must settle: many approvals of one request issue one
credential; many identical creates make one request. SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx2
import psycopg
import pytest
from sqlalchemy.engine import make_url
from tests.support.approvals import ApiAgent, approval_path, card_body, new_agent
from tests.support.person import Person
from tests.support.racing import race
from tests.support.wallet import WalletProcess

RACERS = 10


@pytest.fixture
def agent(any_wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(any_wallet)
    yield created
    created.close()


def credential_rows(wallet: WalletProcess, spend_request_id: str) -> int:
    """Issued credentials stored for the request, read straight from the database."""
    query = "SELECT COUNT(*) FROM issued_credentials WHERE spend_request_id = "
    if wallet.database_url is None:
        with sqlite3.connect(wallet.data_dir / "wallet.db") as connection:
            return int(connection.execute(query + "?", (spend_request_id,)).fetchone()[0])
    url = make_url(wallet.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        row = connection.execute(query + "%s", (spend_request_id,)).fetchone()
        assert row is not None
        return int(row[0])


def browsers(agent: ApiAgent, count: int) -> list[Person]:
    """``count`` separate signed-in browser sessions of the same person."""
    people = []
    for _ in range(count):
        person = Person(
            wallet=agent.person.wallet,
            email=agent.person.email,
            password=agent.person.password,
            user_id=agent.person.user_id,
            payment_method_id=agent.person.payment_method_id,
        )
        person.sign_in()
        people.append(person)
    return people


def test_concurrent_approvals_issue_exactly_one_credential(
    agent: ApiAgent, any_wallet: WalletProcess
) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    sessions = browsers(agent, RACERS)
    try:
        forms = [session.get_form(path, action=path)[1] for session in sessions]

        def approve(session: Person, fields: dict[str, str]) -> httpx2.Response:
            return session.client.post(path, data={**fields, "action": "approve"})

        results = race(
            [lambda s=s, f=f: approve(s, f.fields) for s, f in zip(sessions, forms, strict=True)]
        )
    finally:
        for session in sessions:
            session.close()

    statuses = sorted(r.status_code if isinstance(r, httpx2.Response) else repr(r) for r in results)
    assert statuses == [200] + [409] * (RACERS - 1)
    assert credential_rows(any_wallet, created["id"]) == 1
    shown = agent.retrieve(created["id"], include="card").json()
    assert shown["status"] == "approved"
    assert shown["card"]["number"].endswith(shown["card_last4"])


def test_concurrent_identical_creates_make_one_request(agent: ApiAgent) -> None:
    body = card_body()
    results = race([lambda: agent.create(body) for _ in range(RACERS)])
    statuses = sorted(r.status_code if isinstance(r, httpx2.Response) else repr(r) for r in results)
    assert statuses == [200] + [429] * (RACERS - 1)
    winner = next(r.json() for r in results if r.status_code == 200)
    for response in results:
        if response.status_code == 429:
            assert response.json()["error"]["duplicate_spend_request"]["id"] == winner["id"]
    assert [r["id"] for r in agent.list()] == [winner["id"]]


def test_cancel_racing_approval_leaves_one_consistent_outcome(
    agent: ApiAgent, any_wallet: WalletProcess
) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    _, form = agent.person.get_form(path, action=path)

    results = race(
        [
            lambda: agent.person.client.post(path, data={**form.fields, "action": "approve"}),
            lambda: agent.cancel(created["id"]),
        ]
    )
    approve_status, cancel_status = (r.status_code for r in results)
    final = agent.retrieve(created["id"], include="card").json()
    if cancel_status == 200 and approve_status == 200:
        # Approved first, then canceled: the credential exists but is no longer shown.
        assert final["status"] == "canceled" and "card" not in final
        assert credential_rows(any_wallet, created["id"]) == 1
    elif cancel_status == 200:
        assert approve_status == 409
        assert final["status"] == "canceled"
        assert credential_rows(any_wallet, created["id"]) == 0
    elif approve_status == 200 and cancel_status == 409:
        # The approval was written first and the cancel, decided on the pending request, lost
        # its compare-and-set: it changed nothing, and the agent may withdraw again.
        assert final["status"] == "approved" and "card" in final
        assert credential_rows(any_wallet, created["id"]) == 1
        assert agent.cancel(created["id"]).status_code == 200
        again = agent.retrieve(created["id"], include="card").json()
        assert again["status"] == "canceled" and "card" not in again
    else:
        pytest.fail(f"cancel answered {cancel_status}, approve {approve_status}")
