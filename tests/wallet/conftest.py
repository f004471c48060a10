"""Fixtures of the wallet's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.wallet import WalletProcess, copy_migrated_sqlite, wallet_env


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[WalletProcess]:
    """A wallet's storage without a running server (commands work on the database), at the
    newest revision as every test wallet starts (a copy, not a replay of the migrations)."""
    copy_migrated_sqlite(tmp_path / "wallet.db")
    storage = WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env())
    yield storage
    storage.stop()


@pytest.fixture
def empty_offline(tmp_path: Path) -> Iterator[WalletProcess]:
    """An empty data directory: the first command creates and migrates the database."""
    storage = WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env())
    yield storage
    storage.stop()
