"""The transactions page read by keyset from the database: walking it forwards or backwards,
with any filter and page size, visits exactly the filtered list, in order (in-process SQLite)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.financial import ListQuery
from link_cli.wallet.domain.statements import Statement, StatementLine
from link_cli.wallet.store import accounts
from link_cli.wallet.store import financial as store
from link_cli.wallet.store.engine import Database
from link_cli.wallet.store.migrations import upgrade

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("financial") / "wallet.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def _statement(key: str, lines: list[tuple[int, int, str]]) -> Statement:
    return Statement(
        institution="Bank",
        account_last4="1234",
        account_key=key,
        currency="usd",
        ledger_balance=None,
        ledger_as_of=None,
        lines=tuple(
            StatementLine(f"id{i}", f"2026-03-{day:02}", amount, "Shop", category)
            for i, (day, amount, category) in enumerate(lines)
        ),
    )


LINES = st.lists(
    st.tuples(st.integers(1, 4), st.integers(-5000, 5000), st.sampled_from(["a", "b"])),
    max_size=12,
)


@given(
    first=LINES,
    second=LINES,
    limit=st.integers(1, 5),
    category=st.sampled_from([None, "a"]),
    date_start=st.sampled_from([None, "2026-03-02"]),
)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_keyset_pages_walk_the_filtered_list(
    database: Database, first, second, limit, category, date_start
) -> None:
    with database.write_scope() as session:
        user = accounts.create_user(
            session,
            email=f"p-{secrets.token_hex(6)}@example.com",
            password_hash="x",
            name=None,
            now=NOW,
        )
        store.import_statement(session, user.id, _statement("one", first), NOW)
        store.import_statement(
            session, user.id, _statement("two", second), NOW + timedelta(seconds=1)
        )
        user_id = user.id
    base = ListQuery(limit=100, category=category, date_start=date_start)
    with database.read_scope() as session:
        everything, more = store.transactions_page(session, user_id, base)
        assert not more
        keys = [row.sort_key() for row in everything]
        assert keys == sorted(keys, reverse=True)
        expected = [
            r.id
            for r in everything
            if (not category or r.category == category)
            and (not date_start or r.created_date >= date_start)
        ]
        assert [r.id for r in everything] == expected
        walked: list[str] = []
        cursor = None
        while True:
            query = ListQuery(
                limit=limit, starting_after=cursor, category=category, date_start=date_start
            )
            rows, more = store.transactions_page(session, user_id, query)
            walked += [r.id for r in rows]
            if not more:
                break
            cursor = rows[-1].id
        assert walked == expected
        if expected:
            back = [expected[-1]]
            while True:
                query = ListQuery(
                    limit=limit, ending_before=back[0], category=category, date_start=date_start
                )
                rows, more = store.transactions_page(session, user_id, query)
                back = [r.id for r in rows] + back
                if not more:
                    break
            assert back == expected


def test_an_id_of_another_person_is_no_cursor(database: Database) -> None:
    with database.write_scope() as session:
        owners = []
        for _ in range(2):
            user = accounts.create_user(
                session,
                email=f"p-{secrets.token_hex(6)}@example.com",
                password_hash="x",
                name=None,
                now=NOW,
            )
            store.import_statement(session, user.id, _statement("k", [(1, -100, "a")]), NOW)
            owners.append(user.id)
    with database.read_scope() as session:
        [theirs], _ = store.transactions_page(session, owners[1], ListQuery())
        with pytest.raises(InvalidRequest, match="No such object"):
            store.transactions_page(session, owners[0], ListQuery(starting_after=theirs.id))


FINANCIAL_TABLES = {"external_accounts", "external_transactions"}


def test_revision_0010_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    from link_cli.wallet.store.migrations import alembic_config
    from link_cli.wallet.store.models import Base

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in differences if any(t in str(d) for t in FINANCIAL_TABLES)] == []
        command.downgrade(alembic_config(url), "0009_agent_reports")
        assert FINANCIAL_TABLES.isdisjoint(inspect(engine).get_table_names())
    finally:
        engine.dispose()
