"""Wallet throughput: ``spend-request retrieve`` and ``create`` requests/s and p99 under 20 and
200 concurrent agents, against a bare ASGI app on the same server stack as the baseline.

For each backend — one wallet process on SQLite, two on PostgreSQL (a throwaway server from
scripts/pg.sh, stopped at the end) — the bench starts ``link-wallet serve``, writes the people,
cards and agent grants straight into its database (tests/support/wallet_store.py, as the test
suite does) and gives every agent one pending spend request. Then, for each concurrency level,
every agent keeps one keep-alive connection busy for ``--seconds``: ``GET /spend_requests/{id}``
(retrieve), then ``POST /spend_requests`` (create). The baseline is measured in the same run:
a bare ASGI app (a fixed JSON answer the size of a spend request) served by uvicorn with the
wallet's own server settings (``link_cli.wallet.cli.uvicorn_config``) and the same process
count, driven by the same client. Printed: requests/s, p50/p99, errors (any status but 200 or
a refused connection), and wallet / bare ratio. Goal: retrieve >= 50% of the bare rate, zero
errors.

Last, the polling phase: 200 agents each retrieving their pending request every 2 s, as
``spend-request retrieve --interval 2`` does (their first polls spread evenly over 2 s), with ``Prefer: wait=N`` sent (RFC 7240). A wallet
that holds such requests (long-poll) keeps them open; one that ignores the preference answers
at once. Meanwhile a probe asks ``/healthz`` every 50 ms on its own connection: its latency is
how long the wallet's event loop (and its thread pool) keeps a trivial request waiting. The
bench prints the probe's p50/p99/max per window, so a lag that grows shows.

The load comes from one client process of plain asyncio sockets (a few microseconds of CPU
per request, so the client takes as little as possible of the cores the server needs).

    .venv/bin/python bench/wallet_throughput.py [--seconds 5] [--agents 20,200]
        [--backends sqlite,postgresql] [--poll-seconds 20] [--prefer-wait 25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.wallet_sqlite_concurrency import (  # noqa: E402
    START_TIMEOUT_SECONDS,
    percentile,
    process_tree_cpu,
)

GOAL_RETRIEVE_RATIO = 0.5
POLL_INTERVAL_SECONDS = 2.0
PROBE_INTERVAL_SECONDS = 0.05
SCOPES = ["userinfo:read", "payment_methods.agentic"]


# --- the load: one asyncio process, one keep-alive connection per agent --------------------


@dataclass(frozen=True)
class Job:
    """One agent: its bearer token and its pending spend request."""

    token: str
    request_id: str


@dataclass
class Outcome:
    """What a phase measured (plain data: it crosses a process boundary)."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    probe_windows: list[list[float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def create_body(n: int) -> bytes:
    """A valid card create body with a unique merchant (so never a duplicate)."""
    from tests.support.approvals import card_body

    return json.dumps(card_body(merchant_name=f"Bench Shop {os.getpid()}-{n}")).encode()


class Connection:
    """A minimal HTTP/1.1 keep-alive client: enough for Content-Length JSON answers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _drive(
    url: str,
    jobs: list[Job],
    kind: str,
    seconds: float,
    prefer_wait: int,
) -> Outcome:
    host, port = url.removeprefix("http://").split(":")
    connections = [Connection(host, int(port)) for _ in jobs]
    outcome = Outcome()
    counter = iter(range(10**9))

    def call(job: Job) -> tuple[str, str, dict[str, str], bytes]:
        auth = {"Authorization": f"Bearer {job.token}"}
        if kind == "create":
            return "POST", "/spend_requests", auth, create_body(next(counter))
        if kind == "poll":
            auth["Prefer"] = f"wait={prefer_wait}"
        return "GET", f"/spend_requests/{job.request_id}", auth, b""

    # Connect and warm every connection before the clock starts.
    await asyncio.gather(*(c.request("GET", "/healthz", {}, b"") for c in connections))
    deadline = time.perf_counter() + seconds

    async def agent(connection: Connection, job: Job, offset: float) -> None:
        await asyncio.sleep(offset)  # pollers spread over the interval, as real agents are
        while (now := time.perf_counter()) < deadline:
            method, path, headers, body = call(job)
            try:
                status = await connection.request(method, path, headers, body)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as error:
                connection.close()
                status_name = type(error).__name__
                outcome.errors[status_name] = outcome.errors.get(status_name, 0) + 1
                continue
            outcome.latencies_ms.append((time.perf_counter() - now) * 1000)
            if status != 200:
                outcome.errors[str(status)] = outcome.errors.get(str(status), 0) + 1
            if kind == "poll":
                await asyncio.sleep(max(0.0, now + POLL_INTERVAL_SECONDS - time.perf_counter()))

    async def probe() -> None:
        connection = Connection(host, int(port))
        window: list[float] = []
        window_end = time.perf_counter() + seconds / 4
        while (now := time.perf_counter()) < deadline:
            await connection.request("GET", "/healthz", {}, b"")
            window.append((time.perf_counter() - now) * 1000)
            if time.perf_counter() >= window_end:
                outcome.probe_windows.append(window)
                window, window_end = [], window_end + seconds / 4
            await asyncio.sleep(max(0.0, now + PROBE_INTERVAL_SECONDS - time.perf_counter()))
        if window:
            outcome.probe_windows.append(window)
        connection.close()

    started = time.perf_counter()
    spread = POLL_INTERVAL_SECONDS / len(jobs) if kind == "poll" else 0.0
    tasks = [
        agent(c, j, n * spread) for n, (c, j) in enumerate(zip(connections, jobs, strict=True))
    ]
    if kind == "poll":
        tasks.append(probe())
    await asyncio.gather(*tasks)
    outcome.seconds = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return outcome


def _client(url: str, jobs: list[Job], kind: str, seconds: float, wait: int, out: Any) -> None:
    outcome = asyncio.run(_drive(url, jobs, kind, seconds, wait))
    out.put((outcome.latencies_ms, outcome.errors, outcome.seconds, outcome.probe_windows))


def run_phase(
    url: str, jobs: list[Job], kind: str, seconds: float, prefer_wait: int = 0
) -> Outcome:
    """Drive ``url`` from a fresh client process; returns what it measured."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_client, args=(url, jobs, kind, seconds, prefer_wait, out))
    process.start()
    result = Outcome(*out.get(timeout=seconds + START_TIMEOUT_SECONDS))
    process.join()
    return result


