"""`link-cli --mcp`: the MCP server on stdin/stdout (contract §9.4).

Newline-delimited JSON-RPC on the process's own stdin and stdout. While it runs, fd 0 reads
the null device and fd 1 points at stderr, so nothing a handler reads or prints can touch the
protocol stream (the SDK's own stdio transport does the same).

Start-up: importing the official SDK costs 0.4-1 s (the pydantic models of every protocol
revision), while a client's first exchange — ``initialize`` then ``tools/list`` — needs only
the command registry. So the SDK loads in a background thread while this module answers
those two requests from the same data the SDK would use (:func:`early_initialize_result`,
:func:`early_tools`). When the SDK is ready it takes over: it is fed every line received so
far, in order, so its session reaches the state it would have reached answering them itself,
and its own answers to the requests already answered are dropped. Anything else (a tool
call, a ``ping``, a handshake version this module does not know) waits for the SDK.
tests/mcp/test_mcp_early_answers.py checks the early answers equal the SDK's.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import IO, Any

# The handshake revisions the SDK negotiates by echoing the client's (a test pins them to
# mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS); any other version waits for the SDK.
EARLY_PROTOCOL_VERSIONS = frozenset({"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"})

_READY = object()  # queue item: the SDK finished importing (or failed to)
_EOF = None  # queue item: the client closed stdin


def early_initialize_result(protocol_version: str) -> dict[str, Any]:
    """The ``initialize`` result the SDK's server gives for a handshake version it knows."""
    from link_cli import __version__
    from link_cli.mcp.instructions import INSTRUCTIONS, SERVER_NAME

    return {
        "capabilities": {"tools": {"listChanged": False}},
        "instructions": INSTRUCTIONS,
        "protocolVersion": protocol_version,
        "serverInfo": {"name": SERVER_NAME, "version": __version__},
    }


def early_tools() -> list[dict[str, Any]]:
    """The ``tools/list`` result's tools, as the SDK's server lists them."""
    from link_cli.mcp import discovery, tools

    return tools.tool_dicts() + discovery.discovery_tool_dicts()


class EarlySession:
    """Answers ``initialize`` and ``tools/list`` until the SDK is ready; records every line."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self.received: list[str] = []
        self.answered: set[Any] = set()
        self._initialized = False  # our initialize answered and notifications/initialized seen
        self._handshake = False  # our initialize answered
        self._deferred = False  # something we do not answer came first: the SDK answers all

    def handle(self, line: str) -> None:
        self.received.append(line)
        if self._deferred:
            return
        try:
            message = json.loads(line)
        except ValueError:
            self._deferred = True
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._deferred = True
            return
        method, params, ident = message.get("method"), message.get("params"), message.get("id")
        if not isinstance(params, dict | None) or isinstance(ident, bool | float | dict | list):
            self._deferred = True
            return
        params = params or {}
        if method == "initialize" and ident is not None and not self._handshake:
            version = params.get("protocolVersion")
            if version in EARLY_PROTOCOL_VERSIONS:
                self._answer(ident, early_initialize_result(version))
                self._handshake = True
                return
        elif method == "notifications/initialized" and self._handshake:
            self._initialized = True
            return
        elif (
            method == "tools/list"
            and ident is not None
            and self._initialized
            and "cursor" not in params
        ):
            self._answer(ident, {"tools": early_tools()})
            return
        self._deferred = True

    def _answer(self, ident: Any, result: dict[str, Any]) -> None:
        if ident in self.answered:  # a repeated id: let the SDK judge it
            self._deferred = True
            return
        self.answered.add(ident)
        self._write(json.dumps({"jsonrpc": "2.0", "id": ident, "result": result}) + "\n")


class _Wire:
    """The protocol's stdin/stdout on private descriptors; fd 0 and 1 diverted meanwhile."""

    def __init__(self) -> None:
        self._saved: list[tuple[int, int]] = []
        self.input: IO[bytes] = self._claim(0, os.O_RDONLY, "rb")
        self.output: IO[bytes] = self._claim(1, os.O_WRONLY, "wb")
        self._lock = threading.Lock()

    def _claim(self, fd: int, mode: int, file_mode: str) -> IO[bytes]:
        private = os.dup(fd)
        os.set_inheritable(private, False)
        diversion = os.dup(2) if fd == 1 else os.open(os.devnull, mode)
        os.dup2(diversion, fd)
        os.close(diversion)
        self._saved.append((fd, private))
        return os.fdopen(private, file_mode, closefd=False)

    def write(self, text: str) -> None:
        with self._lock:
            self.output.write(text.encode("utf-8"))
            self.output.flush()

    def restore(self) -> None:
        for fd, private in self._saved:
            with contextlib.suppress(OSError):
                os.dup2(private, fd)


