"""The official server's four discovery tools, beside the directly listed ones (contract §9.2).

Clients written against the official 0.13.1 server know only ``search_tools``,
``get_tool_details``, ``call_read_tool`` and ``call_write_tool``; clients that read
``tools/list`` call each command's tool by name. Both work: the discovery tools are listed
next to the command tools and answer with the official semantics. Searching and describing
are pure functions of the catalogue (:mod:`link_cli.mcp.tools`); the two call tools hand the
named tool to the same runner a direct call uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from link_cli.commands import Command
from link_cli.errors import ValidationError
from link_cli.mcp import tools

if TYPE_CHECKING:
    import mcp_types as types

__all__ = [
    "CALL_READ_TOOL",
    "CALL_WRITE_TOOL",
    "DISCOVERY_TOOL_NAMES",
    "GET_TOOL_DETAILS",
    "SEARCH_TOOLS",
    "ToolCall",
    "discovery_tools",
    "resolve_call",
    "search",
    "tool_details",
]

SEARCH_TOOLS = "search_tools"
GET_TOOL_DETAILS = "get_tool_details"
CALL_READ_TOOL = "call_read_tool"
CALL_WRITE_TOOL = "call_write_tool"
DISCOVERY_TOOL_NAMES = frozenset({SEARCH_TOOLS, GET_TOOL_DETAILS, CALL_READ_TOOL, CALL_WRITE_TOOL})

DEFAULT_LIMIT = 5
MAX_LIMIT = 20
_MAX_SAFE_INTEGER = 2**53 - 1

# Relevance weights of the official search (contract §9.2).
_EXACT_NAME = 1000
_NAME_PREFIX = 100
_NAME_SUBSTRING = 50
_TERM_IS_NAME_WORD = 20
_TERM_IN_NAME = 10
_TERM_IN_DESCRIPTION = 2
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")

# Wire forms (camelCase): tools/list may be answered before the SDK is imported.
_LOOKUP = {
    "readOnlyHint": True,
    "destructiveHint": False,
    "idempotentHint": True,
    "openWorldHint": False,
}
_READ = {
    "readOnlyHint": True,
    "destructiveHint": False,
    "idempotentHint": True,
    "openWorldHint": True,
}
_WRITE = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}
_NAME_SCHEMA = {"type": "string", "description": "The tool's name, as search_tools lists it."}
_ARGUMENTS_SCHEMA = {
    "type": "object",
    "description": "The tool's arguments, as get_tool_details' inputSchema describes them.",
    "default": {},
}


def discovery_tools() -> list[types.Tool]:
    """The four discovery tools, as ``tools/list`` shows them."""
    import mcp_types as types

    return [types.Tool.model_validate(d) for d in discovery_tool_dicts()]


def discovery_tool_dicts() -> list[dict[str, Any]]:
    """The four discovery tools' wire forms (no SDK import)."""
    return [
        dict(
            name=SEARCH_TOOLS,
            description=(
                "Search the available tools by keyword; an empty query lists them all. "
                "Returns {tools: [{name, description}], nextOffset?}."
            ),
            inputSchema={
                "type": "object",
                "properties": {
                    "query": {"type": "string", "default": ""},
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                    "offset": {"type": "integer", "minimum": 0, "default": 0},
                },
            },
            annotations=_LOOKUP,
        ),
        dict(
            name=GET_TOOL_DETAILS,
            description="Describe one tool: its description, input schema and annotations.",
            inputSchema={
                "type": "object",
                "properties": {"name": _NAME_SCHEMA},
                "required": ["name"],
            },
            annotations=_LOOKUP,
        ),
        dict(
            name=CALL_READ_TOOL,
            description="Call a read-only tool (readOnlyHint) by name with its arguments.",
            inputSchema={
                "type": "object",
                "properties": {"name": _NAME_SCHEMA, "arguments": _ARGUMENTS_SCHEMA},
                "required": ["name"],
            },
            annotations=_READ,
        ),
        dict(
            name=CALL_WRITE_TOOL,
            description="Call any tool by name with its arguments.",
            inputSchema={
                "type": "object",
                "properties": {"name": _NAME_SCHEMA, "arguments": _ARGUMENTS_SCHEMA},
                "required": ["name", "arguments"],
            },
            annotations=_WRITE,
        ),
    ]


