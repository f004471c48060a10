"""Fixtures for the MCP tests: an isolated environment and a real `link-cli serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_harness import ServeProcess, isolated_env, start_serve, stop


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """No LINK_* from outside, a private credential file, Link URLs that go nowhere."""
    return isolated_env(tmp_path)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A `link-cli serve` on a free loopback port, shared by the module (it keeps no state
    between requests: no session, no credential), stopped after its last test."""
    server = start_serve(isolated_env(tmp_path_factory.mktemp("serve")))
    try:
        yield server
    finally:
        stop(server.process)
