"""MCP arguments reach the handler as the CLI's would: camelCase or snake_case names,
structured values as objects, numbers as strings, a lone value where a list is expected."""

from __future__ import annotations

from typing import Any

import pytest

from link_cli.commands import find_command
from link_cli.commands._spec import validate
from link_cli.commands._spend_request_input import create_body
from link_cli.errors import ValidationError
from link_cli.mcp.calls import normalize_arguments

CONTEXT = "x" * 120
ITEM = {"name": "Trail shoes", "quantity": 1, "unit_amount": 12900}
TOTAL = {"type": "total", "display_text": "Total", "amount": 12900}


def params(path: tuple[str, ...], arguments: dict[str, Any]) -> dict[str, Any]:
    command = find_command(path)
    assert command is not None
    return validate(command, normalize_arguments(command, arguments))


def test_structured_values_are_sent_as_given() -> None:
    p = params(
        ("spend-request", "create"),
        {
            "amount": "12900",  # numbers may come as strings
            "context": CONTEXT,
            "merchant_name": "Trail Shop",  # snake_case spelling
            "lineItem": ITEM,  # a lone object where a list is expected
            "total": [TOTAL],
            "metadata": {"order_id": "ord_42"},
            "approvalDetail": {"delegated": True, "reason": "standing order"},
        },
    )
    assert p["amount"] == 12900 and p["merchantName"] == "Trail Shop"
    body = create_body(p)
    assert body["line_items"] == [ITEM]
    assert body["totals"] == [TOTAL]
    assert body["metadata"] == {"order_id": "ord_42"}
    assert body["approval_details"] == {"delegated": True, "reason": "standing order"}


def test_a_lone_string_counts_as_a_one_element_list() -> None:
    p = params(("spend-request", "retrieve"), {"id": "lsrq_1", "include": "card"})
    assert p["include"] == ["card"]


def test_the_camel_case_spelling_wins_over_its_snake_case_twin() -> None:
    p = params(
        ("spend-request", "list"),
        {"include_history": False, "includeHistory": True},
    )
    assert p["includeHistory"] is True


@pytest.mark.parametrize("spelling", ["merchant_name", "merchant-name"])
def test_the_flag_spellings_are_accepted(spelling: str) -> None:
    p = params(("spend-request", "create"), {"amount": 1, "context": CONTEXT, spelling: "Shop"})
    assert p["merchantName"] == "Shop"


@pytest.mark.parametrize("key", ["merchantname", "MerchantName", "merchant name", "__class__"])
def test_other_spellings_are_refused_by_name(key: str) -> None:
    command = find_command(("spend-request", "create"))
    assert command is not None
    with pytest.raises(ValidationError) as caught:
        normalize_arguments(command, {key: "Trail Shop"})
    assert key in caught.value.message
