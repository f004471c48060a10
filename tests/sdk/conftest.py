"""Fixtures for SDK tests: a clean LINK_* environment and a loopback stub server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.sdk.stub import Handler, StubServer


@pytest.fixture(autouse=True)
def clean_link_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy variable leaks in (tests/conftest.py already drops LINK_*); config lives
    under the test's tmp dir."""
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def stub() -> Iterator[Callable[[Handler], StubServer]]:
    """Start stub servers on demand; all are stopped at the end of the test."""
    servers: list[StubServer] = []

    def start(handler: Handler) -> StubServer:
        server = StubServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
