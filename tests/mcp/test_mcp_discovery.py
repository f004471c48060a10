"""The official server's discovery tools (contract §9.2), served beside the direct tools:
a client written for 0.13.1 finds, describes and calls every tool through them, over the
real `link-cli --mcp` subprocess."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_mcp_stdio_tools import error_of, stdio

from link_cli.mcp import discovery

pytestmark = pytest.mark.anyio

DISCOVERY = ["call_read_tool", "call_write_tool", "get_tool_details", "search_tools"]
CHALLENGE = (
    'Payment id="ch_001", realm="merchant.example", method="stripe", intent="charge", '
    'request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8wMDEifX0"'
)


def _names(found: dict[str, Any]) -> list[str]:
    return [tool["name"] for tool in found["tools"]]


def test_empty_query_pages_through_every_tool_sorted_by_name() -> None:
    first = discovery.search({})
    assert len(first["tools"]) == discovery.DEFAULT_LIMIT and first["nextOffset"] == 5
    seen: list[str] = []
    offset: int | None = 0
    for _ in range(10):  # bounded: 20 per page covers the catalogue in two pages
        page = discovery.search({"limit": 20, "offset": offset})
        seen += _names(page)
        offset = page.get("nextOffset")
        if offset is None:
            break
    assert seen == sorted(seen) and "spend-request_create" in seen and len(seen) == len(set(seen))
    assert not set(seen) & set(DISCOVERY)


def test_search_ranks_exact_names_then_prefixes_then_words() -> None:
    assert _names(discovery.search({"query": "mpp_pay"}))[0] == "mpp_pay"
    assert _names(discovery.search({"query": "MPP"}))[:2] == ["mpp_decode", "mpp_pay"]
    assert _names(discovery.search({"query": "spend request create"}))[0] == (
        "spend-request_create"
    )
    assert discovery.search({"query": "zzzqqq-xyzzy"}) == {"tools": []}


@pytest.mark.parametrize(
    "arguments",
    [{"limit": 0}, {"limit": 21}, {"offset": -1}, {"limit": True}, {"query": 7}],
)
def test_search_refuses_arguments_outside_the_official_bounds(arguments: dict[str, Any]) -> None:
    with pytest.raises(discovery.ValidationError):
        discovery.search(arguments)


@pytest.mark.server
async def test_a_client_of_the_official_server_finds_describes_and_calls_tools(
    cli_env: dict[str, str],
) -> None:
    async with stdio(cli_env) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(DISCOVERY) <= set(listed) and "spend-request_create" in listed
        assert listed["call_write_tool"].annotations.destructive_hint is True
        assert listed["search_tools"].annotations.read_only_hint is True

        found = await client.call_tool("search_tools", {"query": "decode"})
        assert json.loads(found.content[0].text)["tools"][0]["name"] == "mpp_decode"

        details = await client.call_tool("get_tool_details", {"name": "spend-request_create"})
        described = json.loads(details.content[0].text)
        assert described["inputSchema"] == listed["spend-request_create"].input_schema
        assert described["description"] == listed["spend-request_create"].description

        unknown = await client.call_tool("get_tool_details", {"name": "nope"})
        assert error_of(unknown)["error"] == "Unknown tool: nope"

        direct = await client.call_tool("mpp_decode", {"challenge": CHALLENGE})
        via_read = await client.call_tool(
            "call_read_tool", {"name": "mpp_decode", "arguments": {"challenge": CHALLENGE}}
        )
        via_write = await client.call_tool(
            "call_write_tool", {"name": "mpp_decode", "arguments": {"challenge": CHALLENGE}}
        )
        assert direct.is_error is not True
        assert json.loads(via_read.content[0].text)["network_id"] == "net_001"
        assert via_read.content[0].text == direct.content[0].text == via_write.content[0].text

        refused = await client.call_tool(
            "call_read_tool", {"name": "spend-request_create", "arguments": {}}
        )
        assert error_of(refused)["message"] == "Tool is not read-only: spend-request_create"

        invalid = await client.call_tool(
            "call_write_tool", {"name": "mpp_decode", "arguments": {"bogus": 1}}
        )
        assert error_of(invalid)["code"] == "VALIDATION_ERROR"
