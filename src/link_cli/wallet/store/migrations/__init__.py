"""Alembic migrations of the wallet, runnable without an ``alembic.ini``.

``upgrade(url)`` runs at the start of ``link-wallet serve`` and by ``link-wallet db upgrade``.
Revisions are named by the part that owns their tables (docs/internals.md).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at this folder and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on "%" in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database at ``database_url`` up to ``revision`` (default: all heads)."""
    command.upgrade(alembic_config(database_url), revision)
