"""``--help`` text for the root, a group or a command, generated from the registry."""

from __future__ import annotations

from link_cli import __version__
from link_cli import commands as registry
from link_cli.commands._spec import Command, Option

PROGRAM = "link-cli"

_GLOBAL_FLAGS = (
    ("--format <toon|json|yaml|md|jsonl>", "Output format (default: toon off a terminal)"),
    ("--json", "Same as --format json"),
    ("--full-output", "Print the {ok, data|error, meta} envelope"),
    ("--schema", "Print the JSON Schema of the command's arguments and options"),
    ("--llms, --llms-full", "Print the command index / full reference for LLMs"),
    ("--mcp", "Run as an MCP server on stdio"),
    ("--help, -h", "Show help"),
    ("--version", "Show the version"),
)


def _table(rows: list[tuple[str, str]]) -> list[str]:
    width = max((len(left) for left, _ in rows), default=0)
    return [f"  {left.ljust(width)}  {right}".rstrip() for left, right in rows]


def _option_label(option: Option) -> str:
    label = option.flag
    if option.type == "enum":
        label += " <" + "|".join(option.choices) + ">"
    elif option.type != "boolean" or option.accepts_object:
        label += f" <{'number' if option.type == 'integer' else option.type}>"
    if option.short:
        label = f"-{option.short}, {label}"
    return label


def _option_text(option: Option) -> str:
    parts = [option.help] if option.help else []
    if option.repeatable:
        parts.append("(repeatable)")
    if option.required:
        parts.append("(required)")
    elif option.has_default and option.default not in ((), "", None):
        default = option.default
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        parts.append(f"(default: {shown})")
    return " ".join(parts)


def command_help(command: Command) -> str:
    """Help for one leaf command."""
    usage = " ".join((PROGRAM, *command.path, *(f"<{a.name}>" for a in command.args)))
    lines = [f"{PROGRAM} {command.name} — {command.description}", "", f"Usage: {usage} [options]"]
    if command.args:
        lines += ["", "Arguments:"]
        lines += _table([(f"<{a.name}>", a.help) for a in command.args])
    visible = [o for o in command.options if not o.hidden]
    if visible:
        lines += ["", "Options:"]
        lines += _table([(_option_label(o), _option_text(o)) for o in visible])
    if command.examples:
        lines += ["", "Examples:"] + [f"  {PROGRAM} {e}" for e in command.examples]
    lines += ["", "Global options:", *_table(list(_GLOBAL_FLAGS))]
    return "\n".join(lines)


def group_help(path: tuple[str, ...]) -> str:
    """Help for a group (``path`` non-empty) or the root (``path == ()``)."""
    if path:
        group = registry.find_group(path)
        description = group.description if group else ""
        title = f"{PROGRAM} {' '.join(path)} — {description}"
        children = [c for c in registry.commands_for(path[0]) if c.path[: len(path)] == path]
        rows = [(" ".join(c.path[len(path) :]), c.description) for c in children if not c.hidden]
        usage = f"Usage: {PROGRAM} {' '.join(path)} <command> [options]"
    else:
        title = f"{PROGRAM} {__version__} — {registry.ROOT_DESCRIPTION}"
        rows = []
        for group in registry.all_groups():
            if len(group.path) == 1 and not group.hidden:
                rows.append((group.path[0], group.description))
        for command in registry.all_commands():
            if len(command.path) == 1 and not command.hidden:
                rows.append((command.path[0], command.description))
        rows.sort()
        usage = f"Usage: {PROGRAM} <command> [options]"
    lines = [title, "", usage, "", "Commands:", *_table(rows)]
    lines += ["", "Global options:", *_table(list(_GLOBAL_FLAGS))]
    if path:
        lines += ["", f"Run '{PROGRAM} {' '.join(path)} <command> --help' for a command's options."]
    return "\n".join(lines)
