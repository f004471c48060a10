"""Renderers and messages the official CLI prints, in-process (issue 11 item 5).

YAML golden outputs follow the ``yaml`` npm package's ``stringify`` defaults, Markdown the
incur formatter as observed (contract §2.1a), ``JSON.parse`` messages Node 20's, and
``mpp pay`` headers a fetch ``Headers`` iterated into an object.
"""

from __future__ import annotations

import pytest

from link_cli.cli.render import render
from link_cli.commands._js_json import JsonSyntaxError, parse
from link_cli.mpp.client import MerchantRequest, MerchantResponse


def test_yaml_plain_where_the_core_schema_reads_a_string_quoted_elsewhere() -> None:
    value = {
        "id": "lsrq_1",
        "last4": "4242",
        "amount": "250",
        "n": 250,
        "ok": True,
        "nothing": None,
        "empty": {},
        "list": [],
        "created_at": "2026-12-06T14:27:54.137Z",
        "description": "Trailhead Supply Co.: three-day trail forecast",
        "paymentMethodTypes": ["card"],
        "url": "https://x.example/a?b=c",
        "t": "true",
        "n2": "null",
        "e": "",
        "x": "1e3",
        "h": "0x1F",
        "d": "-",
        "li": "- item",
        "hash": "#tag",
        "mid": "a #b",
        "tr": "trailing ",
        "colon": "x:",
        "dq": 'say "hi"',
        "q": '"quoted"',
        "apos": "it's",
        "sq": "'start",
        "yes": "yes",
        "tilde": "~",
        "at": "@me",
    }
    assert render(value, "yaml") == (
        "id: lsrq_1\n"
        'last4: "4242"\n'
        'amount: "250"\n'
        "n: 250\n"
        "ok: true\n"
        "nothing: null\n"
        "empty: {}\n"
        "list: []\n"
        "created_at: 2026-12-06T14:27:54.137Z\n"
        'description: "Trailhead Supply Co.: three-day trail forecast"\n'
        "paymentMethodTypes:\n"
        "  - card\n"
        "url: https://x.example/a?b=c\n"
        't: "true"\n'
        'n2: "null"\n'
        'e: ""\n'
        'x: "1e3"\n'
        'h: "0x1F"\n'
        'd: "-"\n'
        'li: "- item"\n'
        'hash: "#tag"\n'
        'mid: "a #b"\n'
        'tr: "trailing "\n'
        'colon: "x:"\n'
        'dq: say "hi"\n'
        "q: '\"quoted\"'\n"
        "apos: it's\n"
        'sq: "\'start"\n'
        "yes: yes\n"
        'tilde: "~"\n'
        'at: "@me"'
    )


def test_yaml_block_scalars_chomping_and_folding() -> None:
    assert render({"k": "a\nb", "k2": "a\nb\n", "k3": "a\n\n", "z": 1}, "yaml") == (
        "k: |-\n  a\n  b\nk2: |\n  a\n  b\nk3: |+\n  a\n\nz: 1"
    )
    words = " ".join(["word"] * 20)
    assert render({"k": words}, "yaml") == (
        "k: " + " ".join(["word"] * 15) + "\n  " + " ".join(["word"] * 5)
    )
    long_first_line = "Invalid input: expected number, received NaN; Too small: expected string"
    assert render({"m": f"{long_first_line} to have >=100\n\nDetails: [\n  {{}}\n]"}, "yaml") == (
        "m: >-\n"
        "  Invalid input: expected number, received NaN; Too small: expected string to\n"
        "  have >=100\n\n\n  Details: [\n    {}\n  ]"
    )


def test_yaml_sequences_keys_and_numbers() -> None:
    assert render([[1, 2], [3]], "yaml") == "- - 1\n  - 2\n- - 3"
    top = [{"id": "csmrpd_1", "card_details": {"brand": "visa", "last4": "4242"}, "tags": ["a"]}]
    assert render(top, "yaml") == (
        '- id: csmrpd_1\n  card_details:\n    brand: visa\n    last4: "4242"\n  tags:\n    - a'
    )
    assert render({"a b": 1, "1": 2, "x: y": 3, "-": 4, "true": 5}, "yaml") == (
        'a b: 1\n"1": 2\n"x: y": 3\n"-": 4\n"true": 5'
    )
    assert render({"neg": -0.0, "big": 1e21, "small": 5e-7, "nan": float("nan")}, "yaml") == (
        "neg: -0\nbig: 1e+21\nsmall: 5e-7\nnan: .nan"
    )
    assert render({"c": "a\x01b", "ctl": "tab\there"}, "yaml") == 'c: "a\\x01b"\nctl: tab\there'


