"""The catalogue as agents read it: skills name exactly the tools `tools/list` has, and
each tool is described by its command's help."""

from __future__ import annotations

import re

from link_cli import commands
from link_cli.mcp import skills, tools


def listed_tools(markdown: str) -> set[str]:
    line = next((x for x in markdown.splitlines() if x.startswith("MCP tools: ")), "")
    return set(re.findall(r"`([^`]+)`", line))


def test_each_group_skill_lists_its_exposed_tools_only() -> None:
    exposed = {tool.name for tool in tools.list_tools()}
    seen: set[str] = set()
    for entry in skills.skill_index()["skills"][1:]:
        text = skills.skill_markdown(entry["name"])
        assert text is not None, entry["name"]
        named = listed_tools(text)
        assert named <= exposed, entry["name"]
        seen |= named
    assert seen == exposed


def test_commands_that_are_not_tools_say_so() -> None:
    for name in ("serve", "demo"):
        text = skills.skill_markdown(name)
        assert text is not None and name in commands.TOP_LEVEL
        assert listed_tools(text) == set()
        assert "Not available as an MCP tool" in text


def test_the_guide_names_only_real_tools() -> None:
    exposed = {tool.name for tool in tools.list_tools()}
    guide = skills.main_skill_text()
    candidates = set(re.findall(r"`([a-z-]+_[a-z-]+)`", guide))
    # Field names such as `approval_url` are not tools; a tool starts with a command name.
    named = {n for n in candidates if n.split("_", 1)[0] in commands.TOP_LEVEL}
    assert named and named <= exposed, named - exposed


def test_tool_descriptions_are_the_command_help() -> None:
    for command in tools.tool_commands():
        tool = tools.tool_for(command)
        assert tool.description is not None and command.description
        assert tool.description.startswith(command.description), tool.name
        # Only login/upgrade add a note (they never poll inline over MCP).
        assert (tool.description != command.description) == (
            command.path in tools.NON_BLOCKING_PATHS
        ), tool.name