# --- the baseline: a bare ASGI app under the wallet's server settings ----------------------

_BARE_BODY = json.dumps({"id": "lsrq_" + "x" * 24, "padding": "x" * 1400}).encode()


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A fixed JSON answer, after reading the whole request body (as the wallet does)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BARE_BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BARE_BODY})


def bare_factory() -> Any:
    return bare_app


def serve_bare(port: int, workers: int, data_dir: str) -> None:
    """``uvicorn`` exactly as ``link-wallet serve`` configures it, serving :func:`bare_app`."""
    from link_cli.wallet.cli import uvicorn_config
    from link_cli.wallet.settings import load_settings

    settings = load_settings(data_dir=data_dir, host="127.0.0.1", port=port, workers=workers)
    if workers == 1:
        import uvicorn

        uvicorn.Server(uvicorn_config(settings, bare_app)).run()
        return
    from uvicorn.supervisors import Multiprocess

    from link_cli.wallet.cli import _tcp_listener

    # As serve does: the shared socket marked TCP, so answers get TCP_NODELAY.
    config = uvicorn_config(settings, "bench.wallet_throughput:bare_factory", factory=True)
    Multiprocess(config, sockets=[_tcp_listener(config.bind_socket())]).run()


@contextmanager
def bare_server(workers: int) -> Iterator[tuple[str, int]]:
    """The bare app on a free port; yields (url, pid)."""
    import httpx2
    from tests.support.ports import free_port

    with tempfile.TemporaryDirectory(prefix="bare-") as tmp:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(port), str(workers), tmp],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while True:
                try:
                    httpx2.get(url, timeout=1.0)
                    break
                except httpx2.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the bare app did not start") from None
                    time.sleep(0.1)
            yield url, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


# --- the wallet -----------------------------------------------------------------------------


