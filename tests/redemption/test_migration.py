"""Revision 0003_redemption creates exactly the tables the redemption models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from link_cli.wallet.store.migrations import upgrade
from link_cli.wallet.store.models import Base

REDEMPTION_TABLES = {"merchants", "payment_intents", "idempotency_keys"}


def _ours(diff: object) -> bool:
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item[1:] if isinstance(item, tuple) else []:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None) if table is None else table.name
            if name in REDEMPTION_TABLES or part in REDEMPTION_TABLES:
                return True
    return False


def test_migration_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() is not None
            differences = [d for d in compare_metadata(context, Base.metadata) if _ours(d)]
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_removes_the_tables(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from link_cli.wallet.store.migrations import alembic_config

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0002_spend_requests")
    engine = create_engine(url)
    try:
        assert REDEMPTION_TABLES.isdisjoint(inspect(engine).get_table_names())
    finally:
        engine.dispose()
