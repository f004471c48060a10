"""``--schema``, ``--llms`` and ``--llms-full``: machine-readable views of the registry."""

from __future__ import annotations

from typing import Any

from link_cli import __version__
from link_cli import commands as registry
from link_cli.commands._spec import Command, args_schema, options_schema

PROGRAM = "link-cli"


def command_schema(command: Command) -> dict[str, Any]:
    """``{args?, options}`` JSON Schemas of one command."""
    result: dict[str, Any] = {}
    if command.args:
        result["args"] = args_schema(command)
    result["options"] = options_schema(command)
    return result


def scoped_commands(path: tuple[str, ...]) -> list[Command]:
    """Visible commands under ``path`` (all when empty)."""
    commands = registry.all_commands() if not path else registry.commands_for(path[0])
    return [c for c in commands if c.path[: len(path)] == path and not c.hidden]


def llms_manifest(path: tuple[str, ...], *, full: bool) -> dict[str, Any]:
    """The JSON manifest (``--llms --format json``)."""
    entries = []
    for command in scoped_commands(path):
        entry: dict[str, Any] = {"name": command.name, "description": command.description}
        if full:
            entry["schema"] = command_schema(command)
        entries.append(entry)
    return {"version": "incur.v1", "commands": entries}


def llms_index(path: tuple[str, ...]) -> str:
    """Markdown index table of commands (``--llms``)."""
    lines = [f"# {PROGRAM}", "", registry.ROOT_DESCRIPTION, "", "| Command | Description |"]
    lines.append("|---|---|")
    for command in scoped_commands(path):
        lines.append(f"| `{PROGRAM} {command.name}` | {command.description} |")
    return "\n".join(lines)


def _type_name(prop: dict[str, Any]) -> str:
    if prop.get("type") == "array":
        return _type_name(prop.get("items", {})) + "[]"
    if "enum" in prop:
        return " \\| ".join(f'"{v}"' for v in prop["enum"])
    if "anyOf" in prop:
        return " \\| ".join(_type_name(p) for p in prop["anyOf"])
    return str(prop.get("type", "any"))


def llms_full(path: tuple[str, ...]) -> str:
    """Full Markdown reference (``--llms-full``); flags shown camelCase as the official CLI."""
    lines = [f"# {PROGRAM} {__version__}", "", registry.ROOT_DESCRIPTION]
    for command in scoped_commands(path):
        lines += ["", f"## {PROGRAM} {command.name}", "", command.description]
        if command.args:
            lines += ["", "### Arguments", "", "| Name | Type | Description |", "|---|---|---|"]
            lines += [f"| `{a.name}` | string | {a.help} |" for a in command.args]
        props = options_schema(command)["properties"]
        if props:
            lines += ["", "### Options", "", "| Flag | Type | Default | Description |"]
            lines.append("|---|---|---|---|")
            for name, prop in props.items():
                default = prop.get("default", "")
                if isinstance(default, bool):
                    default = str(default).lower()
                shown = f"`{default}`" if default not in ("", []) else ""
                lines.append(
                    f"| `--{name}` | `{_type_name(prop)}` | {shown} | {prop.get('description', '')} |"
                )
    return "\n".join(lines)
