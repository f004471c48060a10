"""Alembic migrations of the wallet, runnable without an ``alembic.ini``.

``upgrade(url)`` runs at the start of ``link-wallet serve`` and of every ``link-wallet``
command that touches the database, and by ``link-wallet db upgrade``. Revisions are named by
the part that owns their tables (docs/internals.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The newest revision of versions/; a test checks it against Alembic's own view of the heads.
HEAD_REVISION = "0018_terms"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at this folder and ``database_url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on "%" in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database at ``database_url`` up to ``revision`` (default: all heads)."""
    if revision == "heads" and is_at_head(database_url):
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def is_at_head(database_url: str) -> bool:
    """True when the database already records exactly :data:`HEAD_REVISION`.

    A read of Alembic's version table, so the common case skips loading Alembic and its
    revision scripts (a few hundred milliseconds per command). Any doubt answers False and
    leaves the decision, and the error reporting, to Alembic.
    """
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from ..engine import make_engine

    try:
        url = make_url(database_url)
        # A missing SQLite file is Alembic's to create (privately, through the engine factory).
        if url.get_backend_name() == "sqlite" and not (
            url.database and Path(url.database).expanduser().is_file()
        ):
            return False
        engine = make_engine(database_url)
    except (ArgumentError, SQLAlchemyError, ImportError, ValueError):
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return [row[0] for row in rows] == [HEAD_REVISION]
