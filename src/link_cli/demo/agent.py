"""The agent's side of the demo: the real ``link-cli``, run as a subprocess.

The demo does not call handlers in-process: it runs ``link-cli`` the way an agent does,
with ``--format json`` and its own credential file, pointed at the demo wallet, so what the
demo shows is the agent's real path (argv parsing, SDK, HTTP, output contract). Streaming
commands print an array of chunks in JSON (contract §2.3); this module hands back the last
chunk, which is the result.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from link_cli._sanitize import sanitize_text
from link_cli.demo.processes import program_argv

__all__ = ["AgentCommandError", "LinkCliAgent", "child_environment"]

_COMMAND_TIMEOUT_SECONDS = 120.0


class AgentCommandError(RuntimeError):
    """A ``link-cli`` run failed; carries the contract error code when there was one."""

    def __init__(self, command: str, code: str, message: str) -> None:
        super().__init__(f"`link-cli {command}` failed ({code}): {message}")
        self.code = code


_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a child process: ours without any ``LINK_*`` setting, plus ``extra``.

    A developer's own ``LINK_ACCESS_TOKEN`` or ``LINK_WALLET_DATABASE_URL`` must never
    leak into the demo: it would point the demo's programs at a real account or database.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINK_")}
    env["NO_UPDATE_NOTIFIER"] = "1"
    # Every server of the demo is on loopback: a proxy from the environment must not
    # carry the shop's calls to the wallet (or anything else) somewhere else.
    existing = (env.get("NO_PROXY") or env.get("no_proxy") or "").split(",")
    names = [name.strip() for name in existing if name.strip()] + list(_LOOPBACK_NAMES)
    env["NO_PROXY"] = env["no_proxy"] = ",".join(dict.fromkeys(names))
    env.update(extra)
    return env


@dataclass
class LinkCliAgent:
    """Runs ``link-cli`` against one wallet with a private credential file."""

    wallet_url: str
    auth_file: Path

    def run(self, *args: str, timeout: float = _COMMAND_TIMEOUT_SECONDS) -> Any:
        """Run ``link-cli <args> --format json`` and return its result.

        For a streaming command (a JSON array of chunks) the last chunk is returned.
        Raises :class:`AgentCommandError` on a non-zero exit, with the error object's
        code and message (sanitised: they come from the server).
        """
        argv = [*program_argv("link-cli"), *args, "--format", "json"]
        env = child_environment(
            {
                "LINK_API_BASE_URL": self.wallet_url,
                "LINK_AUTH_BASE_URL": self.wallet_url,
                "LINK_AUTH_FILE": str(self.auth_file),
            }
        )
        completed = subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        shown = shlex.join(args)
        try:
            output = json.loads(completed.stdout) if completed.stdout.strip() else None
        except json.JSONDecodeError:
            output = None
        if completed.returncode != 0:
            code, message = "UNKNOWN", (completed.stdout or completed.stderr).strip()
            if isinstance(output, dict):
                code = str(output.get("code", code))
                message = str(output.get("message", message))
            raise AgentCommandError(shown, sanitize_text(code), sanitize_text(message)[:500])
        if output is None:
            raise AgentCommandError(shown, "INVALID_OUTPUT", "no JSON on stdout")
        if isinstance(output, list) and output and _is_streaming(args):
            return output[-1]
        return output


# Commands whose JSON output is the array of their chunks (contract §2.3).
_STREAMING = {
    ("auth", "login"),
    ("auth", "upgrade"),
    ("auth", "status"),
    ("spend-request", "create"),
    ("spend-request", "retrieve"),
    ("spend-request", "request-approval"),
    ("mpp", "pay"),
}


def _is_streaming(args: tuple[str, ...]) -> bool:
    return tuple(args[:2]) in _STREAMING