def _read_lines(source: IO[bytes], lines: queue.Queue[Any]) -> None:
    for raw in iter(source.readline, b""):
        lines.put(raw.decode("utf-8", errors="replace"))
    lines.put(_EOF)


def _load_sdk(lines: queue.Queue[Any], failure: list[BaseException]) -> None:
    try:
        import anyio  # noqa: F401
        import mcp.server.stdio  # noqa: F401

        import link_cli.mcp.server  # noqa: F401
    except BaseException as exc:  # re-raised on the main thread
        failure.append(exc)
    finally:
        lines.put(_READY)


class Replay:
    """The SDK's stdin: the lines received so far, then the rest as they come."""

    def __init__(self, received: list[str], lines: queue.Queue[Any], eof: bool) -> None:
        self._pending = deque(received)
        self._lines = lines
        self._eof = eof

    def __aiter__(self) -> Replay:
        return self

    async def __anext__(self) -> str:
        import anyio.to_thread

        if self._pending:
            return self._pending.popleft()
        if self._eof:
            raise StopAsyncIteration
        line = await anyio.to_thread.run_sync(self._lines.get, abandon_on_cancel=True)
        if line is _EOF:
            self._eof = True
            raise StopAsyncIteration
        return str(line)


class Output:
    """The SDK's stdout: drops its answers to the requests answered early."""

    def __init__(self, write: Callable[[str], None], answered: set[Any]) -> None:
        self._write = write
        self._answered = set(answered)

    async def write(self, text: str) -> None:
        import anyio.to_thread

        if self._answered:
            message = json.loads(text)
            ident = message.get("id")
            if ("result" in message or "error" in message) and ident in self._answered:
                self._answered.discard(ident)
                return
        await anyio.to_thread.run_sync(self._write, text)

    async def flush(self) -> None:
        return None


async def serve(stdin: Replay, stdout: Output) -> None:
    from mcp.server.stdio import stdio_server

    from link_cli.mcp.server import build_server

    server = build_server()
    async with stdio_server(stdin, stdout) as (read_stream, write_stream):  # type: ignore[arg-type]
        await server.run(read_stream, write_stream, server.create_initialization_options())


def require_sdk() -> None:
    """Raise ImportError when the MCP SDK is not installed (found, not imported: that is the
    background thread's job), before anything is answered on its behalf."""
    from importlib.util import find_spec

    for name in ("mcp", "mcp_types", "anyio"):
        if find_spec(name) is None:
            raise ImportError(f"No module named {name!r}")


def main() -> int:
    """Serve MCP on stdio until the client closes stdin; returns the exit code."""
    wire = _Wire()
    try:
        lines: queue.Queue[Any] = queue.Queue()
        failure: list[BaseException] = []
        threading.Thread(target=_read_lines, args=(wire.input, lines), daemon=True).start()
        threading.Thread(target=_load_sdk, args=(lines, failure), daemon=True).start()
        early = EarlySession(wire.write)
        eof = False
        with contextlib.suppress(KeyboardInterrupt):
            while (item := lines.get()) is not _READY:
                if item is _EOF:
                    eof = True
                else:
                    early.handle(item)
            if failure:
                raise failure[0]
            import anyio

            stdin = Replay(early.received, lines, eof)
            anyio.run(serve, stdin, Output(wire.write, early.answered))
    finally:
        sys.stdout.flush()
        wire.restore()
    return 0
