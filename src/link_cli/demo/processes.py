"""Start the demo's servers as child processes and always stop them again.

The demo runs a real ``link-wallet`` and the demo merchant, each on a free loopback port,
each in its own session (process group) so that a Ctrl-C in the terminal reaches the demo
first and the demo shuts them down in order, rather than three processes racing to print
tracebacks. Their output goes to log files in the demo directory; when one dies during
start-up the tail of its log is the error message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ProcessStartError",
    "ServerProcess",
    "ServerSupervisor",
    "free_loopback_port",
    "program_argv",
]

_READY_POLL_SECONDS = 0.1
_STOP_GRACE_SECONDS = 5.0
_LOG_TAIL_LINES = 20


class ProcessStartError(RuntimeError):
    """A server exited or never answered during start-up; the message carries its log.

    ``exited`` tells the two apart: only an early exit (say, the port was taken in the
    meantime) is worth another try.
    """

    def __init__(self, message: str, *, exited: bool) -> None:
        super().__init__(message)
        self.exited = exited


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def program_argv(program: str) -> list[str]:
    """How to run one of this package's console scripts (``link-cli``, ``link-wallet``).

    The script installed beside the running interpreter is preferred, so the demo runs the
    same installation it was started from, never some other one on ``PATH``.
    """
    beside = Path(sys.executable).with_name(program)
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    modules = {"link-cli": "link_cli.cli.main", "link-wallet": "link_cli.wallet.cli"}
    module = modules[program]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


@dataclass
class ServerProcess:
    """One started server: its name (for messages), process, base URL and log file."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        """Process id (also its process-group id: each server leads its own session)."""
        return self.process.pid

    def log_tail(self) -> str:
        """The last lines the server wrote, for error messages."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])


@dataclass
class ServerSupervisor:
    """Owns every server the demo starts; :meth:`stop_all` stops them in reverse order."""

    log_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        base_url: str,
        env: dict[str, str],
        health_path: str,
        timeout_seconds: float = 30.0,
    ) -> ServerProcess:
        """Start ``argv`` and wait until ``GET base_url + health_path`` answers 2xx.

        Raises :class:`ProcessStartError` if the process exits first or the deadline
        passes; the process is stopped before any error (Ctrl-C included) propagates.
        """
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log:  # a retry starts a fresh log
            process = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = ServerProcess(name=name, process=process, base_url=base_url, log_path=log_path)
        self.servers.append(server)
        try:
            self._wait_ready(server, base_url + health_path, timeout_seconds)
        except BaseException:
            self.stop(server)
            raise
        return server

    def _wait_ready(self, server: ServerProcess, url: str, timeout_seconds: float) -> None:
        attempts = max(1, int(timeout_seconds / _READY_POLL_SECONDS))
        for _ in range(attempts):
            if server.process.poll() is not None:
                raise ProcessStartError(
                    f"{server.name} exited with status {server.process.returncode} "
                    f"during start-up:\n{server.log_tail()}",
                    exited=True,
                )
            if _answers(url):
                return
            time.sleep(_READY_POLL_SECONDS)
        raise ProcessStartError(
            f"{server.name} did not answer {url} within {timeout_seconds:.0f} s:\n"
            f"{server.log_tail()}",
            exited=False,
        )

    def stop(self, server: ServerProcess) -> None:
        """Stop one server: SIGTERM to its process group, then SIGKILL after a grace period."""
        process = server.process
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=_STOP_GRACE_SECONDS)
        else:
            # The leader is gone; anything it left in its group goes too.
            _signal_group(process.pid, signal.SIGKILL)
        if server in self.servers:
            self.servers.remove(server)

    def stop_all(self) -> None:
        """Stop every server still running, newest first (the merchant needs the wallet)."""
        for server in reversed(list(self.servers)):
            self.stop(server)

    def detach_all(self) -> list[ServerProcess]:
        """Forget the servers without stopping them (``--keep``); returns them."""
        kept, self.servers = self.servers, []
        return kept


def _answers(url: str) -> bool:
    try:
        # No proxy: the servers are on loopback, whatever http_proxy says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=2.0) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
