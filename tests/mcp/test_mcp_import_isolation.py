"""Ordinary commands never pay for the MCP SDK (~650 ms of imports)."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENTRY = "import sys; from link_cli.cli.main import main; sys.argv[0] = 'link-cli'; main()"


def imported_modules(env: dict[str, str], *args: str) -> set[str]:
    """Modules a real link-cli process imported, read from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "link_cli.cli.main" in names, done.stderr[-2000:]
    return names


def mcp_modules(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in ("mcp", "mcp_types")}


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("--help",),
        ("spend-request", "list", "--format", "json"),
        ("spend-request", "create", "--schema", "--format", "json"),
        ("serve", "--help"),
    ],
)
def test_ordinary_commands_import_nothing_from_mcp(
    cli_env: dict[str, str], args: tuple[str, ...]
) -> None:
    names = imported_modules(cli_env, *args)
    assert not mcp_modules(names)
    assert not {n for n in names if n.startswith("link_cli.mcp")}


def test_the_probe_does_see_mcp_when_it_is_imported(cli_env: dict[str, str]) -> None:
    # Guards the test above against passing vacuously: serve's app module pulls the SDK in.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import link_cli.mcp.server"],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "mcp" in names and "link_cli.mcp.server" in names