@contextmanager
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server (scripts/pg.sh), stopped on exit."""
    started = subprocess.run(
        [str(REPO / "scripts" / "pg.sh"), "start"], capture_output=True, text=True, check=True
    )
    directory = started.stdout.strip().splitlines()[-1]
    try:
        yield (Path(directory) / "url").read_text().strip()
    finally:
        subprocess.run([str(REPO / "scripts" / "pg.sh"), "stop", directory], check=False)


def make_jobs(wallet: Any, count: int) -> list[Job]:
    """``count`` people with a card, each with an agent grant and one pending request."""
    import httpx2
    from tests.support.approvals import card_body
    from tests.support.wallet import DEFAULT_CARD

    store = wallet.store()
    jobs = []
    with httpx2.Client(base_url=wallet.url, timeout=60) as client:
        for n in range(count):
            email = f"bench-{n}-{os.getpid()}@example.com"
            store.create_user(email, "correct horse battery staple", "Bench Person")
            store.add_card(email, DEFAULT_CARD, shipping=True)
            token = store.grant_agent(email, SCOPES)["access_token"]
            response = client.post(
                "/spend_requests", json=card_body(), headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            jobs.append(Job(token, response.json()["id"]))
    return jobs


def line(name: str, outcome: Outcome, baseline: Outcome | None) -> str:
    values = outcome.latencies_ms
    if not values:
        return f"  {name:<22} no answers; errors {outcome.errors}"
    ratio = f"{outcome.rate / baseline.rate:6.1%} of bare" if baseline else ""
    errors = sum(outcome.errors.values())
    detail = f" {outcome.errors}" if errors else ""
    return (
        f"  {name:<22} {outcome.rate:7.0f} req/s  p50 {percentile(values, 0.5):7.1f} ms  "
        f"p99 {percentile(values, 0.99):7.1f} ms  errors {errors}{detail}  {ratio}"
    )


def bench_backend(label: str, database_url: str | None, workers: int, args: Any) -> list[str]:
    """Every phase against one backend; returns the verdict lines."""
    import tests.support.wallet
    from tests.support.wallet import WalletProcess

    tests.support.wallet.START_TIMEOUT_SECONDS = START_TIMEOUT_SECONDS
    env = {
        "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "1000000",
        "LINK_WALLET_LIMIT_MAX_ACTIVE": "1000000",
        "LINK_WALLET_WORKERS": str(workers),
        "LINK_WALLET_TEST_CLOCK": "0",
        "LINK_WALLET_MAX_CONNECTIONS": str(max(args.agents) * 2 + 50),
    }
    verdicts = []
    print(f"\n{label}: {workers} wallet process(es); load average {os.getloadavg()[0]:.2f}")
    with (
        tempfile.TemporaryDirectory(prefix="wallet-throughput-") as tmp,
        WalletProcess.start(Path(tmp) / "wallet", database_url=database_url, env=env) as wallet,
    ):
        jobs = make_jobs(wallet, max(args.agents))
        assert wallet.process is not None
        for agents in args.agents:
            mine = jobs[:agents]
            with bare_server(workers) as (bare_url, _):
                bare = run_phase(bare_url, mine, "retrieve", args.seconds)
            cpu = process_tree_cpu(wallet.process.pid)
            retrieve = run_phase(wallet.url, mine, "retrieve", args.seconds)
            retrieve_cpu = process_tree_cpu(wallet.process.pid) - cpu
            cpu = process_tree_cpu(wallet.process.pid)
            create = run_phase(wallet.url, mine, "create", args.seconds)
            create_cpu = process_tree_cpu(wallet.process.pid) - cpu
            print(f" {agents} agents, {args.seconds:.0f} s each:")
            print(line("bare ASGI app", bare, None))
            print(
                line("retrieve", retrieve, bare)
                + f"  wallet CPU {retrieve_cpu / max(1, len(retrieve.latencies_ms)) * 1000:.2f}"
                " ms/req"
            )
            print(
                line("create", create, bare)
                + f"  wallet CPU {create_cpu / max(1, len(create.latencies_ms)) * 1000:.2f} ms/req"
            )
            met = retrieve.rate >= GOAL_RETRIEVE_RATIO * bare.rate and not retrieve.errors
            verdicts.append(
                f"{label}, {agents} agents: retrieve {retrieve.rate / bare.rate:.0%} of bare, "
                f"{sum(retrieve.errors.values())} errors; create "
                f"{sum(create.errors.values())} errors -> goal {'met' if met else 'NOT met'}"
            )
        if args.poll_seconds:
            poll = run_phase(wallet.url, jobs, "poll", args.poll_seconds, args.prefer_wait)
            print(
                f" polling: {len(jobs)} agents, every {POLL_INTERVAL_SECONDS:.0f} s, "
                f"Prefer: wait={args.prefer_wait}, {args.poll_seconds:.0f} s"
            )
            print(line("poll retrieve", poll, None))
            windows = [
                f"p50 {percentile(w, 0.5):.1f} / p99 {percentile(w, 0.99):.1f} / max "
                f"{max(w):.1f} ms"
                for w in poll.probe_windows
                if w
            ]
            print("  /healthz probe by quarter: " + "; ".join(windows))
            verdicts.append(
                f"{label}, polling: {sum(poll.errors.values())} errors; probe p99 first "
                f"{percentile(poll.probe_windows[0], 0.99):.1f} ms, last "
                f"{percentile(poll.probe_windows[-1], 0.99):.1f} ms"
            )
    return verdicts


def main() -> int:
    if sys.argv[1:2] == ["--serve-bare"]:
        serve_bare(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured phase")
    parser.add_argument("--agents", default="20,200", help="concurrency levels, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--poll-seconds", type=float, default=20.0, help="0: no polling phase")
    parser.add_argument("--prefer-wait", type=int, default=25, help="seconds, in Prefer: wait=")
    args = parser.parse_args()
    args.agents = [int(n) for n in args.agents.split(",")]
    backends = args.backends.split(",")
    print(f"wallet throughput ({os.cpu_count()} cores, python {sys.version.split()[0]})")
    verdicts = []
    if "sqlite" in backends:
        verdicts += bench_backend("SQLite", None, 1, args)
    if "postgresql" in backends:
        with postgres_url() as url:
            verdicts += bench_backend("PostgreSQL", url, 2, args)
    print()
    for verdict in verdicts:
        print(verdict)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
