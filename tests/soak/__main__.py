"""``python -m tests.soak`` (``make soak``): races and kill -9 crashes, attempts vs violations.

Exit status 0 when no invariant was violated, 1 otherwise, 130 when interrupted. Everything
the run started (wallet processes, the throwaway PostgreSQL, its files) is stopped and
removed on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from types import FrameType

from .runner import BACKENDS, CRASH, Config, run, table
from .scenarios import SCENARIOS


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _parse(argv: list[str]) -> Config:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(_env("SOAK_SECONDS", "180")),
        help="time budget for the races and crashes (SOAK_SECONDS, default 180)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(_env("SOAK_ROUNDS", "60")),
        help="at most this many rounds per scenario and backend (SOAK_ROUNDS, default 60)",
    )
    parser.add_argument(
        "--crashes",
        type=int,
        default=int(_env("SOAK_CRASHES", "40")),
        help="at most this many kill -9 rounds per backend (SOAK_CRASHES, default 40)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(_env("SOAK_SEED", "0")) or secrets.randbelow(10**9),
        help="seed of every choice the harness makes (SOAK_SEED; random and printed if unset)",
    )
    parser.add_argument(
        "--only",
        default=_env("SOAK_ONLY", ""),
        help=f"comma-separated scenarios (SOAK_ONLY): {', '.join([*SCENARIOS, 'crash'])}",
    )
    parser.add_argument(
        "--backends",
        default=_env("SOAK_BACKENDS", ",".join(BACKENDS)),
        help="sqlite,postgres (SOAK_BACKENDS)",
    )
    parser.add_argument(
        "--racers",
        type=int,
        default=int(_env("SOAK_RACERS", "12")),
        help="calls released together per race (SOAK_RACERS, default 12)",
    )
    parser.add_argument(
        "--postgres-url",
        default=_env("SOAK_POSTGRES_URL", ""),
        help="use this PostgreSQL server instead of starting a throwaway one",
    )
    parser.add_argument("--keep", action="store_true", help="keep the wallets' files")
    args = parser.parse_args(argv)
    only = None
    if args.only:
        only = frozenset(CRASH if n.strip() == "crash" else n.strip() for n in args.only.split(","))
        unknown = only - {*SCENARIOS, CRASH}
        if unknown:
            parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"backends are {', '.join(BACKENDS)}")
    return Config(
        seed=args.seed,
        seconds=args.seconds,
        rounds=args.rounds,
        crashes=args.crashes,
        backends=backends,
        only=only,
        racers=max(2, args.racers),
        postgres_url=args.postgres_url or None,
        keep=args.keep,
    )


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str]) -> int:
    config = _parse(argv)
    # Ctrl-C must clean up even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    print(
        f"soak: seed {config.seed} (replay: SOAK_SEED={config.seed} make soak), "
        f"{config.seconds:.0f} s, at most {config.rounds} rounds per scenario and "
        f"{config.crashes} crashes per backend",
        flush=True,
    )
    started = time.monotonic()
    try:
        tallies = run(config)
    except KeyboardInterrupt:
        print("soak: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print()
    print(table(tallies))
    violations = [v for t in tallies for v in t.violations]
    crashes = sum(t.notes.get("crashes injected", 0) for t in tallies)
    print(
        f"\nsoak: {time.monotonic() - started:.0f} s, {crashes} kill -9 crashes injected, "
        f"{len(violations)} violations (seed {config.seed})"
    )
    for violation in violations[:50]:
        print(f"  {violation}")
    if violations:
        print(f"replay: SOAK_SEED={config.seed} SOAK_ONLY=<scenario> make soak")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
