"""The ``link-cli`` console script: argv → handler → rendered output → exit code.

This is the only place that catches :class:`~link_cli.errors.LinkError` and turns it
into printed output (contract §5.1) and exit code 1 (contract §1.7). Everything printed goes to stdout;
stderr carries only verbose logs, warnings and the spinner. Imports are kept to the
stdlib and the registry so ``--version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import os
import sys
import time

from link_cli.errors import LinkError, Unknown

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, TextIO

DEBUG_ENV = "LINK_CLI_DEBUG"
PROGRAM = "link-cli"


def _write(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _write_rendered(out: TextIO, text: str) -> None:
    """Rendered output; nothing at all when it is empty (Markdown of an empty list), as incur."""
    if text:
        _write(out, text)


def _error_line(error: LinkError) -> str:
    """The plain error line of a streaming command (contract §5.1), then any suggestion (contract §14.6 fix)."""
    if error.code in ("UNKNOWN", "COMMAND_NOT_FOUND"):
        line = f"Error: {error.message}"
    else:
        line = f"Error ({error.code}): {error.message}"
    if error.cta:
        line += f"\n\n{error.cta.get('description', '')}"
        for entry in error.cta.get("commands", []):
            note = f"  # {entry['description']}" if entry.get("description") else ""
            line += f"\n  {entry['command']}{note}"
    return line


def _as_link_error(exc: BaseException) -> LinkError:
    """Map anything a handler raised to a LinkError (SDK errors keep their message)."""
    if isinstance(exc, LinkError):
        return exc
    if os.environ.get(DEBUG_ENV) == "1":
        raise exc
    return Unknown(str(exc) or type(exc).__name__)


class _Runner:
    """Executes one parsed invocation and prints its output."""

    def __init__(self, invocation: Any, pre: Any, out: TextIO, human: bool) -> None:
        self.invocation = invocation
        self.command = invocation.command
        self.flags = invocation.flags
        self.pre = pre
        self.out = out
        self.human = human
        self.fmt = self.flags.format or "toon"
        self.started = time.monotonic()

    def meta(self, cta: dict[str, Any] | None = None) -> dict[str, Any]:
        elapsed = round((time.monotonic() - self.started) * 1000)
        meta: dict[str, Any] = {"command": self.command.name, "duration": f"{elapsed}ms"}
        if cta:
            meta["cta"] = cta
        return meta

    def render(self, value: Any, fmt: str | None = None) -> str:
        from link_cli.cli.render import render

        return render(value, fmt or self.fmt)

    def context(self) -> Any:
        from link_cli.commands._context import Context

        return Context(
            agent=not self.human,
            format=self.fmt,
            format_explicit=self.flags.format_explicit,
            verbose=self.pre.verbose,
            auth_path=self.pre.auth_path,
            auth_given=self.pre.auth_given,
            env=os.environ,
        )

    def run(self) -> int:
        from link_cli.commands._invoke import invoke

        chunks: list[Any] = []
        printed = False
        try:
            result = invoke(self.command, self.invocation.raw, self.context())
        except Exception as exc:
            # Validation and the auth middleware run before a streaming command's body (incur
            # does the same), so their errors print as plain error objects in every format.
            self.failure(_as_link_error(exc), streamed=False, before_stream=True)
            return 1
        try:
            if self.human:
                from link_cli.cli import tty

                return tty.present(self.command, result, self.out)
            if not self.command.streaming:
                self.success(result)
                return 0
            for chunk in result:
                chunks.append(chunk)
                if self.incremental():
                    self.emit_chunk(chunk)
                    printed = True
            self.stream_done(chunks)
            return 0
        except Exception as exc:
            error = _as_link_error(exc)
            self.failure(error, streamed=printed)
            return 1

    def incremental(self) -> bool:
        return self.fmt == "jsonl" or not self.flags.format_explicit

    def emit_chunk(self, chunk: Any) -> None:
        if self.fmt == "jsonl":
            from link_cli.cli.render.json import compact

            _write(self.out, compact({"type": "chunk", "data": chunk}))
        else:
            _write(self.out, self.render(chunk, "toon"))

    def stream_done(self, chunks: list[Any]) -> None:
        if self.fmt == "jsonl":
            from link_cli.cli.render.json import compact

            _write(self.out, compact({"type": "done", "ok": True, "meta": self.meta()}))
        elif not self.incremental():
            self.success(chunks)

    def success(self, value: Any) -> None:
        if self.flags.full_output:
            value = {"ok": True, "data": value, "meta": self.meta()}
        _write_rendered(self.out, self.render(value))

    def failure(self, error: LinkError, *, streamed: bool, before_stream: bool = False) -> None:
        if self.human:
            from link_cli.cli import tty

            tty.present_error(error, self.command, self.out)
            return
        streaming = self.command.streaming and not before_stream
        body = error.to_dict()  # contract §14.6 fix: the official CLI drops CTAs when streaming
        if streaming and self.fmt == "jsonl":
            from link_cli.cli.render.json import compact

            _write(self.out, compact({"type": "error", "ok": False, "error": body}))
        elif streaming and self.incremental():
            _write(self.out, _error_line(error))
        elif self.flags.full_output:  # the envelope carries the suggestion in meta (contract §1.4)
            body = error.to_dict(include_cta=False)
            envelope = {"ok": False, "error": body, "meta": self.meta(error.cta)}
            _write_rendered(self.out, self.render(envelope))
        else:
            _write_rendered(self.out, self.render(body))


def _print_error_early(
    error: LinkError, out: TextIO, human: bool, flags: Any = None, started: float = 0.0
) -> int:
    """Errors before a command runs (bad flags, unknown command), in the chosen format.

    As incur does: ``--format`` applies once it has been read (an invalid ``--format`` value
    itself is rendered as toon, contract §1.4), and ``--full-output`` gives the envelope.
    """
    if human:
        from link_cli.cli import tty

        tty.present_error(error, None, out)
        return 1
    from link_cli.cli.render import render

    fmt = (flags.format if flags is not None else None) or "toon"
    if flags is not None and flags.full_output:
        elapsed = round((time.monotonic() - started) * 1000)
        meta: dict[str, Any] = {"command": getattr(error, "token", None) or PROGRAM}
        if error.cta:
            meta["cta"] = error.cta
        meta["duration"] = f"{elapsed}ms"
        body = {"ok": False, "error": error.to_dict(include_cta=False), "meta": meta}
        _write(out, render(body, fmt))
    else:
        _write(out, render(error.to_dict(), fmt))
    return 1


def _run_mcp(pre: Any) -> int:
    if pre.auth_given and pre.auth_path:
        os.environ["LINK_AUTH_FILE"] = pre.auth_path  # --auth still applies (contract §9.4)
    try:
        from link_cli.mcp.stdio import main as mcp_main
        from link_cli.mcp.stdio import require_sdk

        require_sdk()
    except ImportError as exc:
        raise Unknown(f"The MCP server is not available in this build: {exc}") from exc
    return int(mcp_main() or 0)


def _meta_output(invocation: Any, out: TextIO, human: bool) -> int | None:
    """--version, --help, --schema, --llms, --llms-full; None when a command should run."""
    flags = invocation.flags
    if flags.version:
        from link_cli import __version__

        _write(out, __version__)
        return 0
    if flags.llms or flags.llms_full:
        from link_cli.commands import _manifest

        if flags.format and flags.format != "md":  # md is the Markdown reference, as in incur
            from link_cli.cli.render import render

            manifest = _manifest.llms_manifest(invocation.path, full=flags.llms_full)
            _write(out, render(manifest, flags.format))
        elif flags.llms_full:
            _write(out, _manifest.llms_full(invocation.path))
        else:
            _write(out, _manifest.llms_index(invocation.path))
        return 0
    if invocation.command is None or flags.help:
        from link_cli.cli import help as help_text

        if invocation.command is None:
            _write(out, help_text.group_help(invocation.path))
        else:
            _write(out, help_text.command_help(invocation.command))
        return 0
    if flags.schema:
        from link_cli.cli.render import render
        from link_cli.commands import _manifest

        _write(out, render(_manifest.command_schema(invocation.command), flags.format or "toon"))
        return 0
    return None


def run(argv: Iterable[str], out: TextIO | None = None) -> int:
    """Run link-cli with ``argv`` (without the program name); return the exit code."""
    out = out or sys.stdout
    argv = list(argv)
    if argv == ["--version"]:  # the common case, answered before the registry loads
        from link_cli import __version__

        _write(out, __version__)
        return 0
    from link_cli.cli.parser import parse_command, parse_globals, preprocess

    started = time.monotonic()
    pre = preprocess(argv)
    is_tty = out.isatty()
    try:
        flags, rest = parse_globals(pre.argv)
    except LinkError as error:
        return _print_error_early(error, out, is_tty and "--format" not in pre.argv)
    human = is_tty and not flags.format_explicit
    try:
        invocation = parse_command(flags, rest, pre.argv)
        if invocation.flags.mcp:
            return _run_mcp(pre)
        done = _meta_output(invocation, out, human)
    except LinkError as error:
        return _print_error_early(error, out, human, flags, started)
    if done is not None:
        return done
    return _Runner(invocation, pre, out, human).run()


def main() -> None:
    """Console-script entry point."""
    try:
        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): silence the final flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
