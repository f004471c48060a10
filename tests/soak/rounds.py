"""One round of a scenario, its tally, and the checks every scenario shares.

A round gets its own :class:`random.Random`, seeded from the run's seed, the backend, the
scenario and the round number, so ``SOAK_SEED=<seed> SOAK_ONLY=<scenario>`` makes the same
choices again (which process each racer talks to, amounts, crash delays, victims). Thread
scheduling is not replayed: a race that lost once may need a few rounds to lose again.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from .cluster import Cluster


@dataclass
class Tally:
    """What one scenario did on one backend, over all its rounds."""

    scenario: str
    backend: str
    rounds: int = 0
    attempts: int = 0
    violations: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)

    def note(self, name: str, count: int = 1) -> None:
        self.notes[name] = self.notes.get(name, 0) + count


@dataclass
class Round:
    """One round: the cluster, its seeded choices, and where its findings go."""

    cluster: Cluster
    rng: random.Random
    number: int
    seed: int
    tally: Tally
    racers: int = 12
    """How many calls a race releases at once."""
    probe_failures: int = 100
    """Failed authorizations tried before deciding the wallet has no per-key limit."""

    @property
    def label(self) -> str:
        return f"{self.tally.backend} {self.tally.scenario} round {self.number} (seed {self.seed})"

    def attempt(self, count: int = 1) -> None:
        self.tally.attempts += count

    def check(self, ok: bool, message: str) -> bool:
        """Record a violation unless ``ok``; returns ``ok``."""
        if not ok:
            self.tally.violations.append(f"{self.label}: {message}")
        return ok

    def process(self) -> int:
        """A process index, chosen by this round's seed."""
        return self.rng.randrange(len(self.cluster.processes))

    def spread(self, count: int) -> list[int]:
        """``count`` process indexes covering every process, in a seeded order."""
        n = len(self.cluster.processes)
        indexes = [i % n for i in range(count)]
        self.rng.shuffle(indexes)
        return indexes


def status_of(result: Any) -> int | str:
    """The HTTP status of a racer's result, or the name of the exception it raised."""
    if isinstance(result, httpx2.Response):
        return result.status_code
    return type(result).__name__


def statuses(results: Iterable[Any]) -> list[int | str]:
    return [status_of(r) for r in results]


def error_code(response: httpx2.Response) -> str | None:
    """``error.code`` (Link and Stripe bodies), ``error`` (OAuth), or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("code")
    return error if isinstance(error, str) else None


def no_server_errors(round_: Round, results: Iterable[Any], what: str) -> None:
    """A 5xx other than 503 (documented as retry-safe, nothing changed) is a violation, and
    so is a racer that raised while every process was up."""
    for result in results:
        status = status_of(result)
        round_.check(
            isinstance(status, int) and (status < 500 or status == 503),
            f"{what}: answered {status}: {_text(result)[:300]}",
        )


def _text(result: Any) -> str:
    return result.text if isinstance(result, httpx2.Response) else repr(result)


ScenarioFunction = Callable[[Round], None]
