"""Fixtures of the wallet's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.wallet import WalletProcess, wallet_env


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[WalletProcess]:
    """A wallet's storage without a running server (commands work on the database)."""
    storage = WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env())
    yield storage
    storage.stop()
