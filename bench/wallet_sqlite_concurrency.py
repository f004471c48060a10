"""Latency of ``GET /spend_requests/{id}`` with many agents on one SQLite wallet.

Starts its own ``link-wallet serve`` (SQLite) on a free loopback port, signs people in through
the wallet's real forms, logs ``--readers + --writers`` agents in over the device flow and
gives each a spend request. Then every reader retrieves its request ``--requests`` times
back-to-back while every writer updates its own (amount changes, the Link API's update), all
released together. Prints p50/p95/p99/max of the retrieves and of the updates and the count of
5xx answers, against a baseline measured first in the same run (one agent's retrieves alone),
with the load average before and after so a reader can judge the noise.

The agents run in ``--client-processes`` OS processes (default: one per agent, as real agents
are separate processes), each agent a thread with its own HTTP client (httpx2, as the tests
use). The bench also prints what the clients cost: their CPU time per call, measured in every
client process, and the wallet's CPU time per call (its process and any workers, from
``/proc``). Both share the machine's cores, so the client's CPU is part of the latency a
reader sees; ``--client-processes 1`` puts every agent in one process (23 threads sharing one
interpreter lock, which the latencies then include as well).

    .venv/bin/python bench/wallet_sqlite_concurrency.py [--readers 20] [--writers 3]
        [--workers 1] [--client-processes N] [--wallet-src DIR]

``--workers`` starts the wallet with ``LINK_WALLET_WORKERS`` (processes serving the one
SQLite file); ``--wallet-src`` runs the wallet from another checkout's ``src`` (to compare
two versions in the same time window with the same client).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GOAL_P99_MS = 300.0
START_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class AgentJob:
    """One agent's work: its token, its request, and whether it updates or retrieves."""

    token: str
    request_id: str
    writer: bool


