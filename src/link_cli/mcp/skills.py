"""Skills served by `link-cli serve` under ``/.well-known/skills/`` (contract §9.5).

Two kinds of skill:

* ``link-cli`` — the hand-written guide for agents shipped in the package
  (``link_cli/skills/link-cli/SKILL.md``): the whole purchase flow and its safety rules.
* one per top-level command name (``auth``, ``spend-request``, ``mpp``…) — generated from
  the command registry, so they can never drift from the commands themselves.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from link_cli import commands
from link_cli.commands._manifest import command_reference, scoped_commands
from link_cli.mcp import tools

MAIN_SKILL = "link-cli"


@cache
def main_skill_text() -> str:
    """The shipped agent guide (``SKILL.md`` of the ``link-cli`` skill)."""
    return (
        resources.files("link_cli")
        .joinpath("skills", MAIN_SKILL, "SKILL.md")
        .read_text(encoding="utf-8")
    )


def _front_matter_value(text: str, key: str) -> str:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return ""
    for line in lines[1:]:
        if line.strip() == "---":
            break
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip().strip('"')
    return ""


def _top_level_description(top: str) -> str | None:
    group = commands.find_group((top,))
    if group is not None:
        return None if group.hidden else group.description
    command = commands.find_command((top,))
    if command is None or command.hidden:
        return None
    return command.description


def _visible_top_levels() -> list[tuple[str, str]]:
    found = []
    for top in sorted(commands.TOP_LEVEL):
        description = _top_level_description(top)
        if description is not None:
            found.append((top, description))
    return found


def skill_index() -> dict[str, Any]:
    """The body of ``GET /.well-known/skills/index.json``."""
    entries = [
        {
            "name": MAIN_SKILL,
            "description": _front_matter_value(main_skill_text(), "description"),
            "files": ["SKILL.md"],
        }
    ]
    for top, description in _visible_top_levels():
        entries.append(
            {
                "name": top,
                "description": (f"{description}. Run `link-cli {top} --help` for usage details."),
                "files": ["SKILL.md"],
            }
        )
    return {"skills": entries}


def skill_markdown(name: str) -> str | None:
    """The ``SKILL.md`` of skill ``name``, or None when there is no such skill."""
    if name == MAIN_SKILL:
        return main_skill_text()
    description = _top_level_description(name) if name in commands.TOP_LEVEL else None
    if description is None:
        return None
    return _group_markdown(name, description)


def _group_markdown(top: str, description: str) -> str:
    lines = [
        "---",
        f"name: link-cli-{top}",
        f"description: {description}",
        "requires_bin: link-cli",
        f"command: link-cli {top}",
        "---",
        "",
        f"# link-cli {top}",
        "",
        description,
        "",
        f"Start with the `{MAIN_SKILL}` skill for the purchase flow and its safety rules.",
        "",
    ]
    # The command reference is --llms-full's, scoped to this name: one generator, no drift.
    reference = "\n\n".join(command_reference(c, 2) for c in scoped_commands((top,)))
    lines.append(reference.strip())
    exposed = {c.tool_name for c in tools.tool_commands()}
    tool_names = [c.tool_name for c in commands.commands_for(top) if c.tool_name in exposed]
    if tool_names:
        lines += ["", "MCP tools: " + ", ".join(f"`{n}`" for n in tool_names)]
    else:
        lines += ["", "Not available as an MCP tool: run it from a terminal."]
    return "\n".join(lines).rstrip() + "\n"
