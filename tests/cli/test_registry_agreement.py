"""One declaration, four views: the parser, --schema, the MCP input schema and docs/cli.md agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from link_cli import commands as registry
from link_cli.cli.parser import parse
from link_cli.commands._manifest import command_schema
from link_cli.commands._spec import input_schema

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
COMMANDS = registry.all_commands()


def _sample(option) -> list[str]:
    if option.type == "boolean" and not option.accepts_object:
        return []
    return [option.choices[0] if option.choices else "1"]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_option_parses_by_kebab_and_camel_name(command):
    for option in command.options:
        for flag in (option.flag, "--" + option.name):
            raw = parse([*command.path, flag, *_sample(option)]).raw
            assert option.name in raw, (command.name, flag)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_schema_and_mcp_input_schema_list_the_same_fields(command):
    schema = command_schema(command)
    names = set(schema["options"]["properties"]) | set(schema.get("args", {}).get("properties", {}))
    assert names == set(input_schema(command)["properties"])
    assert names == {o.name for o in command.options} | {a.name for a in command.args}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_docs_show_every_visible_flag(command):
    section = DOCS.split(f"### link-cli {command.name}\n", 1)[1].split("\n### ", 1)[0]
    for option in command.options:
        if not option.hidden:
            assert option.flag in section, (command.name, option.flag)