@dataclass
class ClientResult:
    """What one client process measured (plain data: it crosses a process boundary)."""

    timings: dict[str, list[float]] = field(default_factory=lambda: {"retrieve": [], "update": []})
    errors: dict[str, int] = field(default_factory=lambda: {"retrieve": 0, "update": 0})
    cpu_seconds: float = 0.0


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


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def client_process(
    url: str,
    jobs: list[AgentJob],
    requests: int,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """Run ``jobs`` as threads once every client process is ready; report timings and CPU."""
    import threading

    import httpx2

    clients = [
        httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {job.token}"}, timeout=60)
        for job in jobs
    ]
    for client, job in zip(clients, jobs, strict=True):  # connect before the clock starts
        client.get(f"/spend_requests/{job.request_id}")
    result = ClientResult()
    lock = threading.Lock()

    def run(client: httpx2.Client, job: AgentJob) -> None:
        kind = "update" if job.writer else "retrieve"
        mine: list[float] = []
        failures = 0
        for n in range(requests):
            started = time.perf_counter()
            if job.writer:
                amount = 1000 + n
                total = [{"type": "total", "display_text": "Total", "amount": amount}]
                response = client.post(
                    f"/spend_requests/{job.request_id}", json={"amount": amount, "totals": total}
                )
            else:
                response = client.get(f"/spend_requests/{job.request_id}")
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            failures += response.status_code >= 500
        with lock:
            result.timings[kind].extend(mine)
            result.errors[kind] += failures

    threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, jobs, strict=True)]
    ready.put(os.getpid())
    start.wait()
    cpu_before = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.cpu_seconds = time.process_time() - cpu_before
    for client in clients:
        client.close()
    results.put((result.timings, result.errors, result.cpu_seconds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50, help="calls per agent")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=0,
        help="OS processes the agents are spread over (default: one per agent)",
    )
    parser.add_argument("--workers", type=int, default=1, help="wallet processes (SQLite)")
    parser.add_argument("--wallet-src", type=Path, help="run the wallet from this src directory")
    args = parser.parse_args()

    import tests.support.wallet
    from tests.support.approvals import card_body, new_agent
    from tests.support.wallet import WalletProcess

    # Several workers each import the whole wallet: on a loaded machine that outlasts the
    # test suite's start-up bound.
    tests.support.wallet.START_TIMEOUT_SECONDS = START_TIMEOUT_SECONDS

    agent_count = args.readers + args.writers
    client_processes = min(agent_count, args.client_processes or agent_count)
    env = {
        "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "10000",
        "LINK_WALLET_LIMIT_MAX_ACTIVE": "10000",
        "LINK_WALLET_WORKERS": str(args.workers),
        # The test clock is per process, so the wallet refuses it with several workers.
        "LINK_WALLET_TEST_CLOCK": "1" if args.workers == 1 else "0",
    }
    if args.wallet_src:
        env["PYTHONPATH"] = str(args.wallet_src.resolve())
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="wallet-bench-") as tmp,
        WalletProcess.start(Path(tmp) / "wallet", env=env) as wallet,
    ):
        agents = [new_agent(wallet) for _ in range(agent_count)]
        jobs = [
            AgentJob(
                agent.tokens["access_token"], agent.create_ok(card_body())["id"], i >= args.readers
            )
            for i, agent in enumerate(agents)
        ]

        # Baseline in the same run: one agent's retrieves, nothing else running.
        alone: list[float] = []
        for _ in range(args.requests):
            started = time.perf_counter()
            agents[0].retrieve(jobs[0].request_id)
            alone.append((time.perf_counter() - started) * 1000)
        for agent in agents:
            agent.close()

        ready, start, results = context.Queue(), context.Event(), context.Queue()
        processes = [
            context.Process(
                target=client_process,
                args=(wallet.url, jobs[i::client_processes], args.requests, ready, start, results),
            )
            for i in range(client_processes)
        ]
        for process in processes:
            process.start()
        for _ in processes:
            ready.get(timeout=START_TIMEOUT_SECONDS)
        assert wallet.process is not None
        load_before = os.getloadavg()
        wallet_cpu_before = process_tree_cpu(wallet.process.pid)
        wall_before = time.perf_counter()
        start.set()
        collected = [ClientResult(*results.get()) for _ in processes]
        wall = time.perf_counter() - wall_before
        wallet_cpu = process_tree_cpu(wallet.process.pid) - wallet_cpu_before
        load_after = os.getloadavg()
        for process in processes:
            process.join()

    timings = {
        kind: [t for r in collected for t in r.timings[kind]] for kind in ("retrieve", "update")
    }
    errors = {kind: sum(r.errors[kind] for r in collected) for kind in ("retrieve", "update")}
    calls = sum(len(values) for values in timings.values())
    client_cpu = sum(r.cpu_seconds for r in collected)
    print(
        f"{args.readers} readers + {args.writers} writers, {args.requests} calls each; wallet: "
        f"{args.workers} process(es) on one SQLite file; agents in {client_processes} "
        f"client process(es)"
    )
    print(summary("alone", alone, 0) + "   (baseline: one agent, nothing else)")
    print(summary("retrieve", timings["retrieve"], errors["retrieve"]))
    print(summary("update", timings["update"], errors["update"]))
    print(
        f"CPU per call: wallet {wallet_cpu / calls * 1000:.2f} ms, clients "
        f"{client_cpu / calls * 1000:.2f} ms; {calls / wall:.0f} calls/s over {wall:.1f} s "
        f"(wallet {wallet_cpu / wall:.0%}, clients {client_cpu / wall:.0%} of one core; "
        f"{os.cpu_count()} cores)"
    )
    p99 = percentile(timings["retrieve"], 0.99)
    print(f"retrieve p99 / baseline p99: {p99 / percentile(alone, 0.99):.1f}x")
    print(
        f"goal: retrieve p99 < {GOAL_P99_MS:.0f} ms -> {'met' if p99 < GOAL_P99_MS else 'NOT met'}"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
