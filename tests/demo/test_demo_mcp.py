"""Through MCP the demo never runs: a tool call must not start servers or print into the
JSON-RPC stream, even when the agent passes ``autoApprove``. The MCP server does not offer
the tool (mcp/tools.py), and the handler refuses inside an MCP server anyway."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from tests.support.environment import clean_env

from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.server  # starts server processes itself

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_an_agent_cannot_start_the_demo_over_mcp(tmp_path: Path) -> None:
    env = clean_env()
    env["TMPDIR"] = str(tmp_path)
    params = StdioServerParameters(command=LINK_CLI, args=["--mcp"], env=env)

    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = await client.list_tools()
            result = await client.call_tool("demo", {"autoApprove": True, "onlySpt": True})

    assert "demo" not in {tool.name for tool in tools.tools}
    assert result.is_error is True
    assert "demo" in result.content[0].text
    assert list(tmp_path.glob("link-cli-demo-*")) == []


def test_the_handler_refuses_inside_an_mcp_server_even_with_auto_approve() -> None:
    code = (
        "import link_cli.mcp.server\n"
        "from link_cli.commands._context import Context\n"
        "from link_cli.demo.handler import run\n"
        "from link_cli.errors import RequiresTty\n"
        "try:\n"
        "    run({'autoApprove': True}, Context(agent=True, format='json', format_explicit=True))\n"
        "except RequiresTty as error:\n"
        "    print(error.code)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.stdout.strip() == "REQUIRES_TTY", completed.stderr
