"""Run the soak: start the clusters, take turns through the scenarios until the time or the
round counts run out, scan for cards at rest, stop everything, return the tallies."""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .cluster import Cluster, Postgres
from .crash import crash_round
from .rounds import Round, Tally
from .scan import scan_at_rest
from .scenarios import SCENARIOS

CRASH = "crash (kill -9)"
SCAN = "at-rest scan"
BACKENDS = ("sqlite", "postgres")
PROGRESS_SECONDS = 20.0


@dataclass(frozen=True)
class Config:
    """What to run and for how long (``python -m tests.soak --help`` names the variables)."""

    seed: int
    seconds: float = 180.0
    rounds: int = 60
    """At most this many rounds of each race scenario on each backend."""
    crashes: int = 40
    """At most this many crash rounds on each backend."""
    crashes_per_turn: int = 2
    backends: tuple[str, ...] = BACKENDS
    only: frozenset[str] | None = None
    racers: int = 12
    postgres_url: str | None = None
    """Create the database in this server instead of starting a throwaway one."""
    postgres_processes: int = 3
    sqlite_processes: int = 2
    probe_failures: int = 100
    workdir: Path | None = None
    keep: bool = False
    wallet_env: tuple[tuple[str, str], ...] = ()
    """Settings for every wallet process (``LINK_WALLET_…``), over the soak's own."""
    only_by_backend: tuple[tuple[str, frozenset[str]], ...] = ()
    """Narrow ``only`` further for one backend (the pytest round runs SQLite's crash only)."""

    def runs(self, name: str, backend: str) -> bool:
        narrowed = dict(self.only_by_backend).get(backend)
        return name == SCAN or narrowed is None or name in narrowed

    def names(self) -> list[str]:
        every = [*SCENARIOS, CRASH]
        return [name for name in every if self.only is None or name in self.only]


def _function(name: str) -> Callable[[Round], None]:
    return crash_round if name == CRASH else SCENARIOS[name]


@contextmanager
def _workdir(config: Config) -> Iterator[Path]:
    made = config.workdir is None
    path = Path(tempfile.mkdtemp(prefix="link-soak.")) if made else config.workdir
    assert path is not None
    try:
        yield path
    finally:
        if made and not config.keep:
            shutil.rmtree(path, ignore_errors=True)


def _play(
    config: Config, cluster: Cluster, tally: Tally, function: Callable[[Round], None]
) -> None:
    number = tally.rounds
    rng = random.Random(f"{config.seed}/{tally.backend}/{tally.scenario}/{number}")
    round_ = Round(
        cluster=cluster,
        rng=rng,
        number=number,
        seed=config.seed,
        tally=tally,
        racers=config.racers,
        probe_failures=config.probe_failures,
    )
    before = len(tally.violations)
    began = time.monotonic()
    try:
        function(round_)
    except Exception as error:  # a round that cannot finish is a finding, not a crash
        round_.check(False, f"the round failed: {type(error).__name__}: {str(error)[:400]}")
    # A round cut short by an error may leave its victim down (never after an interrupt).
    for process in cluster.processes:
        if process.process is not None and process.process.poll() is not None:
            round_.check(False, f"wallet {process.url} had exited; started again")
            process.restart()
    tally.rounds += 1
    tally.seconds += time.monotonic() - began
    for violation in tally.violations[before:]:
        print(f"VIOLATION {violation}", file=sys.stderr, flush=True)


def run(config: Config, out: TextIO = sys.stdout) -> list[Tally]:
    """Run the soak; the tallies in table order. Everything started is stopped on return,
    exception and KeyboardInterrupt alike."""
    names = config.names()
    tallies = {
        (n, b): Tally(n, b) for b in config.backends for n in [*names, SCAN] if config.runs(n, b)
    }
    postgres = Postgres(config.postgres_url)
    clusters: dict[str, Cluster] = {}
    with _workdir(config) as workdir:
        try:
            if "postgres" in config.backends:
                began = time.monotonic()
                postgres.start()
                took = time.monotonic() - began
                print(f"soak: PostgreSQL ready in {took:.1f} s", file=out, flush=True)
            for backend in config.backends:
                count = (
                    config.postgres_processes if backend == "postgres" else config.sqlite_processes
                )
                began = time.monotonic()
                clusters[backend] = Cluster.start(
                    backend, workdir / backend, count, postgres, dict(config.wallet_env)
                )
                took = time.monotonic() - began
                print(f"soak: {backend}: {count} wallets started in {took:.1f} s", file=out)
            _turns(config, names, clusters, tallies, out)
            print("soak: scanning files and databases for card numbers", file=out, flush=True)
            for backend, cluster in clusters.items():
                tally = tallies[(SCAN, backend)]
                extra = postgres.files() if backend == "postgres" else []
                _play(config, cluster, tally, lambda r, extra=extra: scan_at_rest(r, extra))
        finally:
            for cluster in clusters.values():
                cluster.stop()
            postgres.stop()
    return [tallies[(n, b)] for n in [*names, SCAN] for b in config.backends if (n, b) in tallies]


def _turns(
    config: Config,
    names: list[str],
    clusters: dict[str, Cluster],
    tallies: dict[tuple[str, str], Tally],
    out: TextIO,
) -> None:
    started = time.monotonic()
    deadline = started + config.seconds
    next_report = started + PROGRESS_SECONDS
    while True:
        progressed = False
        for name in names:
            for backend, cluster in clusters.items():
                if (name, backend) not in tallies:
                    continue
                tally = tallies[(name, backend)]
                cap, times = (
                    (config.crashes, config.crashes_per_turn)
                    if name == CRASH
                    else (config.rounds, 1)
                )
                for _ in range(times):
                    if time.monotonic() >= deadline:
                        return
                    if tally.rounds >= cap or tally.skipped:
                        break
                    _play(config, cluster, tally, _function(name))
                    progressed = True
                if time.monotonic() >= next_report:
                    next_report += PROGRESS_SECONDS
                    done = sum(t.rounds for t in tallies.values())
                    bad = sum(len(t.violations) for t in tallies.values())
                    elapsed = time.monotonic() - started
                    print(
                        f"soak: {elapsed:.0f} s, {done} rounds, {bad} violations",
                        file=out,
                        flush=True,
                    )
        if not progressed:
            return


def table(tallies: list[Tally]) -> str:
    """Rounds, attempts and violations per scenario and backend, plus what each noted."""
    header = (
        f"{'scenario':<22} {'backend':<9} {'rounds':>6} {'attempts':>8} {'violations':>10} "
        f"{'s/round':>7}  notes"
    )
    lines = [header, "-" * len(header)]
    for t in tallies:
        if t.skipped:
            notes = f"skipped: {t.skipped}"
        else:
            notes = ", ".join(f"{name} {count}" for name, count in t.notes.items())
        lines.append(
            f"{t.scenario:<22} {t.backend:<9} {t.rounds:>6} {t.attempts:>8} "
            f"{len(t.violations):>10} {t.seconds / max(1, t.rounds):>7.1f}  {notes}"
        )
    total_attempts = sum(t.attempts for t in tallies)
    total_violations = sum(len(t.violations) for t in tallies)
    rounds = sum(t.rounds for t in tallies)
    lines.append("-" * len(header))
    lines.append(f"{'total':<22} {'':<9} {rounds:>6} {total_attempts:>8} {total_violations:>10}")
    return "\n".join(lines)
