"""Errors that need no wallet, raised by the real ``link-cli`` process (contract §1.4, §1.5, §5.3).

Every line is one JSON error object on stdout under ``--format json`` and exit code 1;
the wallet-backed codes (NOT_AUTHENTICATED, NOT_FOUND, POLLING_TIMEOUT, ...) are in the
other ``test_cli_*`` files.
"""

from __future__ import annotations

import json

import pytest
from tests.support.agent import Agent
from tests.support.ports import free_port


@pytest.fixture
def agent(tmp_path):
    return Agent(f"http://127.0.0.1:{free_port()}", tmp_path / "auth.json")


def test_unknown_command_is_command_not_found_with_the_corrected_line(agent):
    code, error = agent.json("spend-request", "retreive", "lsrq_1")
    assert code == 1 and error["code"] == "COMMAND_NOT_FOUND"
    assert error["message"].endswith("Did you mean 'retrieve'?")
    assert error["cta"]["commands"][0] == {
        "command": "link-cli spend-request retrieve lsrq_1 --format json"
    }


def test_interactive_demo_off_a_terminal_requires_a_tty(agent):
    code, error = agent.json("demo")
    assert (code, error["code"]) == (1, "REQUIRES_TTY")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("spend-request", "list", "--bogus"), "Unknown flag: --bogus"),
        (("spend-request", "update", "lsrq_1", "--amount"), "Missing value for flag: --amount"),
    ],
)
def test_flag_errors_are_unknown_in_the_chosen_format(agent, args, message):
    code, error = agent.json(*args)
    assert (code, error) == (1, {"code": "UNKNOWN", "message": message})


def test_invalid_format_is_rendered_as_toon(agent):
    result = agent.run("spend-request", "list", "--format", "xml")
    assert result.returncode == 1
    assert result.stdout.startswith("code: UNKNOWN\nmessage: ")
    assert 'Invalid format: \\"xml\\"' in result.stdout


def test_transport_error_names_the_url_it_could_not_reach(agent):
    code, error = agent.json("spend-request", "list", LINK_ACCESS_TOKEN="at_x")
    assert (code, error["code"]) == (1, "UNKNOWN")
    assert error["message"].startswith(f"Request failed: GET {agent.base_url}/spend_requests (")
    assert "LINK_API_BASE_URL" in error["message"]
    assert json.dumps(error).count("at_x") == 0  # the token never appears in an error
