"""Alembic environment: online migrations only, through the wallet's own engine factory."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from link_cli.wallet.store.engine import make_engine
from link_cli.wallet.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run every pending revision in one transaction per revision, batch mode for SQLite."""
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table by copying it and dropping the original; with
                # foreign keys on, that drop would cascade to the rows that reference it (an
                # agent's tokens when oauth_grants is rebuilt). The pragma only takes effect
                # outside a transaction, hence on the driver's connection before any BEGIN.
                _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.rollback()
                if broken:
                    raise RuntimeError(f"migration left rows with dangling references: {broken}")
    finally:
        engine.dispose()


def _sqlite_pragma(connection: Connection, statement: str) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `link-wallet db upgrade`")
run_migrations_online()
