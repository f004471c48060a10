"""``--schema``, ``--llms`` and ``--llms-full``: machine-readable views of the registry."""

from __future__ import annotations

from typing import Any

from link_cli import commands as registry
from link_cli.commands._spec import Command, args_schema, option_schema

PROGRAM = "link-cli"


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def command_schema(command: Command) -> dict[str, Any]:
    """``{args?, options}`` as ``--schema`` prints them (incur: zod v4, output mode).

    In output mode a field with a default is always present, so it is listed under
    ``required`` too (contract §9.1).
    """
    result: dict[str, Any] = {}
    if command.args:
        result["args"] = args_schema(command)
    properties = {o.name: option_schema(o) for o in command.options}
    required = [o.name for o in command.options if o.required or o.has_default]
    result["options"] = _object(properties, required)
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


def _scope(path: tuple[str, ...]) -> tuple[str, str | None]:
    """The title and description of a scoped listing: the group named, or the root."""
    group = path
    if path and registry.find_group(path) is None:
        group = path[:-1]  # a leaf command: listed under its group, as incur does
    if not group:
        return PROGRAM, registry.ROOT_DESCRIPTION
    found = registry.find_group(group)
    return f"{PROGRAM} {' '.join(group)}", found.description if found else None


def signature(command: Command) -> str:
    """``link-cli mpp pay <url>``: required arguments in ``<>``, optional ones in ``[]``."""
    parts = [PROGRAM, command.name]
    parts += [f"<{a.name}>" if a.required else f"[{a.name}]" for a in command.args]
    return " ".join(parts)


def llms_index(path: tuple[str, ...]) -> str:
    """Markdown index of commands (``--llms``), as incur's skill index."""
    title, description = _scope(path)
    lines = [f"# {title}"]
    if description:
        lines += ["", description]
    lines += ["", "| Command | Description |", "|---------|-------------|"]
    lines += [f"| `{signature(c)}` | {c.description} |" for c in scoped_commands(path)]
    lines += [
        "",
        f"Run `{title} --llms-full` for full manifest. "
        f"Run `{title} <command> --schema` for argument details.",
    ]
    return "\n".join(lines)


def _type_name(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if not kind:
        return "unknown"
    return "number" if kind == "integer" else str(kind)


def _default_text(value: Any) -> str:
    """``String(default)`` as JavaScript writes it (``[]`` → nothing, ``false`` → false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_default_text(v) for v in value)
    return "" if value is None else str(value)


def command_reference(command: Command, level: int) -> str:
    """One command's section of ``--llms-full``: heading, Arguments, Options, Examples."""
    sub = "#" * (level + 1)
    heading = f"{'#' * level} {PROGRAM} {command.name}"
    if command.description:
        heading += f"\n\n{command.description}"
    sections = [heading]
    schema = command_schema(command)
    if command.args:
        args = schema["args"]
        required = set(args.get("required", []))
        rows = [
            f"| `{name}` | `{_type_name(prop)}` | {'yes' if name in required else 'no'} | "
            f"{prop.get('description', '')} |"
            for name, prop in args["properties"].items()
        ]
        sections.append(
            f"{sub} Arguments\n\n| Name | Type | Required | Description |\n"
            "|------|------|----------|-------------|\n" + "\n".join(rows)
        )
    if command.options:
        rows = []
        for name, prop in schema["options"]["properties"].items():
            default = _default_text(prop["default"]) if "default" in prop else ""
            shown = f"`{default}`" if default else ""
            rows.append(
                f"| `--{name}` | `{_type_name(prop)}` | {shown} | {prop.get('description', '')} |"
            )
        sections.append(
            f"{sub} Options\n\n| Flag | Type | Default | Description |\n"
            "|------|------|---------|-------------|\n" + "\n".join(rows)
        )
    if command.examples:
        examples = "\n\n".join(f"{PROGRAM} {example}" for example in command.examples)
        sections.append(f"{sub} Examples\n\n```sh\n{examples}\n```")
    return "\n\n".join(sections)


def llms_full(path: tuple[str, ...]) -> str:
    """Full Markdown reference (``--llms-full``) as incur's skill generator writes it.

    Unscoped, commands sit under one ``## link-cli <group>`` heading per top-level name
    (with the group's description); scoped to a group, each command is a top-level
    section. Flags are shown camelCase, as the official CLI does.
    """
    commands = scoped_commands(path)
    title, _ = _scope(path)
    if path:
        return "\n\n".join(command_reference(c, 1) for c in commands)
    sections = [f"# {title}"]
    last: str | None = None
    for command in commands:
        segment = command.path[0]
        if segment != last:
            last = segment
            group = registry.find_group((segment,))
            heading = f"## {PROGRAM} {segment}"
            if group is not None and group.description:
                heading += f"\n\n{group.description}"
            sections.append(heading)
        sections.append(command_reference(command, 3))
    return "\n\n".join(sections)
