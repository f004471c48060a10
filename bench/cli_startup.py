"""Start-up cost of ``link-cli``: wall time and peak RSS per command, beside the targets.

Starts its own ``link-wallet`` on a free loopback port, signs a person in through the
wallet's real forms to log the CLI in, creates one spend request, then runs each command
``--runs`` times (after warm-ups) and prints the medians of wall and CPU time, the fastest
wall time and the load average before and after, so a reader can judge the noise. Peak RSS
comes from ``os.wait4``'s rusage of each child, so it is the CLI process alone.

    .venv/bin/python bench/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.agent import CONTEXT, LINK_CLI, Agent, login  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

TARGET_FAST_MS = 40.0
TARGET_RETRIEVE_MS = 120.0
TARGET_RSS_MIB = 40.0


# Measuring runs in a small helper interpreter: on Linux a spawned child's ru_maxrss
# starts from its parent's peak at exec time, and this script's parent process (with the
# wallet fixtures imported) is far larger than link-cli. The helper's own floor (~9 MiB)
# shows up in the `python -c pass` row.
_HELPER = r"""
import json, os, sys, time
devnull = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
for line in sys.stdin:
    argv, env = json.loads(line)
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    cpu = (usage.ru_utime + usage.ru_stime) * 1000
    print(json.dumps([elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), cpu]), flush=True)
"""


class Runner:
    """A helper process that spawns each command and reports (wall ms, peak RSS MiB, exit)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HELPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def measure(self, argv: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
        """One run: (wall ms, peak RSS MiB, exit code, CPU ms of the child)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps([argv, env]) + "\n")
        self.process.stdin.flush()
        wall, rss, code, cpu = json.loads(self.process.stdout.readline())
        return wall, rss, code, cpu

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=10)


def bench(
    runner: Runner, argv: list[str], env: dict[str, str], runs: int
) -> tuple[float, float, float, int, float]:
    """Medians of wall ms, the fastest wall ms, median peak RSS, worst exit code and median
    CPU ms over ``runs`` runs, after two warm-ups.

    CPU time and the fastest run are printed too because wall time on a shared machine
    mostly measures the neighbours; CPU time is what the command itself costs.
    """
    for _ in range(2):
        runner.measure(argv, env)
    samples = [runner.measure(argv, env) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        min(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        max(s[2] for s in samples),
        statistics.median(s[3] for s in samples),
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, for judging noise."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def create_spend_request(agent: Agent, payment_method_id: str | None) -> str:
    """One card spend request to retrieve; falls back to an unknown id (a 404 round trip)."""
    args = ["spend-request", "create", "--amount", "1500", "-m", "Bench Shop"]
    args += ["--merchant-url", "https://shop.example", "--context", CONTEXT]
    if payment_method_id:
        args += ["--payment-method-id", payment_method_id]
    code, chunks = agent.json(*args)
    if code == 0:
        return str(chunks[0]["id"])
    print(f"(spend-request create failed, retrieving an unknown id: {chunks})", file=sys.stderr)
    return "lsrq_unknown"


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per command (>= 10)")
    options = parser.parse_args()
    runs = max(10, options.runs)
    # An installed link-cli has its bytecode compiled by pip. A checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would recompile every module on every start (~50 ms),
    # so compile once: Python still reads .pyc files under that variable.
    compileall.compile_dir(str(REPO / "src" / "link_cli"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp, WalletProcess.start(Path(tmp) / "wallet") as wallet:
        person = wallet.create_person()
        agent = Agent(wallet.url, Path(tmp) / "auth.json")
        login(agent, person)
        spend_request_id = create_spend_request(agent, person.payment_method_id)
        env = agent.env()
        cases = [
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], None),
            ("--version", [LINK_CLI, "--version"], TARGET_FAST_MS),
            ("--help", [LINK_CLI, "--help"], TARGET_FAST_MS),
            ("auth status --format json", [LINK_CLI, "auth", "status", "--format", "json"], None),
            (
                "spend-request retrieve <id> --format json",
                [LINK_CLI, "spend-request", "retrieve", spend_request_id, "--format", "json"],
                TARGET_RETRIEVE_MS,
            ),
        ]
        print(f"link-cli start-up, median of {runs} runs (python {sys.version.split()[0]})")
        print(f"load average before: {load_average()}")
        print(
            f"{'command':44} {'wall ms':>8} {'fastest':>8} {'cpu ms':>7} {'target':>8} "
            f"{'peak RSS MiB':>13} {'target':>7} exit"
        )
        runner = Runner()
        for name, argv, target in cases:
            wall, fastest, rss, code, cpu = bench(runner, argv, env, runs)
            shown = f"<= {target:.0f}" if target else "-"
            print(
                f"{name:44} {wall:8.1f} {fastest:8.1f} {cpu:7.1f} {shown:>8} "
                f"{rss:13.1f} {'<= 40':>7} {code}"
            )
        runner.close()
        print(f"load average after:  {load_average()}")
        print("wall and cpu are medians; peak RSS cannot read below the helper's floor (first row)")
        person.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
