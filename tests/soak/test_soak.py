"""The soak harness itself: one small round of every scenario and one crash per backend.

``make soak`` runs for minutes and is not part of ``make test``; this keeps the harness from
rotting (a scenario that no longer runs, an invariant that no longer reads the database, a
crash that is no longer restarted). PostgreSQL comes from ``make test``'s throwaway server.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from tests.conftest import POSTGRES_ENV

from .runner import CRASH, SCAN, Config, run, table
from .scenarios import SCENARIOS

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

# Read at import: the autouse fixture clears LINK_* variables before each test.
POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


def test_one_round_of_every_scenario_and_one_crash_find_no_violation(tmp_path: Path) -> None:
    # Every scenario on PostgreSQL (two processes); on SQLite, which the scenarios reach
    # through the same code, only the crash round (integrity_check, the file itself).
    if POSTGRES_BASE:
        backends: tuple[str, ...] = ("sqlite", "postgres")
        expected = {(n, "postgres") for n in [*SCENARIOS, CRASH]} | {(CRASH, "sqlite")}
    else:
        backends, expected = ("sqlite",), {(n, "sqlite") for n in [*SCENARIOS, CRASH]}
    config = Config(
        seed=20261206,
        seconds=120,
        rounds=1,
        crashes=1,
        crashes_per_turn=1,
        backends=backends,
        racers=4,
        postgres_url=POSTGRES_BASE,
        postgres_processes=2,
        sqlite_processes=1,
        probe_failures=16,
        workdir=tmp_path,
        wallet_env=(("LINK_WALLET_THROTTLE_CARD_FAILURES_PER_KEY", "4"),),
        only_by_backend=(("sqlite", frozenset({CRASH})),) if POSTGRES_BASE else (),
    )
    out = io.StringIO()
    tallies = run(config, out)
    printed = table(tallies)
    assert [v for t in tallies for v in t.violations] == [], printed
    ran = {(t.scenario, t.backend): t for t in tallies}
    assert set(ran) == expected | {(SCAN, b) for b in backends}, printed
    for tally in tallies:
        assert tally.rounds == 1, printed
        assert tally.attempts > 0 and not tally.skipped, printed
    for backend in backends:
        assert ran[(CRASH, backend)].notes["crashes injected"] == 1
        assert ran[(SCAN, backend)].notes["files scanned"] > 0
    for name in SCENARIOS:
        assert name in printed
