"""Concurrent changes: no lost update, and SQLite readers that never wait for writers.

An agent's update racing the person's approval must end one of two ways: the update won and
the approval (of the amount the person saw) is refused with 409, or the approval won and the
update is refused with 409. Never both 200, never an approval of an amount the person did
not see. The racers talk to two wallet processes sharing one database, so the race is
settled by the database, not by one process's threads. SQLite and PostgreSQL.

On SQLite, reads must not take the write lock: with another connection holding it, reads
still answer, and a write gives up with 503 ``database_busy`` (never 500).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from sqlalchemy import update
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.approvals import ApiAgent, approval_path, card_body, new_agent
from tests.support.person import Person
from tests.support.racing import race
from tests.support.wallet import WalletProcess

from link_cli.wallet.store.engine import Database, ReadOnlyTransaction
from link_cli.wallet.store.models.spend import SpendRequestRow

# Enough to fail reliably without the compare-and-set (docs/security.md); the 100-round
# figure is LOST_UPDATE_ROUNDS=100.
ROUNDS = int(os.environ.get("LOST_UPDATE_ROUNDS", "20"))
READERS = 20
SEEN_AMOUNT = 1000
# Generous limits: every round creates and may approve one request.
ROOMY_LIMITS = {
    "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "10000",
    "LINK_WALLET_LIMIT_CREATIONS_60D": "10000",
    "LINK_WALLET_LIMIT_MAX_ACTIVE": "10000",
    "LINK_WALLET_LIMIT_MAX_APPROVED": "10000",
    "LINK_WALLET_LIMIT_DAILY_SPEND": "100000000",
    "LINK_WALLET_LIMIT_MONTHLY_SPEND": "100000000",
}
SHARED_SECRET = "concurrent-changes-test-secret-key-0123456789"
# Read at import: an autouse fixture clears LINK_* variables while tests run.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


def _new_amount(amount: int) -> dict[str, object]:
    """An update body: the new amount and the total the person will be shown with it."""
    return {
        "amount": amount,
        "totals": [{"type": "total", "display_text": "Total", "amount": amount}],
    }


@dataclass
class Pair:
    """An agent on one wallet process and the same person signed in on another."""

    agent: ApiAgent
    person: Person


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Shared by the module's tests (each races its own spend requests): the two processes
    start once per database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shared-db') / 'shared.db'}"
    else:
        if not POSTGRES_BASE:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
        url = fresh_postgres_database(POSTGRES_BASE, migrated=True)
    env = {**ROOMY_LIMITS, "LINK_WALLET_SECRET_KEY": SHARED_SECRET}
    with (
        WalletProcess.start(
            tmp_path_factory.mktemp("agent-side"), database_url=url, env=env
        ) as agent_side,
        WalletProcess.start(
            tmp_path_factory.mktemp("person-side"), database_url=url, env=env
        ) as person_side,
    ):
        agent = new_agent(agent_side)
        person = Person(
            wallet=person_side,
            email=agent.person.email,
            password=agent.person.password,
            user_id=agent.person.user_id,
            payment_method_id=agent.person.payment_method_id,
        )
        person.sign_in()
        yield Pair(agent=agent, person=person)
        person.close()
        agent.close()


def approve_with(person: Person, path: str, fields: dict[str, str]) -> httpx2.Response:
    return person.client.post(path, data={**fields, "action": "approve"})


@pytest.mark.server
def test_an_update_racing_the_approval_is_never_lost(pair: Pair) -> None:
    agent, person = pair.agent, pair.person
    lost: list[str] = []
    outcomes = {"update won": 0, "approval won": 0}
    for round_number in range(ROUNDS):
        created = agent.create_ok(card_body(amount=SEEN_AMOUNT))
        path = approval_path(created["approval_url"])
        page, form = person.get_form(path, action=path)
        assert "$10.00" in page.text  # what the person sees and approves
        new_amount = 2000 + round_number

        update, approval = race(
            [
                lambda i=created["id"], a=new_amount: agent.update(i, _new_amount(a)),
                lambda p=path, f=form.fields: approve_with(person, p, f),
            ]
        )
        assert isinstance(update, httpx2.Response), update
        assert isinstance(approval, httpx2.Response), approval
        approved = approval.status_code == 200 and urlsplit(str(approval.url)).path == path
        final = agent.retrieve(created["id"]).json()

        if update.status_code == 200 and approval.status_code == 409:
            assert "changed after the page was shown" in approval.text
            assert final["status"] == "pending_approval"
            assert final["amount"] == new_amount
            outcomes["update won"] += 1
        elif approved and update.status_code == 409:
            assert update.json()["error"]["code"] in {
                "spend_request_invalid_state",
                "spend_request_changed",
            }
            assert final["status"] == "approved"
            assert final["amount"] == SEEN_AMOUNT
            outcomes["approval won"] += 1
        else:
            assert update.status_code < 500 and approval.status_code < 500, (
                update.text,
                approval.text,
            )
            lost.append(
                f"round {round_number}: update {update.status_code}, approval "
                f"{approval.status_code}, final {final['status']} {final['amount']}"
            )
    print(f"lost updates in {ROUNDS} rounds: {len(lost)}; {outcomes}")
    assert lost == []


@pytest.mark.server
def test_a_stale_approval_form_is_refused_through_the_page(pair: Pair) -> None:
    agent, person = pair.agent, pair.person
    created = agent.create_ok(card_body(amount=SEEN_AMOUNT))
    path = approval_path(created["approval_url"])
    _, stale = person.get_form(path, action=path)
    assert agent.update(created["id"], _new_amount(4900)).status_code == 200

    for action in ("approve", "deny"):
        refused = person.client.post(path, data={**stale.fields, "action": action})
        assert refused.status_code == 409
        assert "changed after the page was shown" in refused.text
        assert "$49.00" in refused.text  # the page now shows what would be approved
    assert agent.status_of(created["id"]) == "pending_approval"

    # The refreshed page carries the current revision and approves what it shows.
    approved = person.submit_form(path, {"action": "approve"}, action=path)
    assert approved.status_code == 200 and urlsplit(str(approved.url)).path == path
    final = agent.retrieve(created["id"]).json()
    assert (final["status"], final["amount"]) == ("approved", 4900)


@pytest.mark.server
def test_the_approval_form_requires_the_revision(pair: Pair) -> None:
    agent, person = pair.agent, pair.person
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    _, form = person.get_form(path, action=path)
    without = {k: v for k, v in form.fields.items() if k != "revision"}
    for fields in (without, {**without, "revision": ""}, {**without, "revision": "1e3"}):
        response = person.client.post(path, data={**fields, "action": "approve"})
        assert response.status_code == 400
        assert "out of date or incomplete" in response.text
    assert agent.status_of(created["id"]) == "pending_approval"


@pytest.mark.server
def test_two_updates_racing_never_both_succeed_on_one_revision(pair: Pair) -> None:
    agent = pair.agent
    created = agent.create_ok(card_body(amount=SEEN_AMOUNT))
    for round_number in range(20):
        amounts = (3000 + round_number, 4000 + round_number)
        results = race([lambda a=a: agent.update(created["id"], _new_amount(a)) for a in amounts])
        statuses = [r.status_code for r in results]
        assert all(status in (200, 409) for status in statuses), [r.text for r in results]
        final = agent.retrieve(created["id"]).json()["amount"]
        # Whatever won is what is stored: a 200 is never silently overwritten by a 409.
        winners = [a for a, r in zip(amounts, results, strict=True) if r.status_code == 200]
        assert final in winners


# -- SQLite: reads never take the write lock -----------------------------------------------


@pytest.fixture
def sqlite_wallet(make_wallet: Callable[..., WalletProcess]) -> WalletProcess:
    return make_wallet(env={"LINK_WALLET_SQLITE_BUSY_TIMEOUT_MS": "200"})


def test_reads_answer_while_another_writer_holds_the_sqlite_lock(
    sqlite_wallet: WalletProcess,
) -> None:
    agent = new_agent(sqlite_wallet)
    try:
        created = agent.create_ok()
        path = approval_path(created["approval_url"])
        if not agent.person.is_signed_in():
            agent.person.sign_in()
        blocker = sqlite3.connect(sqlite_wallet.data_dir / "wallet.db", isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")  # the write lock, held across every call below
            assert agent.retrieve(created["id"]).status_code == 200
            assert agent.list() != []
            assert agent.person.client.get(path).status_code == 200
            assert agent.person.client.get(f"{path}/status").json()["status"] == (
                "pending_approval"
            )

            busy = agent.update(created["id"], _new_amount(4200))
            assert busy.status_code == 503
            assert busy.json()["error"]["code"] == "database_busy"
            assert busy.headers["retry-after"] == "1"
        finally:
            blocker.rollback()
            blocker.close()
        assert agent.update(created["id"], _new_amount(4200)).status_code == 200
        assert agent.retrieve(created["id"]).json()["amount"] == 4200
    finally:
        agent.close()


def test_twenty_readers_and_writers_get_no_server_error(wallet: WalletProcess) -> None:
    agent = new_agent(wallet)
    try:
        created = agent.create_ok()
        request_id = created["id"]

        def reader() -> list[int]:
            return [agent.retrieve(request_id).status_code for _ in range(10)]

        def writer() -> list[int]:
            return [agent.update(request_id, _new_amount(1500 + n)).status_code for n in range(10)]

        results = race([reader] * READERS + [writer] * 2)
        for result in results:
            assert isinstance(result, list), result
        reads = [status for result in results[:READERS] for status in result]
        writes = [status for result in results[READERS:] for status in result]
        assert reads == [200] * len(reads)
        assert set(writes) <= {200, 409}
    finally:
        agent.close()


def test_a_read_transaction_refuses_to_write(tmp_path: Path) -> None:
    from link_cli.wallet.store.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'wallet.db'}"
    upgrade(url)
    database = Database(url)
    try:
        with pytest.raises(ReadOnlyTransaction), database.read_scope() as session:
            session.execute(update(SpendRequestRow).values(amount=1))
    finally:
        database.dispose()
