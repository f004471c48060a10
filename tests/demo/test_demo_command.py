"""``link-cli demo`` run as a user runs it: a subprocess, no terminal, real servers.

The demo starts its own wallet and shop; these tests check that both flows end
``succeeded``, that it refuses to run unattended without ``--auto-approve``, and that it
leaves nothing running — after success and after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests.demo.conftest import ANSI, default_ctrl_c, processes_mentioning, read_available
from tests.support.environment import clean_env

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
DEMO_TIMEOUT_SECONDS = 240
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.timeout(300)]


def demo_env(tmp_path: Path) -> dict[str, str]:
    """No LINK_* from outside, and TMPDIR inside tmp_path so every demo file is findable."""
    env = clean_env()
    env["TMPDIR"] = str(tmp_path)
    return env


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def split_output(stdout: str) -> tuple[list[str], dict[str, Any]]:
    """Progress lines, then the JSON summary (``--format json``) at the end."""
    start = stdout.index("\n{\n") + 1
    return stdout[:start].splitlines(), json.loads(stdout[start:])


def assert_nothing_left(tmp_path: Path, ports: list[int]) -> None:
    assert processes_mentioning(str(tmp_path)) == []
    assert all(port_is_closed(port) for port in ports), ports
    assert [p.name for p in tmp_path.glob("link-cli-demo-*")] == []


def test_auto_approve_runs_both_flows_to_succeeded_and_stops_everything(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    # A proxy setting (here a closed port) must not reroute the demo's loopback traffic.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    completed = subprocess.run(
        [LINK_CLI, "demo", "--auto-approve", "--format", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines, summary = split_output(completed.stdout)
    assert summary["flows"]["card"]["status"] == "succeeded"
    assert summary["flows"]["spt"]["status"] == "succeeded"
    assert summary["flows"]["card"]["spend_request"].startswith("lsrq_")
    assert summary["servers"] == "stopped"
    # Each step is reported as it completes, none failed, and the story is in order.
    assert lines and not any(line.startswith("✗") for line in lines)
    steps = [line for line in lines if line.startswith("✓")]
    order = [
        "Agent inspects the merchant (link-cli merchant inspect) — credential type card",
        "Agent creates a card spend request",
        "Agent retrieves the card into a private file",
        "Agent pays at the shop's checkout form",
        "merchant inspect) — credential type shared_payment_token, network id",
        "Agent calls the paid API",
        "Agent decodes the challenge",
        "Agent pays with the token",
    ]
    positions = [next(i for i, s in enumerate(steps) if title in s) for title in order]
    assert positions == sorted(positions)
    # The card number is only ever in the 0600 file, never on stdout.
    assert not re.search(r"\b4000\d{12}\b", completed.stdout)
    ports = [int(port) for port in URL.findall(completed.stdout)]
    assert len(set(ports)) == 2
    assert_nothing_left(tmp_path, ports)


def test_without_auto_approve_it_needs_a_terminal(tmp_path: Path) -> None:
    completed = subprocess.run(
        [LINK_CLI, "demo", "--format", "json"],
        env=demo_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 1
    assert json.loads(completed.stdout) == {
        "code": "REQUIRES_TTY",
        "message": "The demo command requires an interactive terminal.",
    }
    assert processes_mentioning(str(tmp_path)) == []


def test_ctrl_c_stops_the_servers_it_started(tmp_path: Path) -> None:
    # At a terminal and without --auto-approve the demo waits for the person to approve the
    # agent's login, so the interrupt provably lands while its servers run, however loaded
    # the machine.
    master, slave = pty.openpty()
    env = demo_env(tmp_path)
    env.update(TERM="xterm", NO_UPDATE_NOTIFIER="1")
    env.pop("DISPLAY", None)  # no browser to open here
    demo = subprocess.Popen(
        [LINK_CLI, "demo", "--only-card"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=default_ctrl_c,
    )
    os.close(slave)
    screen = ""
    try:
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        while "/device/setup" not in screen and time.monotonic() < deadline:
            if demo.poll() is not None:
                break
            screen += ANSI.sub("", read_available(master, 0.5))
        assert "/device/setup" in screen, screen
        servers = processes_mentioning(str(tmp_path))
        assert len(servers) >= 3  # the demo itself, its wallet and its shop

        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        # Keep reading: a demo blocked writing to a full terminal could never finish its exit.
        deadline = time.monotonic() + 60
        while demo.poll() is None and time.monotonic() < deadline:
            screen += ANSI.sub("", read_available(master, 0.5))
        screen += ANSI.sub("", read_available(master, 0.5))
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
        os.close(master)

    assert demo.returncode == 130, screen
    ports = [int(port) for port in URL.findall(screen)]
    assert ports, screen
    assert_nothing_left(tmp_path, ports)


def test_keep_leaves_the_servers_running_and_says_where(tmp_path: Path) -> None:
    completed = subprocess.run(
        [LINK_CLI, "demo", "--auto-approve", "--only-spt", "--keep", "--format", "json"],
        env=demo_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
        check=False,
    )
    kept = re.search(r"wallet pid (\d+), shop pid (\d+)\); files in (\S+)", completed.stdout)
    pids = [int(kept.group(1)), int(kept.group(2))] if kept else []
    try:
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert kept is not None, completed.stdout
        _, summary = split_output(completed.stdout)
        assert summary["servers"] == "left running (--keep)"
        assert summary["flows"]["spt"]["status"] == "succeeded"
        with urllib.request.urlopen(f"{summary['wallet_url']}/healthz", timeout=5) as response:
            assert response.status == 200
        assert Path(kept.group(3)).is_dir()
        # Off a terminal too, it says how to sign in to the wallet it leaves running.
        sign_in = re.search(
            r"Sign in to the wallet at (\S+)\n\s+email: (\S+)\n\s+password: (\S+)",
            completed.stdout,
        )
        assert sign_in is not None, completed.stdout
        assert sign_in.group(1) == summary["sign_in"]["url"] == f"{summary['wallet_url']}/wallet"
        assert f"Stop them with: kill {pids[0]} {pids[1]}" in completed.stdout
        from link_cli.demo.person import WalletPerson

        WalletPerson(summary["wallet_url"], sign_in.group(2), sign_in.group(3)).sign_in()
    finally:
        for pid in pids:  # each server leads its own process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
