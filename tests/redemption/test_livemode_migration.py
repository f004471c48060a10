"""Revision 0008_livemode on a database holding merchants and credentials, on SQLite and
PostgreSQL: existing merchants (all holding ``sk_test_…`` keys) stay in test mode, and each
credential takes the mode of its spend request."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from tests.conftest import POSTGRES_ENV, fresh_postgres_database

from link_cli.wallet.store.migrations import HEAD_REVISION, alembic_config, upgrade

BEFORE = "0006_revision"
# Read at import: the autouse fixture clears LINK_* variables before each test.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'w.db'}"
    if not POSTGRES_BASE:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    return fresh_postgres_database(POSTGRES_BASE)


def _row(table: sa.Table, **values: Any) -> dict[str, Any]:
    """``values`` plus a placeholder for every other required column of ``table``."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if isinstance(column.type, sa.Boolean):
            row[column.name] = False
        elif isinstance(column.type, sa.Integer):
            row[column.name] = 1
        elif isinstance(column.type, sa.DateTime):
            row[column.name] = datetime(2026, 1, 1, tzinfo=UTC)
        elif isinstance(column.type, sa.JSON):
            row[column.name] = {}
        else:
            length = getattr(column.type, "length", None) or 12
            row[column.name] = secrets.token_hex(6)[:length]
    return row


def test_existing_rows_get_their_mode(database_url: str) -> None:
    upgrade(database_url, BEFORE)
    engine = sa.create_engine(database_url)
    try:
        tables = sa.MetaData()
        tables.reflect(engine)
        users, merchants = tables.tables["users"], tables.tables["merchants"]
        requests, credentials = tables.tables["spend_requests"], tables.tables["issued_credentials"]
        with engine.begin() as connection:
            connection.execute(users.insert(), [_row(users, id="usr_1")])
            connection.execute(merchants.insert(), [_row(merchants, id="acct_1")])
            for request_id, test in (("lsrq_live", False), ("lsrq_test", True)):
                connection.execute(
                    requests.insert(), [_row(requests, id=request_id, user_id="usr_1", test=test)]
                )
                connection.execute(
                    credentials.insert(),
                    [
                        _row(
                            credentials,
                            id="spt_" + request_id,
                            spend_request_id=request_id,
                            user_id="usr_1",
                            livemode=False,  # what every credential recorded before
                            card_fingerprint=None,
                        )
                    ],
                )

        upgrade(database_url)
        with engine.connect() as connection:
            query = sa.text("SELECT id, livemode FROM issued_credentials")
            modes = {row[0]: row[1] for row in connection.execute(query)}
            merchant = connection.execute(sa.text("SELECT livemode FROM merchants")).scalar_one()
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == HEAD_REVISION
        assert {key: bool(value) for key, value in modes.items()} == {
            "spt_lsrq_live": True,
            "spt_lsrq_test": False,
        }
        assert bool(merchant) is False

        command.downgrade(alembic_config(database_url), BEFORE)
        tables = sa.MetaData()
        tables.reflect(engine)
        assert "livemode" not in tables.tables["merchants"].columns
    finally:
        engine.dispose()
