"""``upgrade`` skips Alembic only when the database already stands at the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from link_cli.wallet.store.migrations import HEAD_REVISION, alembic_config, is_at_head, upgrade


def test_head_revision_is_the_newest_script() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_heads() == [HEAD_REVISION]


def test_a_new_database_is_not_at_head_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert not is_at_head(url)
    upgrade(url)
    assert is_at_head(url)


def test_an_older_database_is_upgraded_not_skipped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0001_accounts")
    assert not is_at_head(url)
    upgrade(url)
    engine = create_engine(url)
    try:
        assert "merchants" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert is_at_head(url)


def test_an_unreachable_database_is_left_to_alembic() -> None:
    assert not is_at_head("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not is_at_head("sqlite:////nonexistent-directory/w.db")
