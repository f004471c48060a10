"""`link-cli --mcp` as a real subprocess, driven by the official MCP client: the tool
catalogue (names, schemas, annotations) and the error edge, without a wallet."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import anyio
import pytest
from mcp_harness import LINK_CLI, isolated_env

from link_cli.mcp.discovery import DISCOVERY_TOOL_NAMES
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.anyio, pytest.mark.server]

# contract §9.1 names, as the skill spells them.
EXPECTED_TOOLS = {
    "auth_login",
    "auth_logout",
    "auth_status",
    "auth_upgrade",
    "balances_list",
    "mpp_decode",
    "mpp_pay",
    "payment-methods_add",
    "payment-methods_list",
    "report",
    "shipping-address_list",
    "sources_list",
    "spend-request_cancel",
    "spend-request_create",
    "spend-request_list",
    "spend-request_request-approval",
    "spend-request_retrieve",
    "spend-request_update",
    "transactions_list",
    "user-info_retrieve",
}
READ_ONLY_TOOLS = {
    "auth_status",
    "balances_list",
    "sources_list",
    "transactions_list",
    "mpp_decode",
    "payment-methods_list",
    "shipping-address_list",
    "spend-request_list",
    "spend-request_retrieve",
    "user-info_retrieve",
}
LONG_CONTEXT = (
    "Buying one pair of trail running shoes for the person, who asked for size 42 in blue "
    "and approved spending up to 130 dollars."
)


def stdio(env: dict[str, str]) -> Client:
    return Client(StdioServerParameters(command=LINK_CLI, args=["--mcp"], env=env))


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error is True
    error = json.loads(result.content[0].text)
    assert result.structured_content == error
    return error


def cli_schema(env: dict[str, str], path: str) -> dict[str, Any]:
    done = subprocess.run(
        [LINK_CLI, *path.split(" "), "--schema", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def listed_tools(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """What one `link-cli --mcp` answers to tools/list, for the tests that only read the list
    (each server start imports the MCP SDK: over a second of CPU)."""

    async def list_them() -> list[Any]:
        async with stdio(isolated_env(tmp_path_factory.mktemp("tools"))) as client:
            return list((await client.list_tools()).tools)

    return anyio.run(list_them)


async def test_every_command_is_listed_directly_and_serve_is_not(listed_tools: list[Any]) -> None:
    names = {tool.name for tool in listed_tools}
    assert names >= EXPECTED_TOOLS
    assert not names & {"serve", "demo", "onboard"}


async def test_input_schemas_are_the_cli_schema_merged(
    cli_env: dict[str, str], listed_tools: list[Any]
) -> None:
    tools = listed_tools
    commands = [tool for tool in tools if tool.name not in DISCOVERY_TOOL_NAMES]
    assert len(commands) == len(tools) - len(DISCOVERY_TOOL_NAMES)
    for tool in commands:
        cli = cli_schema(cli_env, tool.name.replace("_", " "))
        args = cli.get("args", {"properties": {}})
        options = cli["options"]
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["properties"] == {
            **args["properties"],
            **options["properties"],
        }, tool.name
        # --schema lists defaulted fields as required too (zod's output mode, as officially);
        # a tool requires only what a caller must pass (docs/compatibility.md).
        must_pass = [
            name
            for name in args.get("required", []) + options.get("required", [])
            if "default" not in {**args["properties"], **options["properties"]}[name]
        ]
        assert sorted(tool.input_schema.get("required", [])) == sorted(must_pass), tool.name


async def test_only_truly_required_fields_are_required(listed_tools: list[Any]) -> None:
    tools = {tool.name: tool for tool in listed_tools}
    assert tools["spend-request_retrieve"].input_schema["required"] == ["id"]
    assert sorted(tools["spend-request_create"].input_schema["required"]) == [
        "amount",
        "context",
    ]
    assert tools["spend-request_create"].description == "Create a new spend request"


async def test_read_only_tools_are_annotated(listed_tools: list[Any]) -> None:
    marked = {t.name for t in listed_tools if t.annotations and t.annotations.read_only_hint}
    assert marked >= READ_ONLY_TOOLS
    assert not marked & {"spend-request_create", "spend-request_cancel", "auth_logout"}


async def test_validation_errors_are_tool_errors(cli_env: dict[str, str]) -> None:
    async with stdio(cli_env) as client:
        result = await client.call_tool("spend-request_create", {"amount": "abc"})
    error = error_of(result)
    assert error["code"] == "VALIDATION_ERROR"
    paths = {field["path"] for field in error["fieldErrors"]}
    assert {"amount", "context"} <= paths


async def test_unknown_argument_names_are_refused(cli_env: dict[str, str]) -> None:
    async with stdio(cli_env) as client:
        result = await client.call_tool("spend-request_list", {"includeHistroy": True})
    error = error_of(result)
    assert error["code"] == "VALIDATION_ERROR"
    assert "includeHistroy" in error["message"]


async def test_unknown_tool_is_a_tool_error(cli_env: dict[str, str]) -> None:
    async with stdio(cli_env) as client:
        result = await client.call_tool("serve", {})
    assert error_of(result)["code"] == "COMMAND_NOT_FOUND"


async def test_not_authenticated_carries_the_cli_code(cli_env: dict[str, str]) -> None:
    async with stdio(cli_env) as client:
        result = await client.call_tool("payment-methods_list", {})
    error = error_of(result)
    assert error["code"] == "NOT_AUTHENTICATED"
    assert error["message"] == 'Not authenticated. Run "link-cli auth login" first.'


async def test_invalid_input_from_a_streaming_command_is_not_an_empty_success(
    cli_env: dict[str, str],
) -> None:
    # The official server drops errors a streaming command returns (contract §14.5); ours does not.
    async with stdio(cli_env) as client:
        result = await client.call_tool(
            "spend-request_create",
            {
                "amount": 5000,
                "context": LONG_CONTEXT,
                "credential_type": "shared_payment_token",  # snake_case accepted
            },
        )
    error = error_of(result)
    assert error["code"] == "INVALID_INPUT"
    assert error["message"] == (
        "network-id is required when credential-type is shared_payment_token"
    )


async def test_transport_failures_are_unknown_errors(cli_env: dict[str, str]) -> None:
    # LINK_AUTH_BASE_URL points at a closed loopback port.
    async with stdio(cli_env) as client:
        result = await client.call_tool("auth_login", {"clientName": "Test agent"})
    error = error_of(result)
    assert error["code"] == "UNKNOWN"
    assert error["message"]


async def test_success_has_text_and_structured_content(cli_env: dict[str, str]) -> None:
    async with stdio(cli_env) as client:
        result = await client.call_tool("auth_status", {})
    assert result.is_error is False
    chunks = json.loads(result.content[0].text)
    assert chunks[0]["authenticated"] is False
    assert result.structured_content == {"result": chunks}
