"""What a new user of ``link-wallet`` trips on (issue 12, item 4), run as they run it: global
options after the command, ``serve`` on a terminal, and a missing ``wallet`` extra."""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.wallet import copy_migrated_sqlite, wallet_env

from link_cli.wallet import cli

LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
GLOBAL_OPTIONS = {"--data-dir": "/tmp/x", "--database-url": "sqlite:////tmp/x/w.db"}


def run(
    *args: str, input_text: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINK_WALLET, *args],
        env=wallet_env(),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command path of the tree (``("db", "upgrade")``...) with its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaf_parsers(sub, (*path, name))


def required_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """A value for each required positional argument, then each required option."""
    positionals = [
        "x"
        for action in parser._actions
        if not action.option_strings and action.required and action.nargs in (None, 1)
    ]
    found: list[str] = []
    for action in parser._actions:
        if action.required and action.option_strings:
            found += [action.option_strings[0], "1"]
    return positionals + found


def test_every_command_accepts_the_global_options_before_and_after_it() -> None:
    parser = cli.build_parser()
    paths = list(leaf_parsers(parser))
    assert ("serve",) in [p for p, _ in paths] and ("db", "upgrade") in [p for p, _ in paths]
    for path, leaf in paths:
        rest = required_arguments(leaf)
        for option, value in GLOBAL_OPTIONS.items():
            dest = option.lstrip("-").replace("-", "_")
            before = parser.parse_args([option, value, *path, *rest])
            after = parser.parse_args([*path, *rest, option, value])
            between = parser.parse_args([path[0], option, value, *path[1:], *rest])
            assert getattr(before, dest) == getattr(after, dest) == value, path
            assert getattr(between, dest) == value, path
            # Not given anywhere: the default, which settings read as "use the usual place".
            assert getattr(parser.parse_args([*path, *rest]), dest) is None, path
            # Given twice, the later one counts.
            twice = parser.parse_args([option, "/first", *path, *rest, option, value])
            assert getattr(twice, dest) == value, path


def test_data_dir_after_the_command_is_used(tmp_path: Path) -> None:
    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    copy_migrated_sqlite(data_dir / "wallet.db")
    user = ("user", "create", "--email", "ann@example.com", "--password-stdin")
    created = run(*user, "--data-dir", str(data_dir), input_text="a good password\n")
    assert created.returncode == 0, created.stderr
    # The same person again, the option before the command: the same database refuses it.
    again = run("--data-dir", str(data_dir), *user, input_text="a good password\n")
    assert again.returncode == 1 and "already exists" in again.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_until(fd: int, needle: str, timeout: float) -> str:
    """What the terminal showed until ``needle`` appeared (or the deadline passed)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk.decode("utf-8", "replace")
    return seen


@pytest.mark.server
def test_serve_on_a_terminal_says_where_it_listens_and_what_next(tmp_path: Path) -> None:
    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    copy_migrated_sqlite(data_dir / "wallet.db")
    port = free_port()
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [LINK_WALLET, "serve", "--port", str(port), "--data-dir", str(data_dir)],
        env=wallet_env(),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        screen = read_until(master, "auth login", timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=20)
        os.close(master)
    url = f"http://127.0.0.1:{port}"
    assert f"link-wallet is listening on {url}" in screen, screen
    assert f"link-wallet --data-dir {data_dir} user create --email" in screen
    assert f"export LINK_API_BASE_URL={url} LINK_AUTH_BASE_URL={url}" in screen
    assert "to approve from a phone" in screen


@pytest.mark.server
def test_serve_off_a_terminal_prints_no_guide(tmp_path: Path) -> None:
    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    copy_migrated_sqlite(data_dir / "wallet.db")
    port = free_port()
    process = subprocess.Popen(
        [LINK_WALLET, "--data-dir", str(data_dir), "serve", "--port", str(port)],
        env=wallet_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # JSON log lines, until uvicorn says it runs
            if "serving" in line:
                assert json.loads(line)["message"].startswith(f"serving http://127.0.0.1:{port}")
            if "Uvicorn running on" in line:
                break
        # Served once: start-up, and the guide a terminal would get, are behind us.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        process.kill()
        out, err = process.communicate(timeout=20)
    assert "Next:" not in out + err


BLOCKER = """
import sys
HIDDEN = set(sys.argv[1].split(","))
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Hide())
from link_cli.wallet.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    ("hidden", "args"),
    [
        ("fastapi,starlette,uvicorn", ["serve", "--port", "1"]),
        ("sqlalchemy,alembic", ["db", "upgrade"]),
        ("argon2", ["user", "create", "--email", "a@example.com", "--password-stdin"]),
    ],
)
def test_a_missing_wallet_extra_names_the_install_command(
    tmp_path: Path, hidden: str, args: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, hidden, "--data-dir", str(tmp_path), *args],
        env=wallet_env(),
        input="a good password\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: link-wallet needs link-cli's 'wallet' extra")
    # This checkout is installed editable from its clone: the command names that clone.
    root = Path(__file__).resolve().parents[2]
    assert (
        f"pip install -e '{root}[wallet]'" in result.stderr
        or f"pip install -e {root}[wallet]" in result.stderr
    )
    assert "not on a public package index" in result.stderr


def test_the_extra_module_list_covers_the_wallet_extra() -> None:
    from importlib.metadata import packages_distributions, requires

    from packaging.requirements import Requirement

    wallet = {
        Requirement(text).name.lower().replace("_", "-")
        for text in requires("link-cli") or []
        if 'extra == "wallet"' in text.replace("'", '"')
    }
    provided: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            provided.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    for dist in wallet:
        modules = provided.get(dist, set()) - {"_cffi_backend"}
        if dist == "psycopg":  # psycopg[binary]: a missing driver has its own message
            continue
        assert modules & cli.WALLET_EXTRA_MODULES, (dist, modules)
