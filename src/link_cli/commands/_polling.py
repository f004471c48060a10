"""The agent-mode poller (contract §4.1), pure: time and sleep are injected.

``poll_until`` yields :class:`PollEvent` s; the caller decides what an intermediate or a
final event means (auth status prints the last status and exits 0, spend-request
retrieve turns a limit into POLLING_TIMEOUT, contract §4.2).
"""

from __future__ import annotations

import json
import time

TYPE_CHECKING = False  # no `typing`/`dataclasses` at import: this runs on every poll command
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, Literal, TypeVar

    T = TypeVar("T")
    StopReason = Literal["max_attempts", "timeout"]


class PollEvent:
    """One value to emit. ``final`` marks the last one; ``reason`` says why it stopped early."""

    __slots__ = ("final", "reason", "value")

    def __init__(self, value: Any, final: bool, reason: StopReason | None = None) -> None:
        self.value = value
        self.final = final
        self.reason = reason

    def __repr__(self) -> str:
        return f"PollEvent({self.value!r}, final={self.final}, reason={self.reason!r})"


class Held:
    """What the server said of the last fetch: the seconds of ``Preference-Applied: wait``
    it applied, or None. Fetches set ``applied``; pass the object as ``poll_until(held=)``."""

    __slots__ = ("applied", "wait")

    def __init__(self, wait: int | None = None) -> None:
        self.applied: int | None = None
        self.wait = wait
        """The seconds to ask for (``Prefer: wait``)."""

    def __call__(self) -> int | None:
        return self.applied


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
    held: Callable[[], int | None] | None = None,
) -> Iterator[PollEvent]:
    """Fetch until terminal, ``max_attempts`` fetches or the deadline, exactly as contract §4.1.

    * ``interval <= 0``: exactly one fetch, emitted as final.
    * The final value is always emitted; intermediate values only when their JSON
      differs from the previous intermediate one.
    * ``max_attempts`` (0 = unlimited) is checked before the deadline; the deadline
      (``timeout >= 0``) is checked only after a fetch.
    Exceptions from ``fetch`` propagate.

    ``held`` (long-poll, docs/long-poll.md) tells after each fetch whether the server held
    it (the seconds of ``Preference-Applied: wait``, else None). Then the time the fetch took
    counts towards the interval: the sleep is only what is left of it, usually nothing.
    Fetches, their values, the attempt accounting and the emitted events stay the same;
    without ``held``, or when the server never says it held, so do the sleeps.
    """
    deadline = clock() + timeout if timeout >= 0 else None
    attempts = 0
    previous: str | None = None
    while True:
        started = clock() if held is not None else 0.0
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
        if held is not None and held():
            left = interval - (clock() - started)
            if left > 0:
                sleep(left)
            continue
        sleep(interval)
