"""`link-cli --mcp` answers `initialize` and `tools/list` before the SDK is imported
(link_cli.mcp.stdio): those answers must be the SDK's own, and the hand-over must answer
every request exactly once, in order."""

from __future__ import annotations

import json
import queue
import subprocess
from typing import Any

import pytest
from mcp_harness import LINK_CLI
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from link_cli.mcp.stdio import EARLY_PROTOCOL_VERSIONS, EarlySession, Output, Replay, serve


def handshake(version: str) -> list[str]:
    messages: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "list", "method": "tools/list", "params": {}},
    ]
    return [json.dumps(m) + "\n" for m in messages]


def by_id(lines: list[str]) -> dict[Any, Any]:
    answers = [json.loads(line) for line in lines]
    return {a["id"]: a for a in answers}


def test_the_early_versions_are_the_sdks_handshake_versions() -> None:
    assert set(HANDSHAKE_PROTOCOL_VERSIONS) == EARLY_PROTOCOL_VERSIONS


@pytest.mark.anyio
@pytest.mark.parametrize("version", sorted(EARLY_PROTOCOL_VERSIONS))
async def test_early_answers_equal_the_sdks_answers(version: str) -> None:
    early: list[str] = []
    session = EarlySession(early.append)
    for line in handshake(version):
        session.handle(line)
    assert session.answered == {1, "list"}

    # The SDK drops requests still running when stdin closes: close it after both answers.
    sdk: list[str] = []
    lines: queue.Queue[Any] = queue.Queue()

    def write(text: str) -> None:
        sdk.append(text)
        if len(sdk) == 2:
            lines.put(None)

    await serve(Replay(handshake(version), lines, eof=False), Output(write, set()))

    assert by_id(early) == by_id(sdk)


def test_a_request_before_the_handshake_is_left_to_the_sdk() -> None:
    early: list[str] = []
    session = EarlySession(early.append)
    session.handle(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping"}) + "\n")
    for line in handshake("2025-06-18"):
        session.handle(line)
    assert early == [] and session.answered == set()
    assert len(session.received) == 4


@pytest.mark.server
def test_the_process_answers_each_request_once_in_order(cli_env: dict[str, str]) -> None:
    calls = [
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search_tools"}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {}},
        {"jsonrpc": "2.0", "id": 5, "method": "ping"},
    ]
    stdin = "".join(handshake("2025-11-25")) + "".join(json.dumps(c) + "\n" for c in calls)
    with subprocess.Popen(
        [LINK_CLI, "--mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cli_env,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(stdin)
        process.stdin.flush()
        # The SDK drops requests still running when stdin closes: close it after the answers.
        answers = [json.loads(process.stdout.readline()) for _ in range(5)]
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        assert process.stdout.read() == ""
    assert [a["id"] for a in answers] == [1, "list", 3, 4, 5]
    assert answers[1]["result"] == answers[3]["result"]
    assert "result" in answers[2] and not answers[2]["result"].get("isError")
