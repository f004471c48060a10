"""argv rules of contract §1.1 and §1.5."""

from __future__ import annotations

import pytest

from link_cli.cli.parser import parse, preprocess
from link_cli.errors import CommandNotFound, LinkError


def test_verbose_and_auth_are_removed_first():
    pre = preprocess(["spend-request", "--verbose", "list", "--auth", "creds", "--verbose"])
    assert pre.verbose and pre.auth_path == "creds" and pre.auth_given
    assert pre.argv == ["spend-request", "list", "--verbose"]


def test_auth_as_last_token_falls_back_to_the_default_location():
    pre = preprocess(["auth", "status", "--auth"])
    assert pre.auth_given and pre.auth_path is None and pre.argv == ["auth", "status"]


def test_kebab_camel_equals_and_repeatables():
    inv = parse(
        [
            "spend-request",
            "create",
            "--merchant-name",
            "A",
            "--merchantUrl=https://x",
            "--line-item",
            "name:a",
            "--lineItem",
            "name:b",
            "-m",
            "B",
        ]
    )
    assert inv.command.name == "spend-request create"
    assert inv.raw == {
        "merchantName": "B",
        "merchantUrl": "https://x",
        "lineItem": ["name:a", "name:b"],
    }


def test_no_prefix_sets_false_and_booleans_do_not_consume_values():
    inv = parse(["spend-request", "create", "--no-request-approval", "--test", "true"])
    assert inv.raw == {"requestApproval": False, "test": True}


def test_global_flags_anywhere():
    inv = parse(["--json", "spend-request", "list", "--full-output", "--include-history"])
    assert inv.flags.format == "json" and inv.flags.full_output
    assert inv.raw == {"includeHistory": True}


def test_positionals_fill_arguments_and_extras_are_ignored():
    inv = parse(["spend-request", "retrieve", "lsrq_1", "extra", "--interval", "2"])
    assert inv.raw == {"id": "lsrq_1", "interval": "2"}


def test_unknown_flag_and_missing_value_messages():
    with pytest.raises(LinkError, match=r"^Unknown flag: --nope$"):
        parse(["spend-request", "list", "--nope"])
    with pytest.raises(LinkError, match=r"^Unknown flag: -z$"):
        parse(["spend-request", "list", "-z"])
    with pytest.raises(LinkError, match=r"^Missing value for flag: --amount$"):
        parse(["spend-request", "create", "--amount"])


def test_invalid_format_is_unknown_with_the_official_message():
    with pytest.raises(LinkError) as info:
        parse(["auth", "status", "--format", "xml"])
    assert info.value.code == "UNKNOWN"
    assert (
        info.value.message == 'Invalid format: "xml". Expected one of: toon, json, yaml, md, jsonl'
    )


def test_unknown_command_suggests_a_correction():
    with pytest.raises(CommandNotFound) as info:
        parse(["spend-request", "retreive", "lsrq_1", "--format", "json"])
    assert info.value.message == (
        "'retreive' is not a command for 'link-cli spend-request'. Did you mean 'retrieve'?"
    )
    assert info.value.token == "retreive"
    # incur's CTA: the whole line with the typo corrected, then the help command (contract §1.5).
    assert info.value.cta == {
        "description": "Suggested commands:",
        "commands": [
            {"command": "link-cli spend-request retrieve lsrq_1 --format json"},
            {
                "command": "link-cli spend-request --help",
                "description": "see all available commands",
            },
        ],
    }


def test_unknown_top_level_command_names_the_program():
    with pytest.raises(CommandNotFound) as info:
        parse(["frobnicate"])
    assert info.value.message == "'frobnicate' is not a command for 'link-cli'."
    assert [c["command"] for c in info.value.cta["commands"]] == ["link-cli --help"]


def test_group_without_subcommand_resolves_to_the_group():
    inv = parse(["spend-request"])
    assert inv.command is None and inv.group.path == ("spend-request",)


def test_version_is_global_only_when_last_or_before_a_flag():
    assert parse(["--version"]).flags.version
    assert parse(["auth", "status", "--version", "--json"]).flags.version
