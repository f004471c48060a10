"""Import costs are designed: the hot path stays light and layers import downward only."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "link_cli"
HEAVY = (
    "mcp",
    "pydantic",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "httpx2",
    "toon_format",
    "yaml",
    "link_cli.wallet",
    "link_cli.sdk",
    "starlette",
    "qrcode",
)

_PROBE = """
import io, json, sys
from link_cli.cli.main import run
out = io.StringIO()
code = run(sys.argv[1:], out)
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _loaded_modules(*argv: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINK_")}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    return set(report["modules"])


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["spend-request", "create", "--help"]])
def test_version_and_help_leave_heavy_modules_unloaded(argv):
    modules = _loaded_modules(*argv)
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []


def test_the_console_script_prints_the_version():
    from link_cli import __version__

    script = Path(sys.executable).with_name("link-cli")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, __version__ + "\n")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["cli", "commands", "sdk"])
def test_client_layers_never_import_the_wallet(layer):
    offenders = [
        str(path.relative_to(SRC))
        for path in (SRC / layer).rglob("*.py")
        if any(n == "link_cli.wallet" or n.startswith("link_cli.wallet.") for n in _imports(path))
    ]
    assert offenders == []
