"""Demo tests start real servers; whatever happens in a test, none may outlive it.

Every process a demo test starts inherits ``TMPDIR=<the test's tmp_path>``; after each
test, any such process still alive (say, after a failed assertion killed the demo before
it could clean up) is killed, so one failure cannot leak servers into the next run.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line or environment contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes() + b"\0" + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and text.encode() in raw:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _kill_leftovers(tmp_path: Path) -> Iterator[None]:
    yield
    for pid in processes_mentioning(str(tmp_path)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for _ in range(50):  # bounded: 5 s for the kernel to reap them
        if not processes_mentioning(str(tmp_path)):
            return
        time.sleep(0.1)


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def read_available(fd: int, timeout: float) -> str:
    """What a pseudo-terminal has to read within ``timeout`` seconds ("" when it closed)."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return ""
    try:
        return os.read(fd, 65536).decode(errors="replace")
    except OSError:  # the terminal closes when the demo exits
        return ""


def default_ctrl_c() -> None:
    """In the child, before exec: Ctrl-C does what it does for a terminal's foreground job.

    A test runner started in the background by a non-interactive shell ignores SIGINT, and
    children inherit that; the demo would then never see the test's Ctrl-C.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
