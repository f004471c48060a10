"""``link-cli --mcp``: ``initialize`` + ``tools/list`` answered, measured from process start.

Each run starts the server, sends ``initialize``, waits for its answer, sends
``notifications/initialized`` and ``tools/list``, and stops the clock at the tools/list answer
(then closes stdin). Printed: median and fastest wall time of ``--runs`` runs after warm-ups,
beside baselines measured in the same run:

* ``python -c pass``: the interpreter floor;
* the official SDK alone: a minimal low-level ``mcp`` server with one tool, on the SDK's stdio
  transport — what any server built on the SDK pays before its first answer;
* our server the SDK-first way (link_cli.mcp.server on the SDK's stdio transport, no early
  answers): the previous ``--mcp``.

``link-cli --mcp`` answers those two requests from the command registry while the SDK imports
in a background thread (link_cli.mcp.stdio), so the honest comparison is the SDK-alone row:
the ratio says how much sooner an MCP client can start work. Goal: <= 0.4 s.

    .venv/bin/python bench/mcp_startup.py [--runs 10]
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cli_startup import load_average  # noqa: E402

GOAL_SECONDS = 0.4

_SDK_ALONE = """
import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

async def list_tools(ctx, params):
    tool = types.Tool(name="echo", description="Echo", input_schema={"type": "object"})
    return types.ListToolsResult(tools=[tool])

async def main():
    server = Server("minimal", on_list_tools=list_tools)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""

_SDK_FIRST = """
import anyio
from mcp.server.stdio import stdio_server
from link_cli.mcp.server import build_server

async def main():
    server = build_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
_FOLLOW_UP = [
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
]


def one_run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and how many tools it listed."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    tools = 0
    if argv[-1] == "pass":
        process.wait(timeout=60)
    else:
        process.stdin.write(json.dumps(_INITIALIZE) + "\n")
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 1
        process.stdin.write("".join(json.dumps(m) + "\n" for m in _FOLLOW_UP))
        process.stdin.flush()
        answer = json.loads(process.stdout.readline())
        assert answer["id"] == 2, answer
        tools = len(answer["result"]["tools"])
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(timeout=60)
    return elapsed, tools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    from tests.support.agent import LINK_CLI
    from tests.support.environment import clean_env

    compileall.compile_dir(str(REPO / "src" / "link_cli"), quiet=1)  # as an installed package
    with tempfile.TemporaryDirectory(prefix="mcp-bench-") as tmp:
        env = clean_env()
        env["LINK_AUTH_FILE"] = os.path.join(tmp, "auth.json")
        cases = [
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
            ("official SDK alone: minimal low-level server", [sys.executable, "-c", _SDK_ALONE]),
            ("our server SDK-first (the previous --mcp)", [sys.executable, "-c", _SDK_FIRST]),
            ("link-cli --mcp", [LINK_CLI, "--mcp"]),
        ]
        print(f"MCP start-up to the tools/list answer, median of {args.runs} runs")
        print(f"load average before: {load_average()}")
        medians = {}
        for name, argv in cases:
            for _ in range(2):
                one_run(argv, env)
            samples = [one_run(argv, env) for _ in range(args.runs)]
            walls = [s[0] for s in samples]
            medians[name] = statistics.median(walls)
            print(
                f"  {name:46} {medians[name] * 1000:7.0f} ms  fastest {min(walls) * 1000:6.0f} ms"
                f"  tools {samples[0][1]}"
            )
        print(f"load average after:  {load_average()}")
    ours = medians["link-cli --mcp"]
    print(
        f"link-cli --mcp / official SDK alone: "
        f"{ours / medians['official SDK alone: minimal low-level server']:.2f}x; "
        f"/ SDK-first: {ours / medians['our server SDK-first (the previous --mcp)']:.2f}x"
    )
    print(f"goal <= {GOAL_SECONDS:.1f} s: {'met' if ours <= GOAL_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
