"""The throttle's reservations against a real database (SQLite, in-process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from link_cli.wallet.domain.throttle import Budget
from link_cli.wallet.store import throttle
from link_cli.wallet.store.engine import Database
from link_cli.wallet.store.migrations import upgrade

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_retry_after_never_exceeds_the_window_even_when_another_process_recorded_later(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'wallet.db'}"
    upgrade(url)
    database = Database(url)
    budget = Budget("device_code", "127.0.0.1", limit=1, window=timedelta(minutes=10))
    try:
        # Another process took the last place with a clock a moment ahead of this request's.
        with database.session_scope() as session:
            taken = throttle.reserve(session, [budget], now=NOW + timedelta(milliseconds=300))
            assert isinstance(taken, throttle.Reservation)
        with database.session_scope() as session:
            refused = throttle.reserve(session, [budget], now=NOW)
        assert isinstance(refused, throttle.Refusal)
        assert refused.retry_after == 600
    finally:
        database.dispose()