def _words(text: str) -> list[str]:
    return _NOT_ALPHANUMERIC.sub(" ", text.lower()).split()


def _score(query: str, terms: list[str], name: str, description: str) -> int:
    name = name.lower()
    description = description.lower()
    score = 0
    if name == query:
        score += _EXACT_NAME
    elif name.startswith(query):
        score += _NAME_PREFIX
    elif query in name:
        score += _NAME_SUBSTRING
    name_words = set(_words(name))
    for term in terms:
        if term in name_words:
            score += _TERM_IS_NAME_WORD
        elif term in name:
            score += _TERM_IN_NAME
        if term in description:
            score += _TERM_IN_DESCRIPTION
    return score


def _integer(arguments: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = arguments.get(name, default)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        bound = f"between {low} and {high}" if high < _MAX_SAFE_INTEGER else f"at least {low}"
        raise _invalid(name, f"{name} must be an integer {bound}", "integer", value)
    return value


def _invalid(path: str, message: str, expected: str, received: Any) -> ValidationError:
    return ValidationError(
        message,
        field_errors=[
            {
                "code": "invalid_type",
                "path": path,
                "message": message,
                "expected": expected,
                "received": _json_type(received),
            }
        ],
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def search(arguments: dict[str, Any]) -> dict[str, Any]:
    """``search_tools``: the best-matching tools, a page at a time (contract §9.2)."""
    query = arguments.get("query", "")
    if not isinstance(query, str):
        raise _invalid("query", "query must be a string", "string", query)
    limit = _integer(arguments, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(arguments, "offset", 0, 0, _MAX_SAFE_INTEGER)
    catalogue = [(c.tool_name, tools.tool_description(c)) for c in tools.tool_commands()]
    query = query.strip().lower()
    if query:
        terms = _words(query)
        scored = [(_score(query, terms, name, text), name, text) for name, text in catalogue]
        ranked = [(name, text) for score, name, text in sorted(scored, key=_rank) if score > 0]
    else:
        ranked = sorted(catalogue)
    page = ranked[offset : offset + limit]
    found: dict[str, Any] = {"tools": [{"name": n, "description": d} for n, d in page]}
    if offset + limit < len(ranked):
        found["nextOffset"] = offset + limit
    return found


def _rank(entry: tuple[int, str, str]) -> tuple[int, str]:
    return (-entry[0], entry[1])


def tool_details(arguments: dict[str, Any]) -> dict[str, Any] | None:
    """``get_tool_details``: the named tool as ``tools/list`` describes it (None: unknown)."""
    command = _named_command(arguments)
    if command is None:
        return None
    tool = tools.tool_for(command)
    details: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema,
    }
    if tool.annotations is not None:
        details["annotations"] = tool.annotations.model_dump(by_alias=True, exclude_none=True)
    return details


def _named_command(arguments: dict[str, Any]) -> Command | None:
    name = arguments.get("name")
    if not isinstance(name, str):
        raise _invalid("name", "name must be a string", "string", name)
    return tools.find_tool_command(name)


@dataclass(frozen=True)
class ToolCall:
    """What a call tool resolved to: the tool to run with its arguments, or a refusal."""

    name: str = ""
    arguments: dict[str, Any] | None = None
    refusal: str | None = None


def resolve_call(meta_tool: str, arguments: dict[str, Any]) -> ToolCall:
    """``call_read_tool`` / ``call_write_tool``: which tool to run, with which arguments."""
    name = arguments.get("name")
    command = _named_command(arguments)
    if command is None:
        return ToolCall(refusal=f"Unknown tool: {name}")
    if meta_tool == CALL_READ_TOOL and not command.read_only:
        return ToolCall(refusal=f"Tool is not read-only: {name}")
    inner = arguments.get("arguments", {})
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise _invalid("arguments", "arguments must be an object", "object", inner)
    return ToolCall(name=command.tool_name, arguments=inner)
