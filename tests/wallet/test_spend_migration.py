"""Revision 0002_spend_requests creates exactly the tables the spend models describe, on
SQLite and PostgreSQL, and downgrading removes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from tests.conftest import POSTGRES_ENV, fresh_postgres_database

from link_cli.wallet.store.migrations import alembic_config, upgrade
from link_cli.wallet.store.models import Base

SPEND_TABLES = {"spend_requests", "issued_credentials", "spend_limit_locks"}


def _mentions_ours(item: Any) -> bool:
    parts = item if isinstance(item, list) else [item]
    for part in parts:
        for value in part[1:] if isinstance(part, tuple) else []:
            table = getattr(value, "table", None)
            name = getattr(value, "name", None) if table is None else table.name
            if name in SPEND_TABLES or value in SPEND_TABLES:
                return True
    return False


# Read at import: the autouse fixture clears LINK_* variables before each test.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'w.db'}"
    if not POSTGRES_BASE:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    return fresh_postgres_database(POSTGRES_BASE)


def test_migration_matches_the_models(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [d for d in compare_metadata(context, Base.metadata) if _mentions_ours(d)]
            names = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert names >= SPEND_TABLES
    assert differences == []


def test_one_credential_per_spend_request_is_a_database_constraint(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        unique = inspect(engine).get_unique_constraints("issued_credentials")
    finally:
        engine.dispose()
    assert ["spend_request_id"] in [c["column_names"] for c in unique]
    assert ["card_fingerprint"] in [c["column_names"] for c in unique]


def test_downgrade_to_accounts_removes_the_tables(database_url: str) -> None:
    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "0001_accounts")
    engine = create_engine(database_url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert SPEND_TABLES.isdisjoint(names)
    assert "users" in names