def test_markdown_sections_per_leaf_and_padded_tables() -> None:
    spend_request = {
        "id": "lsrq_1",
        "amount": 5000,
        "metadata": {},
        "card": {"brand": "visa", "last4": "4242"},
        "line_items": [{"name": "Widget", "quantity": 1, "url": None}],
        "tags": ["a", "b"],
        "nothing": None,
    }
    assert render(spend_request, "md") == (
        "## id\n\nlsrq_1\n\n## amount\n\n5000\n\n"
        "## metadata\n\n| Key | Value |\n|-----|-------|\n\n\n"
        "## card.brand\n\nvisa\n\n## card.last4\n\n4242\n\n"
        "## line_items\n\n| name   | quantity | url |\n|--------|----------|-----|\n"
        "| Widget | 1        |     |\n\n"
        "## tags\n\na,b\n\n## nothing\n\nnull"
    )
    methods = [
        {"id": "csmrpd_1", "is_default": True, "card_details": {"brand": "visa"}},
        {"id": "x2", "is_default": False},
    ]
    # A nested object in a cell is compact JSON, not the official "[object Object]".
    assert render(methods, "md") == (
        "| id       | is_default | card_details     |\n"
        "|----------|------------|------------------|\n"
        '| csmrpd_1 | true       | {"brand":"visa"} |\n'
        "| x2       | false      |                  |"
    )
    assert render([], "md") == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Unexpected end of JSON input"),
        ("{", "Expected property name or '}' in JSON at position 1"),
        ("[", "Unexpected end of JSON input"),
        ("{bad}", "Expected property name or '}' in JSON at position 1"),
        ("{'a':1}", "Expected property name or '}' in JSON at position 1"),
        ('{"a"', "Expected ':' after property name in JSON at position 4"),
        ('{"a":', "Unexpected end of JSON input"),
        ('{"a":1', "Expected ',' or '}' after property value in JSON at position 6"),
        ('{"a":1,}', "Expected double-quoted property name in JSON at position 7"),
        ("[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"),
        ("[1", "Expected ',' or ']' after array element in JSON at position 2"),
        ("01", "Unexpected number in JSON at position 1"),
        ("-", "No number after minus sign in JSON at position 1"),
        ("1.", "Unterminated fractional number in JSON at position 2"),
        ("1e", "Exponent part is missing a number in JSON at position 2"),
        ("NaN", '"NaN" is not valid JSON'),
        ("undefined", '"undefined" is not valid JSON'),
        ("nope", "Unexpected token 'o', \"nope\" is not valid JSON"),
        ("tru", "Unexpected end of JSON input"),
        ('"abc', "Unterminated string in JSON at position 4"),
        ('"\\q"', "Bad escaped character in JSON at position 2"),
        ('"\\u12g4"', "Bad Unicode escape in JSON at position 5"),
        ('"a\x01"', "Bad control character in string literal in JSON at position 2"),
        ("1 2", "Unexpected non-whitespace character after JSON at position 2"),
        (
            '{"a": [1, 2, 3], "b": oops, "c": 3}',
            'Unexpected token \'o\', ..." 3], "b": oops, "c":"... is not valid JSON',
        ),
        ("x" * 30, "Unexpected token 'x', \"xxxxxxxxxx\"... is not valid JSON"),
        ('{"😀": x}', 'Unexpected token \'x\', "{"😀": x}" is not valid JSON'),
        ('["😀", x]', 'Unexpected token \'x\', "["😀", x]" is not valid JSON'),
    ],
)
def test_json_parse_messages_are_node_20s(text: str, message: str) -> None:
    with pytest.raises(JsonSyntaxError) as failure:
        parse(text)
    assert str(failure.value) == message


def test_json_parse_accepts_what_json_parse_accepts() -> None:
    assert parse(' {"approved_at": 1, "x": [true, null, -0.5e3]} ') == {
        "approved_at": 1,
        "x": [True, None, -500.0],
    }


def test_pay_result_headers_come_sorted_as_fetch_headers_iterate() -> None:
    response = MerchantResponse(
        MerchantRequest(url="https://shop.example/"),
        200,
        (
            ("X-B", "1"),
            ("Content-Type", "text/plain"),
            ("x-b", "2"),
            ("Set-Cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("Payment-Receipt", "r"),
        ),
        b"ok",
    )
    headers = response.pay_result()["headers"]
    assert list(headers.items()) == [  # type: ignore[attr-defined]
        ("content-type", "text/plain"),
        ("payment-receipt", "r"),
        ("set-cookie", "b=2"),
        ("x-b", "1, 2"),
    ]


def test_instruction_wording_is_ours_and_the_next_hint_is_official() -> None:
    """`_next` is what agents act on and is byte-identical; `instruction` is our own prose."""
    from link_cli.commands._spend_request_results import with_approval_hint

    chunk = with_approval_hint({"id": "lsrq_1", "status": "pending_approval"}, "lsrq_1")
    assert chunk["_next"] == {
        "command": "spend-request retrieve lsrq_1 --interval 2 --max-attempts 300",
        "until": "status changes from pending_approval",
    }
    assert chunk["instruction"] == (
        "Present the approval_url to the user so they can approve the spend request in their "
        "Link wallet, then immediately run the _next.command to wait for their decision. "
        "Do not create another spend request for this purchase."
    )


def test_scoped_llms_names_each_command_once() -> None:
    """Official incur repeats the group (`link-cli spend-request spend-request create`)."""
    from link_cli.commands._manifest import llms_full, llms_index

    index = llms_index(("spend-request",))
    assert index.startswith("# link-cli spend-request\n\nSpend request management commands\n")
    assert "| `link-cli spend-request retrieve <id>` | Retrieve a spend request |" in index
    assert "spend-request spend-request" not in index
    full = llms_full(("mpp", "pay"))
    assert full.startswith("# link-cli mpp pay\n\nPay a URL via the Machine Payment Protocol.")
    assert "## Arguments\n\n| Name | Type | Required | Description |" in full
