"""The wallet's moveable clock.

Everything time-dependent in the wallet reads ``app.state.clock``. In production the
offset stays zero; with the test clock enabled, ``POST /__test__/clock`` moves it forward so
expiry and limits are tested without sleeping. The offset is per process on purpose: it keeps
the mechanism trivial, and tests that share a database between processes advance each one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time in UTC plus an offset that only moves forward."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current time as a timezone-aware UTC datetime."""
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (never backward) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()
