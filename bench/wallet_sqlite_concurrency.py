"""Latency of ``GET /spend_requests/{id}`` with many agents on one SQLite wallet process.

Starts its own ``link-wallet`` (SQLite) on a free loopback port, signs a person in through
the wallet's real forms, logs ``--readers + --writers`` agents in over the device flow and
gives each reader a spend request. Then every reader retrieves its request ``--requests``
times while the writers update theirs (amount changes, the Link API's update), all started
together. Prints p50/p95/p99/max of the retrieves and of the updates, and the count of 5xx
answers, against a baseline measured first in the same run (one agent's retrieves alone),
with the load average before and after so a reader can judge the noise.

    .venv/bin/python bench/wallet_sqlite_concurrency.py [--readers 20] [--writers 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.approvals import ApiAgent, card_body, new_agent  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

GOAL_P99_MS = 300.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary(name: str, values: list[float], server_errors: int) -> str:
    if not values:
        return f"{name}: no calls"
    return (
        f"{name:<9} n={len(values):<5} p50={percentile(values, 0.50):7.1f} ms  "
        f"p95={percentile(values, 0.95):7.1f} ms  p99={percentile(values, 0.99):7.1f} ms  "
        f"max={max(values):7.1f} ms  mean={statistics.fmean(values):6.1f} ms  5xx={server_errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50, help="calls per agent")
    args = parser.parse_args()

    limits = {
        "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "10000",
        "LINK_WALLET_LIMIT_MAX_ACTIVE": "10000",
    }
    with (
        tempfile.TemporaryDirectory(prefix="wallet-bench-") as tmp,
        WalletProcess.start(Path(tmp) / "wallet", env=limits) as wallet,
    ):
        agents = [new_agent(wallet) for _ in range(args.readers + args.writers)]
        requests = [agent.create_ok(card_body())["id"] for agent in agents]
        timings: dict[str, list[float]] = {"retrieve": [], "update": []}
        errors = {"retrieve": 0, "update": 0}
        lock = threading.Lock()
        barrier = threading.Barrier(len(agents))

        def run(agent: ApiAgent, request_id: str, writer: bool) -> None:
            kind = "update" if writer else "retrieve"
            mine: list[float] = []
            failures = 0
            barrier.wait()
            for n in range(args.requests):
                started = time.perf_counter()
                if writer:
                    amount = 1000 + n
                    total = [{"type": "total", "display_text": "Total", "amount": amount}]
                    response = agent.update(request_id, {"amount": amount, "totals": total})
                else:
                    response = agent.retrieve(request_id)
                mine.append((time.perf_counter() - started) * 1000)
                failures += response.status_code >= 500
            with lock:
                timings[kind].extend(mine)
                errors[kind] += failures

        # Baseline in the same run: the same retrieves one at a time, nothing else running.
        alone: list[float] = []
        for _ in range(args.requests):
            started = time.perf_counter()
            agents[0].retrieve(requests[0])
            alone.append((time.perf_counter() - started) * 1000)

        load_before = os.getloadavg()
        threads = [
            threading.Thread(target=run, args=(agent, rid, i >= args.readers))
            for i, (agent, rid) in enumerate(zip(agents, requests, strict=True))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_after = os.getloadavg()
        for agent in agents:
            agent.close()

    print(
        f"{args.readers} readers + {args.writers} writers on one SQLite wallet process, "
        f"{args.requests} calls each"
    )
    print(summary("alone", alone, 0) + "   (baseline: one agent, nothing else)")
    print(summary("retrieve", timings["retrieve"], errors["retrieve"]))
    print(summary("update", timings["update"], errors["update"]))
    p99 = percentile(timings["retrieve"], 0.99)
    print(f"retrieve p99 / baseline p99: {p99 / percentile(alone, 0.99):.1f}x")
    print(
        f"goal: retrieve p99 < {GOAL_P99_MS:.0f} ms -> {'met' if p99 < GOAL_P99_MS else 'NOT met'}"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
