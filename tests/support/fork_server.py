"""Wallet processes forked from a server that imported the wallet once per test process.

A fresh interpreter running ``link-wallet serve`` spends about a second importing FastAPI,
SQLAlchemy and the wallet before it serves anything; the suite starts dozens of wallets. The
fork server (``python -m tests.support.fork_server``, one per test process, started on first
use) imports them once; each wallet is then a ``fork`` of it that sets up what a fresh
``link-wallet <argv>`` would have (its own environment, working directory, stdin from
/dev/null, stdout and stderr unbuffered into a log file) and runs ``link_cli.wallet.cli.main``,
the function behind the console script. Each wallet is its own OS process: signals, SIGKILL
crashes and several processes on one database behave as they do in production.

    server = fork_server()                        # started once per test process
    child = server.start(["serve", ...], env, log_path, cwd)
    child.poll(); child.wait(10); child.send_signal(signal.SIGTERM); child.kill()
    stop_fork_server()                            # kills what is left, waits for the server

Commands (``link-wallet user create …``) run the same way through ``server.run(argv, env, cwd,
input_text=…)``, which returns what ``subprocess.run`` would.

Protocol, one JSON object per line: requests ``{"argv", "env", "log", "cwd"}`` (and optionally
``"stdin"``, ``"stdout"``, ``"stderr"`` file paths) on the server's
stdin; ``{"started": pid}`` and ``{"exited": pid, "code": exit_code}`` on its stdout (the server
reaps its children, so their CPU time counts in the test process's children too). When its
stdin closes, the server kills the children still running, reaps them and exits.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0

# Imported once by the server, so that every wallet forked from it starts warm.
PRELOAD = (
    "link_cli.wallet.cli",
    "link_cli.wallet.app",
    "link_cli.wallet.store.migrations",
    "link_cli.wallet.cli_manage",
    "link_cli.wallet.cli_merchant",
    "link_cli.wallet.services.manage",
    "uvicorn",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.lifespan.on",
    "psycopg",
)


# -- the server --------------------------------------------------------------------------------


def _redirect(path: str, fd: int, flags: int) -> None:
    opened = os.open(path, flags, 0o600)
    os.dup2(opened, fd)
    os.close(opened)


def _run_child(request: dict[str, Any]) -> int:
    """In the forked child: a fresh ``link-wallet <argv>``'s surroundings, then its main.

    A server's stdout and stderr go to one log file (``log``); a command's may go to two
    files (``stdout``, ``stderr``) and read its ``stdin`` from one, as ``subprocess.run``'s
    pipes would.
    """
    appending = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    _redirect(request.get("stdin") or os.devnull, 0, os.O_RDONLY)
    _redirect(request.get("stdout") or request["log"], 1, appending)
    _redirect(request.get("stderr") or request["log"], 2, appending)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    # As with PYTHONUNBUFFERED=1: every line reaches the log at once.
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stdout.reconfigure(write_through=True)
    sys.stderr.reconfigure(write_through=True)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = ["link-wallet", *request["argv"]]
    from link_cli.wallet.cli import main

    return main(request["argv"])


def _fork(request: dict[str, Any], closing: list[int]) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for descriptor in closing:
            os.close(descriptor)
        # What a fresh interpreter starts with (the server ignores SIGINT, reaps SIGCHLD).
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        code = _run_child(request)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve() -> None:
    """The server's loop: fork on each request, report each exit; on EOF, end the rest."""
    for name in PRELOAD:
        importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.fileno()
    replies = sys.stdout.fileno()
    children: set[int] = set()
    pending = b""
    open_ = True

    def reply(message: dict[str, int]) -> None:
        os.write(replies, (json.dumps(message) + "\n").encode())

    def reap() -> None:
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            children.discard(pid)
            reply({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    while open_ or children:
        watched = [requests, wake_r] if open_ else [wake_r]
        try:
            ready, _, _ = select.select(watched, [], [])
        except InterruptedError:
            ready = []
        with contextlib.suppress(BlockingIOError):
            os.read(wake_r, 512)
        reap()
        if requests in ready:
            chunk = os.read(requests, 65536)
            if not chunk:
                open_ = False
                for pid in children:  # a wallet a test left running
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                continue
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                pid = _fork(json.loads(line), [wake_r, wake_w])
                children.add(pid)
                reply({"started": pid})


# -- the test process's side -------------------------------------------------------------------


class ForkedProcess:
    """One forked wallet, seen through the part of ``subprocess.Popen`` tests use."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self._server = server
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        return self._server.exit_code(self.pid)

    def poll(self) -> int | None:
        return self._server.exit_code(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.wait_for_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired("link-wallet", timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # never signal a pid that was reaped (and may be reused)
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The test process's handle on its fork server."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINK_")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fork_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
            env=env,
        )
        self._lock = threading.Lock()
        self._exited = threading.Condition()
        self._codes: dict[int, int] = {}
        self._started: queue.Queue[int | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="fork-server", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            if "started" in message:
                self._started.put(message["started"])
            else:
                with self._exited:
                    self._codes[message["exited"]] = message["code"]
                    self._exited.notify_all()
        self._started.put(None)  # the server is gone: no start can complete

    def start(self, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> ForkedProcess:
        """Fork ``link-wallet <argv>`` (without the program name)."""
        return self._start({"argv": argv, "env": env, "log": str(log), "cwd": str(cwd)})

    def run(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        *,
        input_text: str | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """``link-wallet <argv>`` to completion, as ``subprocess.run(..., capture_output=True,
        text=True)`` would run the console script: ``input_text`` on its stdin (else
        /dev/null), its stdout, stderr and exit code returned."""
        with tempfile.TemporaryDirectory(prefix="link-wallet-run-") as scratch:
            files = {name: Path(scratch, name) for name in ("stdin", "stdout", "stderr")}
            files["stdin"].write_text(input_text or "", encoding="utf-8")
            request = {"argv": argv, "env": env, "cwd": str(cwd), "log": os.devnull}
            request |= {name: str(path) for name, path in files.items()}
            child = self._start(request)
            try:
                code = child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)
                raise
            return subprocess.CompletedProcess(
                ["link-wallet", *argv],
                code,
                files["stdout"].read_text(encoding="utf-8"),
                files["stderr"].read_text(encoding="utf-8", errors="backslashreplace"),
            )

    def _start(self, request: dict[str, Any]) -> ForkedProcess:
        with self._lock:
            assert self._process.stdin is not None
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            try:
                pid = self._started.get(timeout=START_TIMEOUT_SECONDS)
            except queue.Empty:
                pid = None
        if pid is None:
            raise RuntimeError("the wallet fork server did not answer")
        return ForkedProcess(self, pid)

    def exit_code(self, pid: int) -> int | None:
        with self._exited:
            return self._codes.get(pid)

    def wait_for_exit(self, pid: int, timeout: float | None) -> int | None:
        with self._exited:
            self._exited.wait_for(lambda: pid in self._codes, timeout)
            return self._codes.get(pid)

    def stop(self) -> None:
        """Close its stdin: it kills the wallets still running, reaps them and exits."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=60)
        self._reader.join(timeout=10)


_SERVER: list[ForkServer] = []
_SERVER_LOCK = threading.Lock()


def fork_server() -> ForkServer:
    """This test process's fork server (started on first use)."""
    with _SERVER_LOCK:
        if not _SERVER:
            _SERVER.append(ForkServer())
        return _SERVER[0]


def stop_fork_server() -> None:
    """Stop this test process's fork server, if it was started, and wait for it."""
    with _SERVER_LOCK:
        if _SERVER:
            _SERVER.pop().stop()


if __name__ == "__main__":
    serve()
