"""The CLI edge in-process: modes, formats, streaming, error rendering, exit codes.

These use commands that need no server (``auth status``, ``payment-methods add`` with an
env token) or that must fail before any request: the API base points at a closed port,
so a request would surface as a transport error instead of the asserted one.
"""

from __future__ import annotations

import io
import json
import os
import stat

import pytest
from tests.support.ports import free_port

from link_cli.cli.main import run

CONTEXT = (
    "Buying one blue widget for the user's desk project, as requested in chat just now, for delivery."
    * 2
)


class Out(io.StringIO):
    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def env(monkeypatch, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LINK_API_BASE_URL", closed)
    monkeypatch.setenv("LINK_AUTH_BASE_URL", closed)
    monkeypatch.setenv("LINK_AUTH_FILE", str(tmp_path / "auth.json"))
    return tmp_path


def cli(*argv: str, tty: bool = False) -> tuple[int, str]:
    out = Out(tty)
    code = run(list(argv), out)
    return code, out.getvalue()


def test_version_prints_the_bare_version(env):
    from link_cli import __version__

    assert cli("--version") == (0, __version__ + "\n")


def test_group_without_subcommand_prints_help_and_exits_zero(env):
    code, out = cli("spend-request")
    assert code == 0 and "request-approval" in out and "Request approval for a spend request" in out


def test_command_help_lists_kebab_flags_and_aliases(env):
    code, out = cli("spend-request", "create", "--help")
    assert code == 0
    assert "-m, --merchant-name <string>" in out and "--line-item <string>" in out


def test_schema_prints_json_schema_without_running(env):
    code, out = cli("spend-request", "retrieve", "--schema", "--format", "json")
    schema = json.loads(out)
    assert code == 0 and schema["args"]["required"] == ["id"]
    assert schema["options"]["properties"]["timeout"]["default"] == 600


def test_llms_manifest_json(env):
    code, out = cli("--llms", "--format", "json")
    assert code == 0
    manifest = json.loads(out)
    assert manifest["version"] == "incur.v1"
    assert {"name": "auth login", "description": "Authenticate with Link"} in manifest["commands"]
    _, out = cli("spend-request", "--llms-full", "--format", "json")
    entries = json.loads(out)["commands"]
    assert {e["name"].split()[0] for e in entries} == {"spend-request"}
    assert "schema" in entries[0]


def test_llms_full_markdown_shows_camel_case_flags(env):
    code, out = cli("--llms-full")
    assert code == 0 and "`--clientName`" in out and "## link-cli spend-request create" in out


def test_validation_error_happens_before_any_request(env):
    code, out = cli(
        "spend-request", "create", "--amount", "abc", "--context", "x", "--format", "json"
    )
    body = json.loads(out)
    assert code == 1 and body["code"] == "VALIDATION_ERROR"
    assert [f["path"] for f in body["fieldErrors"]] == ["amount", "context"]


def test_streaming_error_in_default_toon_is_a_plain_line(env):
    code, out = cli("spend-request", "create", "--amount", "100", "--context", CONTEXT)
    assert code == 1
    assert out == "Error (INVALID_INPUT): merchant-name is required when credential-type is card\n"


def test_unknown_code_line_has_no_code(env):
    code, out = cli(
        "spend-request",
        "create",
        "--amount",
        "100",
        "--context",
        CONTEXT,
        "-m",
        "Shop",
        "--merchant-url",
        "https://shop.example",
        "--line-item",
        "oops",
    )
    assert (code, out) == (1, "Error: Invalid field (missing ':'): oops\n")


LPT = ("--execution-method", "link_pay_token", "--merchant-account-id", " acct_1 ")


def test_lpt_rules_in_official_order(env):
    """Each of contract §3.5 rules a-g, before any request (the API base is a closed port)."""
    base = ("spend-request", "create", "--amount", "100", "--context", CONTEXT, "--json")
    cases = [
        (
            ("--merchant-account-id", "acct_1", "--execution-method", "link_pay_token", "--test"),
            "test cannot be used when execution-method is link_pay_token",
        ),
        (
            ("--merchant-account-id", "acct_1"),
            "execution-method link_pay_token is required when merchant-account-id is provided",
        ),
        (
            ("--execution-method", "link_pay_token", "--merchant-account-id", "  "),
            "merchant-account-id is required when execution-method is link_pay_token",
        ),
        (
            ("--execution-method", "link_pay_token", "--merchant-account-id", "a", "-m", "X"),
            "merchant-name and merchant-url cannot be used when execution-method is link_pay_token; "
            "Link resolves the merchant identity from merchant-account-id",
        ),
        (
            ("--network-id", "net_1", "-m", "X", "--merchant-url", "u"),
            "network-id can only be used when credential-type is shared_payment_token",
        ),
        (  # b: the execution method alone
            ("--execution-method", "link_pay_token"),
            "merchant-account-id is required when execution-method is link_pay_token",
        ),
        (  # c comes before the SPT rule (no network id)
            (*LPT, "--credential-type", "shared_payment_token"),
            "credential-type must be card when execution-method is link_pay_token",
        ),
        (  # d
            (*LPT, "--network-id", "net_1"),
            "network-id cannot be used when execution-method is link_pay_token",
        ),
        (  # f
            (*LPT, "--approve"),
            "approve cannot be used when execution-method is link_pay_token; "
            "use request-approval instead",
        ),
        (  # g: the URL alone
            (*LPT, "--merchant-url", "https://shop.example"),
            "merchant-name and merchant-url cannot be used when execution-method is link_pay_token; "
            "Link resolves the merchant identity from merchant-account-id",
        ),
    ]
    for extra, message in cases:
        code, out = cli(*base, *extra)
        assert code == 1 and json.loads(out) == {"code": "INVALID_INPUT", "message": message}


def test_not_authenticated_before_any_request(env):
    code, out = cli("payment-methods", "list", "--json")
    body = json.loads(out)
    assert code == 1 and body["code"] == "NOT_AUTHENTICATED"
    assert body["cta"]["commands"] == [
        {"command": "link-cli auth login", "description": "Log in to Link"}
    ]


def test_guarded_commands_say_not_authenticated_too(env):
    """contract §14.3: the official guard is a no-op (UNKNOWN); ours returns what it promises."""
    code, out = cli("spend-request", "retrieve", "lsrq_1", "--format", "jsonl")
    line = json.loads(out)
    assert code == 1 and line["type"] == "error" and line["error"]["code"] == "NOT_AUTHENTICATED"


def test_auth_status_creates_a_private_credentials_file(env):
    code, out = cli("auth", "status", "--json")
    assert code == 0
    assert json.loads(out) == [{"authenticated": False, "credentials_path": str(env / "auth.json")}]
    assert stat.S_IMODE(os.stat(env / "auth.json").st_mode) == 0o600


def test_env_token_status_and_streaming_formats(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "lwat_abcdefghijklmnopqrstuvwxyz")
    chunk = {
        "authenticated": True,
        "access_token": "lwat_abcdefghijklmno...",
        "token_type": "Bearer",
    }
    assert json.loads(cli("auth", "status", "--json")[1]) == [chunk]
    lines = [json.loads(x) for x in cli("auth", "status", "--format", "jsonl")[1].splitlines()]
    assert lines[0] == {"type": "chunk", "data": chunk}
    assert lines[1]["type"] == "done" and lines[1]["meta"]["command"] == "auth status"
    assert cli("auth", "status")[1] == (
        "authenticated: true\naccess_token: lwat_abcdefghijklmno...\ntoken_type: Bearer\n"
    )
    assert "- authenticated: true" in cli("auth", "status", "--format", "yaml")[1]


def test_non_streaming_value_and_full_output_envelope(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "tok")
    api = os.environ["LINK_API_BASE_URL"]
    assert json.loads(cli("payment-methods", "add", "--json")[1]) == {
        "url": f"{api}/wallet/cards/new"
    }
    envelope = json.loads(cli("payment-methods", "add", "--json", "--full-output")[1])
    assert envelope["ok"] is True and envelope["data"]["url"].endswith("/wallet/cards/new")
    assert envelope["meta"]["command"] == "payment-methods add"
    assert envelope["meta"]["duration"].endswith("ms")


def test_full_output_error_envelope_puts_the_suggestion_in_meta(env):
    envelope = json.loads(cli("payment-methods", "list", "--json", "--full-output")[1])
    assert envelope["ok"] is False and envelope["error"]["code"] == "NOT_AUTHENTICATED"
    assert "cta" not in envelope["error"]
    assert envelope["meta"]["cta"]["commands"][0]["command"] == "link-cli auth login"


def test_official_service_gets_the_official_wallet_url(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "tok")
    monkeypatch.setenv("LINK_API_BASE_URL", "https://api.link.com")
    assert json.loads(cli("payment-methods", "add", "--json")[1]) == {
        "url": "https://app.link.com/wallet"
    }


def test_transport_error_names_the_unreachable_url(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "tok")
    code, out = cli("user-info", "retrieve", "--json")
    body = json.loads(out)
    assert code == 1 and body["code"] == "UNKNOWN"
    assert os.environ["LINK_API_BASE_URL"] in body["message"]


def test_without_base_urls_the_local_wallet_is_the_service(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "tok")
    monkeypatch.delenv("LINK_API_BASE_URL")
    monkeypatch.delenv("LINK_AUTH_BASE_URL")
    assert json.loads(cli("payment-methods", "add", "--json")[1]) == {
        "url": "http://127.0.0.1:8725/wallet/cards/new"
    }


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("--filter-output", "id", "auth", "status"), "UNKNOWN", "Unknown flag: --filter-output"),
        (("--token-count", "auth", "status"), "UNKNOWN", "Unknown flag: --token-count"),
        (("completions", "bash"), "COMMAND_NOT_FOUND", "'completions' is not a command"),
        (("mcp", "add"), "COMMAND_NOT_FOUND", "'mcp' is not a command"),
        (("skills", "list"), "COMMAND_NOT_FOUND", "'skills' is not a command"),
    ],
)
def test_framework_built_ins_are_not_offered(env, argv, code, message):
    status, out = cli(*argv, "--json")
    body = json.loads(out)
    assert status == 1 and body["code"] == code
    assert body["message"].startswith(message)


