"""Start several calls at the same moment, so a test races them for real rather than hoping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

BARRIER_TIMEOUT_SECONDS = 30.0
JOIN_TIMEOUT_SECONDS = 120.0


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on their own threads, released together; return their results in order.

    An exception a call raises is returned in its place, for the test to assert on.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        try:
            results[index] = calls[index]()
        except Exception as error:  # reported through the results, asserted by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return results
