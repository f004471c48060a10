"""Byte parity of what agents parse (issue 11 item 5), run as the real ``link-cli`` process.

Golden outputs are written from the official CLI's contract (link-cli 0.13.1 on incur
0.4.26, zod 4, the ``yaml`` npm package, Node 20): validation errors of streaming
commands in every format, ``--llms``/``--llms-full`` signatures, ``--schema`` key order,
the ``JSON.parse`` message of a bad ``--approval-detail``. No command here reaches a
server: the API base is a closed port, so any request would fail differently.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.environment import clean_env
from tests.support.ports import free_port

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
CONTEXT = "x" * 100


@pytest.fixture(scope="module")
def base_env(tmp_path_factory) -> dict[str, str]:
    closed = f"http://127.0.0.1:{free_port()}"
    return clean_env(
        {
            "LINK_API_BASE_URL": closed,
            "LINK_AUTH_BASE_URL": closed,
            "LINK_AUTH_FILE": str(tmp_path_factory.mktemp("parity") / "auth.json"),
        }
    )


def run(env: dict[str, str], *args: str, **extra: str) -> tuple[int, str]:
    result = subprocess.run(
        [LINK_CLI, *args],
        capture_output=True,
        text=True,
        env={**env, **extra},
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout


# `spend-request create --context short` (no --amount): zod's coerced NaN for the amount,
# the context's too_small, in zod's key order; the message ends with ZodError's JSON.
DETAILS = """[
  {
    "expected": "number",
    "code": "invalid_type",
    "received": "NaN",
    "path": [
      "amount"
    ],
    "message": "Invalid input: expected number, received NaN"
  },
  {
    "origin": "string",
    "code": "too_small",
    "minimum": 100,
    "inclusive": true,
    "path": [
      "context"
    ],
    "message": "Too small: expected string to have >=100 characters"
  }
]"""
SUMMARY = (
    "Invalid input: expected number, received NaN; "
    "Too small: expected string to have >=100 characters"
)
MESSAGE = f"{SUMMARY}\n\nDetails: {DETAILS}"
FIELD_ERRORS = [
    {
        "code": "invalid_type",
        "missing": True,
        "path": "amount",
        "expected": "number",
        "received": "NaN",
        "message": "Invalid input: expected number, received NaN",
    },
    {
        "code": "too_small",
        "missing": False,
        "path": "context",
        "expected": "",
        "received": "",
        "message": "Too small: expected string to have >=100 characters",
    },
]
ERROR = {"code": "VALIDATION_ERROR", "message": MESSAGE, "fieldErrors": FIELD_ERRORS}


def _toon_quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


GOLDEN = {
    "toon": (
        "code: VALIDATION_ERROR\n"
        f"message: {_toon_quoted(MESSAGE)}\n"
        "fieldErrors[2]{code,missing,path,expected,received,message}:\n"
        '  invalid_type,true,amount,number,NaN,"Invalid input: expected number, received NaN"\n'
        '  too_small,false,context,"","","Too small: expected string to have >=100 characters"\n'
    ),
    "json": json.dumps(ERROR, indent=2) + "\n",
    "jsonl": json.dumps(ERROR, separators=(",", ":")) + "\n",
    "yaml": (
        "code: VALIDATION_ERROR\n"
        "message: >-\n"
        "  Invalid input: expected number, received NaN; Too small: expected string to\n"
        "  have >=100 characters\n"
        "\n"
        "\n"
        "  Details: [\n"
        + "".join(f"  {line}\n" for line in DETAILS.splitlines()[1:])
        + "fieldErrors:\n"
        "  - code: invalid_type\n"
        "    missing: true\n"
        "    path: amount\n"
        "    expected: number\n"
        "    received: NaN\n"
        '    message: "Invalid input: expected number, received NaN"\n'
        "  - code: too_small\n"
        "    missing: false\n"
        "    path: context\n"
        '    expected: ""\n'
        '    received: ""\n'
        '    message: "Too small: expected string to have >=100 characters"\n'
    ),
    "md": (
        "## code\n\nVALIDATION_ERROR\n\n## message\n\n"
        f"{MESSAGE}\n\n## fieldErrors\n\n"
        "| code         | missing | path    | expected | received | message"
        "                                             |\n"
        "|--------------|---------|---------|----------|----------|"
        "-----------------------------------------------------|\n"
        "| invalid_type | true    | amount  | number   | NaN      | "
        "Invalid input: expected number, received NaN        |\n"
        "| too_small    | false   | context |          |          | "
        "Too small: expected string to have >=100 characters |\n"
    ),
}


@pytest.mark.parametrize("fmt", [None, "toon", "json", "yaml", "md", "jsonl"])
def test_missing_amount_of_a_streaming_create_in_every_format(base_env, fmt) -> None:
    """Validation runs before a streaming command's body: the error object, never a line."""
    args = ["spend-request", "create", "--context", "short"]
    code, out = run(base_env, *args, *(["--format", fmt] if fmt else []))
    assert (code, out) == (1, GOLDEN[fmt or "toon"])