def test_debug_variable_re_raises_unexpected_errors(env, monkeypatch):
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "tok")
    monkeypatch.setenv("LINK_CLI_DEBUG", "1")
    with pytest.raises(Exception, match="Request failed"):
        cli("user-info", "retrieve", "--json")


def test_unknown_command_renders_command_not_found_in_the_chosen_format(env):
    code, out = cli("spend-requests", "list", "--json")
    body = json.loads(out)
    assert code == 1 and body["code"] == "COMMAND_NOT_FOUND"
    assert body["message"] == (
        "'spend-requests' is not a command for 'link-cli'. Did you mean 'spend-request'?"
    )
    assert [c["command"] for c in body["cta"]["commands"]] == [
        "link-cli spend-request list --json",
        "link-cli --help",
    ]


def test_parse_errors_follow_format_and_full_output(env):
    code, out = cli("spend-request", "create", "--bogus", "--format", "yaml")
    assert (code, out) == (
        1,
        'code: UNKNOWN\nmessage: "Unknown flag: --bogus"\n',
    )  # yaml npm quoting
    code, out = cli("frobnicate", "--format", "json", "--full-output")
    envelope = json.loads(out)
    assert code == 1 and list(envelope) == ["ok", "error", "meta"]
    assert envelope["ok"] is False and envelope["error"]["code"] == "COMMAND_NOT_FOUND"
    assert "cta" not in envelope["error"]  # the envelope carries it in meta (contract §1.4)
    assert envelope["meta"]["command"] == "frobnicate"
    assert envelope["meta"]["cta"]["commands"] == [
        {"command": "link-cli --help", "description": "see all available commands"}
    ]
    # An invalid --format value itself can only be rendered as toon (contract §1.4).
    code, out = cli("spend-request", "list", "--format", "xml")
    assert code == 1 and out.startswith("code: UNKNOWN\nmessage: ")


