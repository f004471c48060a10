"""Drive the real ``link-cli`` as a subprocess against a real ``link-wallet`` (e2e tests).

An :class:`Agent` is one credentials file plus the environment pointing at a wallet;
``login`` does the whole device flow the way an agent does: ``auth login`` runs in the
background, the test reads the first chunk, the person approves through the wallet's
real forms, and the command finishes on its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
RUN_TIMEOUT = 60
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
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINK_")}
        env.update(
            LINK_API_BASE_URL=self.base_url,
            LINK_AUTH_BASE_URL=self.base_url,
            LINK_AUTH_FILE=str(self.auth_file),
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
