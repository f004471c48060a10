"""Registry declarations, validation (VALIDATION_ERROR of contract §5.2) and JSON Schema."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli import commands as registry
from link_cli.commands._spec import UNDEFINED, input_schema, js_number, strip_undefined, validate
from link_cli.errors import ValidationError

CREATE = registry.find_command(("spend-request", "create"))
CONTEXT = "A" * 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e3", 1000),
        (" 42 ", 42),
        ("", 0),
        ("0x1A", 26),
        ("-1.5", -1.5),
        (".5", 0.5),
        ("Infinity", math.inf),
    ],
)
def test_js_number_matches_javascript(text, expected):
    assert js_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "1_000", "nan", "inf", "1e", "--1", "-0x1", "12px"])
def test_js_number_is_nan_where_javascript_is(text):
    assert math.isnan(js_number(text))


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_js_number_reads_integers_back(n):
    assert js_number(str(n)) == n


def test_numbers_are_coerced_and_defaults_applied():
    params = validate(CREATE, {"amount": "1e3", "context": CONTEXT})
    assert params["amount"] == 1000 and isinstance(params["amount"], int)
    assert params["currency"] == "usd"
    assert params["credentialType"] == "card"
    assert params["requestApproval"] is True
    assert params["lineItem"] == []
    assert params["networkId"] is UNDEFINED


def test_validation_error_shape():
    with pytest.raises(ValidationError) as info:
        validate(CREATE, {"amount": "abc", "context": "short"})
    error = info.value
    head, _, details = error.message.partition("\n\nDetails: ")
    assert head == (
        "Invalid input: expected number, received NaN; "
        "Too small: expected string to have >=100 characters"
    )
    issues = json.loads(details)
    assert [i["path"] for i in issues] == [["amount"], ["context"]]
    assert error.to_dict()["code"] == "VALIDATION_ERROR"
    assert error.field_errors[0] == {
        "code": "invalid_type",
        "missing": False,
        "path": "amount",
        "expected": "number",
        "received": "NaN",
        "message": "Invalid input: expected number, received NaN",
    }


def test_missing_required_option_is_marked_missing():
    with pytest.raises(ValidationError) as info:
        validate(CREATE, {"amount": 5})
    (field,) = info.value.field_errors
    assert field["missing"] is True and field["path"] == "context"
    assert field["message"] == "Invalid input: expected string, received undefined"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Too small: expected number to be >0"),
        ("500001", "Too big: expected number to be <=500000"),
        ("1.5", "Invalid input: expected int, received number"),
    ],
)
def test_amount_constraints(amount, message):
    with pytest.raises(ValidationError) as info:
        validate(CREATE, {"amount": amount, "context": CONTEXT})
    assert info.value.message.startswith(message)


def test_enum_error_lists_the_choices():
    with pytest.raises(ValidationError, match='expected one of "shared_payment_token"\\|"card"'):
        validate(CREATE, {"amount": 1, "context": CONTEXT, "credentialType": "cash"})


def test_mcp_objects_pass_where_allowed_and_metadata_must_be_an_array():
    params = validate(
        CREATE,
        {"amount": 1, "context": CONTEXT, "lineItem": [{"name": "x"}], "metadata": [{"a": "b"}]},
    )
    assert params["lineItem"] == [{"name": "x"}]
    with pytest.raises(ValidationError, match="expected array, received object"):
        validate(CREATE, {"amount": 1, "context": CONTEXT, "metadata": {"a": "b"}})


def test_input_schema_merges_args_and_options():
    retrieve = registry.find_command(("spend-request", "retrieve"))
    schema = input_schema(retrieve)
    assert schema["required"] == ["id"]
    assert {"id", "interval", "maxAttempts", "timeout", "include", "outputFile", "force"} <= set(
        schema["properties"]
    )
    assert input_schema(CREATE)["properties"]["amount"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "maximum": 500000,
        "description": "Amount in the currency's minor unit (cents)",
    }


def test_strip_undefined_drops_keys_like_json_stringify():
    assert strip_undefined({"a": UNDEFINED, "b": [UNDEFINED, {"c": UNDEFINED}]}) == {
        "b": [None, {}]
    }


def test_registry_descriptions_are_the_official_strings():
    by_name = {c.name: c.description for c in registry.all_commands()}
    assert by_name["auth login"] == "Authenticate with Link"
    assert by_name["spend-request cancel"] == "Cancel a spend request"
    assert by_name["payment-methods add"] == "Open the Link wallet to add a new payment method"
    assert by_name["user-info retrieve"] == "Retrieve user info (email, name, phone)"


def test_every_handler_resolves():
    for command in registry.all_commands():
        assert callable(registry.load_handler(command)), command.name


def test_tool_names_are_derived_from_paths():
    names = {c.tool_name for c in registry.all_commands()}
    assert {"spend-request_create", "auth_login", "payment-methods_list"} <= names