def test_human_mode_masks_card_numbers_and_sanitizes():
    from link_cli.cli import tty
    from link_cli.commands import find_command

    out = Out(tty=True)
    value = {
        "id": "lsrq_1",
        "status": "approved",
        "merchant_name": "Evil\x1b[2J Store",
        "card": {"number": "4242424242424242", "cvc": "123", "exp_month": 12},
    }
    tty.present(find_command(("spend-request", "cancel")), value, out)
    text = out.getvalue()
    assert "4242424242424242" not in text and "•••• 4242" in text
    assert "123" not in text and "\x1b[2J" not in text and "Evil Store" in text


def test_human_validation_errors_name_the_flags(env):
    code, out = cli("spend-request", "create", "--amount", "x", tty=True)
    assert code == 1
    assert "Error: invalid value for --amount: Invalid input: expected number, received NaN" in out
    assert "Error: missing required option --context" in out and "See below for usage." in out


def test_streaming_errors_keep_their_suggestion(env):
    """contract §14.6 fix: the official CLI drops CTAs on streaming-command errors."""
    args = (
        "spend-request",
        "create",
        "--amount",
        "100",
        "--context",
        CONTEXT,
        "--credential-type",
        "shared_payment_token",
    )
    code, out = cli(*args, "--json")
    body = json.loads(out)
    assert code == 1 and body["code"] == "INVALID_INPUT"
    assert body["cta"]["commands"][0]["command"].startswith("link-cli mpp decode")
    code, out = cli(*args)
    first, _, rest = out.partition("\n")
    assert first == (
        "Error (INVALID_INPUT): network-id is required when credential-type is shared_payment_token"
    )
    assert "link-cli mpp decode" in rest


