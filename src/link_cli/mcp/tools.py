"""The MCP tool catalogue, derived from the command registry (contract §9.1).

Tool names, descriptions and input schemas are never typed here: each comes from the
command's single declaration (name = path joined with ``_``, description = the command's
help, schema = the same merged args+options schema ``--schema`` prints).
"""

from __future__ import annotations

import mcp_types as types

from link_cli import commands
from link_cli.commands import Command
from link_cli.commands._spec import input_schema

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


def tool_for(command: Command) -> types.Tool:
    """The MCP ``Tool`` of one command."""
    annotations = types.ToolAnnotations(read_only_hint=command.read_only)
    if command.read_only:
        annotations = types.ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True
        )
    return types.Tool(
        name=command.tool_name,
        description=tool_description(command),
        input_schema=input_schema(command),
        annotations=annotations,
    )


def list_tools() -> list[types.Tool]:
    """Every exposed tool, sorted by name."""
    return [tool_for(c) for c in tool_commands()]
