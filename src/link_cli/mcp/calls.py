"""Running one tool call: arguments in, handler in a worker thread, result or error out.

The handler is the CLI's own (``commands._invoke.invoke``), run in agent mode with JSON
output, so a tool behaves exactly as ``link-cli <command> --format json``. Two things
are MCP's own:

* arguments: camelCase names as ``--schema`` shows them, snake_case accepted too; a
  lone object or string where a list is expected (``metadata: {...}``,
  ``include: "card"``) counts as a one-element list; unknown names are refused;
* blocking: the handler runs in a worker thread. Each streamed chunk is handed to
  ``on_chunk`` as it is produced (progress notifications), and a cancelled call wakes
  the poller's sleep and stops the handler there.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread

from link_cli.commands import Command, strip_undefined
from link_cli.commands._context import Context
from link_cli.commands._spec import camel
from link_cli.errors import CommandNotFound, LinkError, Unknown, ValidationError
from link_cli.mcp import tools

ChunkCallback = Callable[[int, Any], Awaitable[None]]


class ToolCancelled(BaseException):
    """Raised inside the worker when the client cancelled the call.

    A BaseException, so a handler's ``except Exception`` cannot swallow it and keep polling.
    """


@dataclass(frozen=True)
class Outcome:
    """What a tool call produced: a JSON-ready value, or the CLI error object."""

    value: Any = None
    error: dict[str, Any] | None = None


def _cancellable_sleep(cancelled: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if cancelled.wait(max(seconds, 0)):
            raise ToolCancelled

    return sleep


def _unknown_argument(command: Command, key: str) -> ValidationError:
    known = [a.name for a in command.args] + [o.name for o in command.options]
    message = f'Unrecognized argument "{key}" for {command.tool_name}. Known: {", ".join(known)}'
    return ValidationError(
        message,
        field_errors=[
            {"code": "unrecognized_keys", "missing": False, "path": key, "message": message}
        ],
    )


def normalize_arguments(command: Command, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Map MCP arguments onto the command's declared names (see module docstring)."""
    options = {o.name: o for o in command.options}
    known = {a.name for a in command.args} | set(options)
    raw: dict[str, Any] = {}
    for key, value in arguments.items():
        name = key if key in known else camel(key.replace("_", "-"))
        if name not in known:
            raise _unknown_argument(command, key)
        if name in raw and key != name:
            continue  # the camelCase spelling wins over its snake_case twin
        option = options.get(name)
        if option is not None and option.repeatable and isinstance(value, (dict, str)):
            value = [value]
        raw[name] = value
    return raw


def _as_error_object(error: BaseException) -> dict[str, Any]:
    if not isinstance(error, LinkError):
        error = Unknown(str(error) or type(error).__name__)
    return error.to_dict(include_cta=True)


def _context(cancelled: threading.Event) -> Context:
    return Context(
        agent=True,
        format="json",
        format_explicit=True,
        env=os.environ,
        sleep=_cancellable_sleep(cancelled),
    )


def _run_blocking(
    command: Command,
    arguments: Mapping[str, Any],
    cancelled: threading.Event,
    emit: Callable[[Any], None],
) -> Outcome:
    from link_cli.commands._invoke import invoke

    try:
        raw = normalize_arguments(command, arguments)
        if command.path in tools.NON_BLOCKING_PATHS:
            raw["interval"] = 0
        result = invoke(command, raw, _context(cancelled))
        if not command.streaming:
            return Outcome(value=strip_undefined(result))
        chunks = []
        try:
            for chunk in result:
                if cancelled.is_set():
                    raise ToolCancelled
                chunk = strip_undefined(chunk)
                chunks.append(chunk)
                emit(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Outcome(value=chunks)
    except Exception as error:
        return Outcome(error=_as_error_object(error))


async def run_tool(name: str, arguments: Mapping[str, Any], *, on_chunk: ChunkCallback) -> Outcome:
    """Run tool ``name``; every failure comes back as ``Outcome.error``, never raised.

    Cancellation of the calling task is the exception: it stops the handler (at its next
    sleep or chunk) and propagates.
    """
    command = tools.find_tool_command(name)
    if command is None:
        return Outcome(error=CommandNotFound(f"Unknown tool: {name}").to_dict())
    cancelled = threading.Event()
    send, receive = anyio.create_memory_object_stream[Any](math.inf)

    def emit(chunk: Any) -> None:
        anyio.from_thread.run_sync(send.send_nowait, chunk)

    def work() -> Outcome:
        try:
            return _run_blocking(command, arguments, cancelled, emit)
        finally:
            anyio.from_thread.run_sync(send.close)

    async def forward_chunks() -> None:
        count = 0
        async with receive:
            async for chunk in receive:
                count += 1
                await on_chunk(count, chunk)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(forward_chunks)
            outcome = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except BaseException:
        cancelled.set()  # wakes the worker's sleep; it stops without another request
        raise
    return outcome