def test_auth_flag_wins_over_the_environment_and_gets_json_appended(env, tmp_path):
    code, out = cli("--auth", str(tmp_path / "creds"), "auth", "status", "--json")
    assert code == 0 and json.loads(out)[0]["credentials_path"] == str(tmp_path / "creds.json")
    assert (tmp_path / "creds.json").exists() and not (env / "auth.json").exists()


@pytest.mark.server
def test_mcp_flag_starts_the_real_mcp_server_on_stdio(env):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("link-cli")
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    result = subprocess.run(
        [str(script), "--mcp"],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    response = json.loads(result.stdout.splitlines()[0])
    assert response["id"] == 1 and response["result"]["serverInfo"]["name"] == "link-cli"


def test_human_auth_status_reports_once_without_waiting(env):
    import threading

    result: list[tuple[int, str]] = []
    worker = threading.Thread(
        target=lambda: result.append(cli("auth", "status", tty=True)), daemon=True
    )
    worker.start()
    worker.join(20)
    assert result, "auth status kept polling in human mode"
    code, out = result[0]
    assert code == 0 and "authenticated: false" in out


def test_human_lists_are_one_readable_line_per_item():
    from link_cli.cli import tty
    from link_cli.commands import find_command

    out = Out(tty=True)
    methods = [
        {
            "id": "csmrpd_1",
            "is_default": True,
            "nickname": "Work\x1b]0;x\x07",
            "card_details": {"brand": "visa", "last4": "4242"},
            "capabilities": {
                "agentic_payments": {"eligible": False, "ineligibility_reasons": ["expired"]}
            },
        },
    ]
    tty.present(find_command(("payment-methods", "list")), methods, out)
    text = out.getvalue()
    assert text.startswith("csmrpd_1  visa ****4242 (Work)")
    assert "agentic_payments: ineligible (expired)" in text and "\x07" not in text


@pytest.mark.parametrize(
    ("status", "offered"), [("pending_approval", True), ("expired", False), ("approved", False)]
)
def test_human_view_offers_the_approval_page_only_while_it_awaits_a_decision(status, offered):
    from link_cli.cli import tty
    from link_cli.commands import find_command

    out = Out(tty=True)
    url = "http://127.0.0.1:8725/approve/lsrq_1"
    value = {"id": "lsrq_1", "status": status, "approval_url": url}
    tty.present(find_command(("spend-request", "retrieve")), iter([value]), out)
    text = out.getvalue()
    assert (f"│ {url} │" in text) is offered  # the boxed URL and its QR code
    assert f"approval_url: {url}" in text  # the field itself is always listed
