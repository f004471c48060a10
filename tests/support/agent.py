"""The agent's side: the real ``link-cli`` as a subprocess against a real ``link-wallet``.

An :class:`Agent` is one credentials file plus the environment pointing at a wallet;
``login`` does the whole device flow the way an agent does: ``auth login`` runs in the
background, the test reads the first chunk, the person approves through the wallet's
real forms, and the command finishes on its own. :class:`BackgroundLogin` is the same
login left running while a browser test answers it.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.environment import clean_env

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
RUN_TIMEOUT = 60
LINE_TIMEOUT_SECONDS = 30.0
CONTEXT = (
    "Buying one blue widget for the user's desk project, as they asked in chat a minute ago; "
    "they want it delivered this week."
)


@dataclass
class Agent:
    """An agent process environment: its own credentials file, pointed at ``base_url``."""

    base_url: str
    auth_file: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env()
        env.update(
            LINK_API_BASE_URL=self.base_url,
            LINK_AUTH_BASE_URL=self.base_url,
            LINK_AUTH_FILE=str(self.auth_file),
            NO_UPDATE_NOTIFIER="1",
        )
        env.update(extra)
        return env

    def run(
        self, *args: str, timeout: float = RUN_TIMEOUT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``link-cli <args>`` to completion (stdout is not a TTY: agent mode)."""
        return subprocess.run(
            [LINK_CLI, *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def json(self, *args: str, **env: str) -> tuple[int, Any]:
        """Run with ``--format json``; return (exit code, parsed stdout)."""
        result = self.run(*args, "--format", "json", **env)
        try:
            return result.returncode, json.loads(result.stdout)
        except ValueError as exc:
            raise AssertionError(f"not JSON: {result.stdout!r} / {result.stderr!r}") from exc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start ``link-cli <args>`` in the background with a readable stdout."""
        return subprocess.Popen(
            [LINK_CLI, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env(),
        )


def finish(process: subprocess.Popen[str], timeout: float = RUN_TIMEOUT) -> tuple[int, str]:
    """Wait for a background command (killing it if it overruns); (code, rest of stdout)."""
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, out


def login(agent: Agent, person: Any) -> list[dict[str, Any]]:
    """``auth login --interval`` in the background, approved by ``person``; the chunks."""
    process = agent.popen(
        "auth", "login", "--interval", "0.2", "--timeout", "30", "--format", "jsonl"
    )
    try:
        first = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        person.approve_device(first["data"]["verification_url"])
    finally:
        code, rest = finish(process)
    assert code == 0, rest
    lines = [first] + [json.loads(line) for line in rest.splitlines()]
    assert lines[-1]["type"] == "done", lines
    return [line["data"] for line in lines[:-1]]


class BackgroundLogin:
    """A running ``link-cli auth login`` that waits for the person's answer."""

    def __init__(self, wallet_url: str, auth_file: Path, client_name: str) -> None:
        self.process = Agent(wallet_url, auth_file).popen(
            "auth",
            "login",
            "--client-name",
            client_name,
            "--interval",
            "1",
            "--max-attempts",
            "120",
            "--format",
            "jsonl",
        )
        first = self._next_line()
        assert first["type"] == "chunk", first
        self.verification_url: str = first["data"]["verification_url"]
        self.phrase: str = first["data"]["phrase"]

    def _next_line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=LINE_TIMEOUT_SECONDS):
                raise AssertionError("link-cli auth login printed nothing in time")
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"link-cli auth login ended early: {self.stderr()}")
        return json.loads(line)

    def finish(self, timeout: float = LINE_TIMEOUT_SECONDS) -> tuple[int, list[dict[str, Any]]]:
        """Wait for the login to end; returns its exit code and remaining JSONL lines."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        finally:
            self.stop()
        return self.process.returncode, [json.loads(line) for line in out.splitlines() if line]

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def stop(self) -> None:
        """Kill the process if it still runs (a failed test must not leave it polling)."""
        if self.process.poll() is None:
            self.process.kill()
            deadline = time.monotonic() + 10
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
