"""Show the demo's steps as they happen: a spinner on a terminal, plain lines otherwise.

Every step ends in one line — ``✓ title — detail`` or ``✗ title — reason`` — so the
output read in a log (``make demo`` in CI) tells the same story as the live terminal. On a
terminal the line is preceded by a spinner while the step runs. All text that came from a
server passes through :func:`sanitize_text` before it is written.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from typing import TextIO

from link_cli._sanitize import sanitize_text

__all__ = ["Step", "StepReporter"]

_SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_SPINNER_SECONDS = 0.08
_CLEAR_LINE = "\r\x1b[2K"
_GREEN, _RED, _DIM, _BOLD, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[0m"


class Step:
    """A running step; set :attr:`detail` to say what it achieved."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.detail = ""


class StepReporter:
    """Writes step lines to ``stream``; ``interactive`` turns on spinner and colour."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._lock = threading.Lock()
        self._spinning: Step | None = None
        self._started = False

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Step]:
        """Run a step: spinner while the body runs, then its ✓ or ✗ line.

        The exception that fails the step propagates after its ✗ line is written.
        """
        step = Step(title)
        stop = threading.Event()
        spinner = None
        if self._interactive:
            self._spinning = step
            spinner = threading.Thread(target=self._spin, args=(step, stop), daemon=True)
            spinner.start()
        try:
            yield step
        except BaseException as error:
            self._finish(step, stop, spinner, ok=False, detail=_reason(error))
            raise
        self._finish(step, stop, spinner, ok=True, detail=step.detail)

    def note(self, text: str) -> None:
        """Print lines (a URL, a QR code) above the spinner without breaking it."""
        with self._lock:
            if self._interactive and self._spinning is not None:
                self._stream.write(_CLEAR_LINE)
            self._stream.write(text.rstrip("\n") + "\n")
            self._stream.flush()
            self._started = True

    def heading(self, text: str) -> None:
        """A section title (``Card flow``), set apart by a blank line."""
        title = f"{_BOLD}{text}{_RESET}" if self._interactive else text
        self.note(f"\n{title}" if self._started else title)

    def line(self, text: str, *, dim: bool = False) -> None:
        """A plain line of output (summary rows, hints)."""
        self.note(f"{_DIM}{text}{_RESET}" if dim and self._interactive else text)

    def _spin(self, step: Step, stop: threading.Event) -> None:
        for frame in itertools.cycle(_SPINNER_FRAMES):
            with self._lock:
                if stop.is_set():
                    return
                self._stream.write(f"{_CLEAR_LINE}{frame} {step.title}…")
                self._stream.flush()
            if stop.wait(_SPINNER_SECONDS):
                return

    def _finish(
        self,
        step: Step,
        stop: threading.Event,
        spinner: threading.Thread | None,
        *,
        ok: bool,
        detail: str,
    ) -> None:
        stop.set()
        if spinner is not None:
            spinner.join()
        self._spinning = None
        mark = "✓" if ok else "✗"
        if self._interactive:
            mark = f"{_GREEN if ok else _RED}{mark}{_RESET}"
        text = step.title + (f" — {sanitize_text(detail)}" if detail else "")
        with self._lock:
            prefix = _CLEAR_LINE if self._interactive else ""
            self._stream.write(f"{prefix}{mark} {text}\n")
            self._stream.flush()
            self._started = True


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    message = str(error).strip().splitlines()
    return message[0] if message else type(error).__name__
