"""The MCP server: one tool per registry command, and the tool-error edge (contract §9).

Every command is listed directly by ``tools/list``, named as contract §9.1 names it
(``spend-request_create``) with the flat input schema that ``--schema`` shows. The official
server's four discovery tools (contract §9.2) are listed beside them and answer as it does
(:mod:`link_cli.mcp.discovery`), so clients written for either work. A call runs the command's handler exactly as the CLI
does, in agent mode with JSON output, using the CLI owner's stored session.

Results (contract §9.3, with the contract §14.5 defect fixed):

* success: the JSON text of the result plus ``structuredContent`` (an array — every
  streaming command's chunk list — is wrapped as ``{"result": [...]}``, since MCP
  requires an object there);
* any failure, validation included: ``isError: true`` whose text is the CLI's error
  object ``{code, message, …}`` and whose ``structuredContent`` is that same object.

Handlers are blocking, so each call runs in a worker thread. Streaming chunks go out as
progress notifications when the client sent a progress token, and a cancelled call stops
its poller at the next sleep (see :mod:`link_cli.mcp.calls`).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server

from link_cli import __version__
from link_cli.errors import CommandNotFound, ValidationError
from link_cli.mcp import calls, discovery, tools
from link_cli.mcp.instructions import INSTRUCTIONS, SERVER_NAME


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def success_result(value: Any) -> types.CallToolResult:
    """A successful tool result: JSON text plus structured content."""
    structured = value if isinstance(value, dict) else {"result": value}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=_json_text(value))],
        structured_content=structured,
    )


def error_result(error: dict[str, Any]) -> types.CallToolResult:
    """A tool error carrying the CLI's ``{code, message, …}`` object."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=_json_text(error))],
        structured_content=error,
        is_error=True,
    )


async def _list_tools(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=tools.list_tools() + discovery.discovery_tools())


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    async def progress(count: int, chunk: Any) -> None:
        # A no-op unless the client asked for progress with a token. A notification that
        # cannot be delivered is not the tool's failure: the result still is.
        with contextlib.suppress(Exception):
            await ctx.session.report_progress(count, None, _json_text(chunk))

    name, arguments = params.name, params.arguments or {}
    if name in discovery.DISCOVERY_TOOL_NAMES:
        try:
            answer = _discover(name, arguments)
        except ValidationError as error:
            return error_result(error.to_dict(include_cta=True))
        if isinstance(answer, types.CallToolResult):
            return answer
        name, arguments = answer.name, answer.arguments or {}
    outcome = await calls.run_tool(name, arguments, on_chunk=progress)
    if outcome.error is not None:
        return error_result(outcome.error)
    return success_result(outcome.value)


def _discover(name: str, arguments: dict[str, Any]) -> types.CallToolResult | discovery.ToolCall:
    """A discovery tool's own answer, or the tool a call tool must run."""
    if name == discovery.SEARCH_TOOLS:
        return success_result(discovery.search(arguments))
    if name == discovery.GET_TOOL_DETAILS:
        details = discovery.tool_details(arguments)
        if details is None:
            return _refused(f"Unknown tool: {arguments.get('name')}")
        return success_result(details)
    call = discovery.resolve_call(name, arguments)
    if call.refusal is not None:
        return _refused(call.refusal)
    return call


def _refused(message: str) -> types.CallToolResult:
    # The official server answers {"error": message}; the CLI error object carries it too.
    return error_result({**CommandNotFound(message).to_dict(), "error": message})


def build_server() -> Server[Any]:
    """A low-level MCP server exposing every registry command as a tool."""
    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
    )
