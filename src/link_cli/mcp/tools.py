"""The MCP tool catalogue, derived from the command registry (contract §9.1).

Tool names, descriptions and input schemas are never typed here: each comes from the
command's single declaration (name = path joined with ``_``, description = the command's
help, schema = the same merged args+options schema ``--schema`` prints).

Each tool is first the plain dict ``tools/list`` sends (:func:`tool_dict`, no SDK import), so
``link-cli --mcp`` can answer ``tools/list`` while the SDK still loads
(:mod:`link_cli.mcp.stdio`); the SDK's ``Tool`` models are built from those dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from link_cli import commands
from link_cli.commands import Command
from link_cli.commands._spec import input_schema

if TYPE_CHECKING:
    import mcp_types as types

# Commands that make no sense as a tool: `serve` would start a server inside the MCP
# server, and the interactive ones can only answer REQUIRES_TTY outside a terminal.
EXCLUDED_PATHS = frozenset({("serve",), ("demo",), ("onboard",)})

# Login must hand the URL and phrase to the agent at once (the person has to see them
# before anything can be polled), so over MCP these never poll inline (contract §9.3 last point).
NON_BLOCKING_PATHS = frozenset({("auth", "login"), ("auth", "upgrade")})

_NON_BLOCKING_NOTE = (
    " Over MCP this returns the verification URL and phrase at once (interval, "
    "maxAttempts and timeout are ignored); then poll with auth_status as _next says."
)


def tool_commands() -> list[Command]:
    """The commands exposed as tools, sorted by tool name."""
    found = [c for c in commands.all_commands() if not c.hidden and c.path not in EXCLUDED_PATHS]
    return sorted(found, key=lambda c: c.tool_name)


def find_tool_command(name: str) -> Command | None:
    """The command behind tool ``name``, or None when no such tool is exposed."""
    for command in tool_commands():
        if command.tool_name == name:
            return command
    return None


def tool_description(command: Command) -> str:
    """The command's help text, plus how the tool differs from the shell command."""
    if command.path in NON_BLOCKING_PATHS:
        return command.description + _NON_BLOCKING_NOTE
    return command.description


def tool_dict(command: Command) -> dict[str, Any]:
    """The wire form of one command's tool, as ``tools/list`` sends it."""
    annotations: dict[str, Any] = {"readOnlyHint": command.read_only}
    if command.read_only:
        annotations.update(destructiveHint=False, idempotentHint=True)
    return {
        "name": command.tool_name,
        "description": tool_description(command),
        "inputSchema": input_schema(command),
        "annotations": annotations,
    }


def tool_dicts() -> list[dict[str, Any]]:
    """Every exposed tool's wire form, sorted by name."""
    return [tool_dict(c) for c in tool_commands()]


def tool_for(command: Command) -> types.Tool:
    """The MCP ``Tool`` of one command."""
    import mcp_types as types

    return types.Tool.model_validate(tool_dict(command))


def list_tools() -> list[types.Tool]:
    """Every exposed tool, sorted by name."""
    import mcp_types as types

    return [types.Tool.model_validate(d) for d in tool_dicts()]
