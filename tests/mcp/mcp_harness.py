"""Helpers of the MCP tests: the link-cli executable, isolated environments, `serve` processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.environment import clean_env

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
STARTUP_SECONDS = 30


def closed_loopback_url() -> str:
    """A loopback URL where nothing listens, so a stray request fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a link-cli child: no LINK_* from outside, own credential file,
    and Link URLs that go nowhere (tests that need a wallet override them)."""
    env = clean_env()
    env["LINK_AUTH_FILE"] = str(tmp_path / "auth.json")
    nowhere = closed_loopback_url()
    env["LINK_API_BASE_URL"] = nowhere
    env["LINK_AUTH_BASE_URL"] = nowhere
    return env


@dataclass
class ServeProcess:
    """A running `link-cli serve`; ``banner`` is everything it wrote to stderr at start."""

    process: subprocess.Popen[str]
    host: str
    port: int
    banner: list[str]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"


def start_serve(env: dict[str, str], *args: str, host: str = "127.0.0.1") -> ServeProcess:
    """Start `link-cli serve --port 0` and wait for its listening line (bounded)."""
    process = subprocess.Popen(
        [LINK_CLI, "serve", "--host", host, "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    banner: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break  # exited
        banner.append(line.rstrip("\n"))
        prefix = "link-cli MCP server listening on http://"
        if line.startswith(prefix):
            port = int(line.rstrip().rsplit(":", 1)[1].split("/", 1)[0])
            return ServeProcess(process, host, port, banner)
    stop(process)
    raise AssertionError(f"link-cli serve did not start: {banner}")


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate, then kill if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
