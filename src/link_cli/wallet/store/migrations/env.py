"""Alembic environment: online migrations only, through the wallet's own engine factory."""

from __future__ import annotations

from alembic import context

from link_cli.wallet.store.engine import make_engine
from link_cli.wallet.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run every pending revision in one transaction per revision, batch mode for SQLite."""
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `link-wallet db upgrade`")
run_migrations_online()
