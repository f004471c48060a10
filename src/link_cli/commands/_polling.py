"""The agent-mode poller (reference §4.1), pure: time and sleep are injected.

``poll_until`` yields :class:`PollEvent` s; the caller decides what an intermediate or a
final event means (auth status prints the last status and exits 0, spend-request
retrieve turns a limit into POLLING_TIMEOUT, §4.2).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
StopReason = Literal["max_attempts", "timeout"]


@dataclass(frozen=True)
class PollEvent(Generic[T]):
    """One value to emit. ``final`` marks the last one; ``reason`` says why it stopped early."""

    value: T
    final: bool
    reason: StopReason | None = None


def _fingerprint(value: Any) -> str:
    return json.dumps(value, sort_keys=False, default=repr)


def poll_until(
    fetch: Callable[[], T],
    is_terminal: Callable[[T], bool],
    *,
    interval: float,
    max_attempts: int = 0,
    timeout: float = -1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[PollEvent[T]]:
    """Fetch until terminal, ``max_attempts`` fetches or the deadline, exactly as §4.1.

    * ``interval <= 0``: exactly one fetch, emitted as final.
    * The final value is always emitted; intermediate values only when their JSON
      differs from the previous intermediate one.
    * ``max_attempts`` (0 = unlimited) is checked before the deadline; the deadline
      (``timeout >= 0``) is checked only after a fetch.
    Exceptions from ``fetch`` propagate.
    """
    deadline = clock() + timeout if timeout >= 0 else None
    attempts = 0
    previous: str | None = None
    while True:
        value = fetch()
        if interval <= 0 or is_terminal(value):
            yield PollEvent(value, final=True)
            return
        attempts += 1
        if max_attempts > 0 and attempts >= max_attempts:
            yield PollEvent(value, final=True, reason="max_attempts")
            return
        if deadline is not None and clock() >= deadline:
            yield PollEvent(value, final=True, reason="timeout")
            return
        fingerprint = _fingerprint(value)
        if fingerprint != previous:
            previous = fingerprint
            yield PollEvent(value, final=False)
        sleep(interval)