def _missing_argument(name: str) -> str:
    message = "Invalid input: expected string, received undefined"
    details = json.dumps(
        [{"expected": "string", "code": "invalid_type", "path": [name], "message": message}],
        indent=2,
    )
    full = message + "\n\nDetails: " + details
    return (
        "code: VALIDATION_ERROR\n"
        f"message: {_toon_quoted(full)}\n"
        "fieldErrors[1]{code,missing,path,expected,received,message}:\n"
        f'  invalid_type,true,{name},string,"","{message}"\n'
    )


def _not_a_number(name: str) -> str:
    message = "Invalid input: expected number, received NaN"
    details = json.dumps(
        [
            {
                "expected": "number",
                "code": "invalid_type",
                "received": "NaN",
                "path": [name],
                "message": message,
            }
        ],
        indent=2,
    )
    full = message + "\n\nDetails: " + details
    return (
        "code: VALIDATION_ERROR\n"
        f"message: {_toon_quoted(full)}\n"
        "fieldErrors[1]{code,missing,path,expected,received,message}:\n"
        f'  invalid_type,false,{name},number,NaN,"{message}"\n'
    )


@pytest.mark.parametrize(
    ("args", "extra", "golden"),
    [
        (("auth", "login", "--interval", "soon"), {}, _not_a_number("interval")),
        (("auth", "upgrade", "--timeout", "1e"), {}, _not_a_number("timeout")),
        (("auth", "status", "--max-attempts", "many"), {}, _not_a_number("maxAttempts")),
        (("spend-request", "retrieve"), {}, _missing_argument("id")),
        (("spend-request", "request-approval"), {}, _missing_argument("id")),
        (("mpp", "pay"), {"LINK_ACCESS_TOKEN": "liwltoken_x"}, _missing_argument("url")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_every_streaming_command_prints_its_validation_error_as_an_object(
    base_env, args, extra, golden
) -> None:
    assert run(base_env, *args, **extra) == (1, golden)


def test_the_auth_middleware_runs_first_and_keeps_its_suggestion(base_env) -> None:
    """`mpp pay` without credentials: incur's middleware answers before validation."""
    assert run(base_env, "mpp", "pay") == (
        1,
        "code: NOT_AUTHENTICATED\n"
        'message: "Not authenticated. Run \\"link-cli auth login\\" first."\n'
        "cta:\n"
        '  description: "Suggested command:"\n'
        "  commands[1]{command,description}:\n"
        "    link-cli auth login,Log in to Link\n",
    )


def test_a_bad_approval_detail_fails_with_the_json_parse_message(base_env) -> None:
    base = ("spend-request", "create", "--amount", "100", "--context", CONTEXT, "-m", "Shop")
    base += ("--merchant-url", "https://shop.example")
    cases = {
        "{approved_at: 1}": "Expected property name or '}' in JSON at position 1",
        '{"approved_at": 1,}': "Expected double-quoted property name in JSON at position 18",
        "": "Unexpected end of JSON input",
    }
    for detail, message in cases.items():
        assert run(base_env, *base, "--approval-detail", detail) == (1, f"Error: {message}\n")
    code, out = run(base_env, *base, "--approval-detail", "nope", "--json")
    assert code == 1
    assert json.loads(out) == {
        "code": "UNKNOWN",
        "message": "Unexpected token 'o', \"nope\" is not valid JSON",
    }


def test_llms_lists_commands_with_their_positional_arguments(base_env) -> None:
    code, out = run(base_env, "--llms")
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "# link-cli",
        "",
        "Create a secure, one-time payment credential from a Link wallet to let agents "
        "complete purchases on behalf of users.",
        "",
        "| Command | Description |",
        "|---------|-------------|",
    ]
    assert "| `link-cli mpp pay <url>` | Pay a URL via the Machine Payment Protocol." in out
    for signature in ("spend-request retrieve <id>", "spend-request cancel <id>", "auth login"):
        assert f"| `link-cli {signature}` |" in out
    assert lines[-1] == (
        "Run `link-cli --llms-full` for full manifest. "
        "Run `link-cli <command> --schema` for argument details."
    )
    assert run(base_env, "--llms", "--format", "md") == (0, out)  # md is this Markdown


def test_llms_full_has_group_headings_arguments_and_option_tables(base_env) -> None:
    code, out = run(base_env, "--llms-full")
    assert code == 0 and out.startswith("# link-cli\n\n## link-cli auth\n\nAuthentication commands")
    pay = out.split("### link-cli mpp pay\n", 1)[1].split("\n### ", 1)[0]
    assert "#### Arguments\n\n| Name | Type | Required | Description |\n" in pay
    assert "|------|------|----------|-------------|\n| `url` | `string` | yes | " in pay
    assert (
        "| Flag | Type | Default | Description |\n|------|------|---------|-------------|\n" in pay
    )
    assert "| `--amount` | `number` |  | " in pay and "| `--test` | `boolean` | `false` | " in pay
    assert "| `--header` | `array` |  | " in pay
    # Our declarations carry examples; incur's generator prints them as a sh block.
    assert "#### Examples\n\n```sh\nlink-cli mpp pay " in pay


def test_schema_properties_in_zods_key_order(base_env) -> None:
    code, out = run(base_env, "spend-request", "create", "--schema", "--format", "json")
    options = json.loads(out)["options"]
    properties = options["properties"]
    assert list(properties["amount"]) == ["description", "type", "exclusiveMinimum", "maximum"]
    assert properties["amount"]["type"] == "integer"
    assert list(properties["currency"]) == [
        "description",
        "default",
        "type",
        "minLength",
        "maxLength",
    ]
    assert list(properties["credentialType"]) == ["description", "default", "type", "enum"]
    assert list(properties["lineItem"]) == ["description", "default", "type", "items"]
    assert properties["expiresAt"] == {
        "description": "Unix timestamp (seconds).",
        "type": "integer",
        "minimum": -(2**53 - 1),
        "maximum": 2**53 - 1,
    }
    # Output mode: a field with a default is always there, so it is required too.
    assert "currency" in options["required"] and "context" in options["required"]
    assert "paymentMethodId" not in options["required"]
    code, out = run(base_env, "spend-request", "retrieve", "--schema", "--format", "json")
    assert code == 0
    schema = json.loads(out)
    assert schema["args"]["properties"]["id"] == {
        "description": "Spend request ID (lsrq_…)",
        "type": "string",
    }
    assert ["id", *schema["options"]["required"]] == [
        "id",
        "timeout",
        "interval",
        "maxAttempts",
        "include",
        "force",
    ]
