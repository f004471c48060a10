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


@pytest.fixture
def serve(cli_env: dict[str, str]) -> Iterator[ServeProcess]:
    """A `link-cli serve` on a free loopback port, stopped after the test."""
    server = start_serve(cli_env)
    try:
        yield server
    finally:
        stop(server.process)
