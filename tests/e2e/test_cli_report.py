"""`link-cli report` end to end: the real CLI reports to a real wallet, which keeps the report
beside the agent's own spend request and refuses anything else."""

from __future__ import annotations

import httpx2
import pytest
from tests.support.agent import CONTEXT, Agent, login
from tests.support.person import bearer, wallet_tokens

REPORT = ("--domain", "shop.example", "--outcome", "blocked", "--tag", "captcha")


@pytest.fixture(scope="module")
def session(wallet, tmp_path_factory):
    person = wallet.create_person()
    agent = Agent(wallet.url, tmp_path_factory.mktemp("report") / "auth.json")
    login(agent, person)
    code, chunks = agent.json(
        "spend-request",
        "create",
        "--amount",
        "2500",
        "-m",
        "Report Shop",
        "--merchant-url",
        "https://shop.example/checkout",
        "--context",
        CONTEXT,
    )
    assert code == 0, chunks
    yield agent, person, chunks[0]["id"]
    person.close()


def test_report_returns_the_wallets_record(session) -> None:
    agent, _person, request_id = session
    code, record = agent.json(
        "report",
        *REPORT,
        "--tag",
        "timeout",
        "--spend-request-id",
        request_id,
        "--step",
        "payment page",
        "--freeform-context",
        "The checkout asked for a puzzle the agent could not solve.",
    )
    assert code == 0, record
    assert list(record) == [
        "object",
        "created_at",
        "domain",
        "outcome",
        "spend_request_id",
        "status",
    ]
    assert (record["domain"], record["outcome"], record["spend_request_id"]) == (
        "shop.example",
        "blocked",
        request_id,
    )
    assert record["created_at"].endswith("Z")


def test_reporting_on_a_request_that_is_not_the_agents_own_is_not_found(
    wallet, session, tmp_path
) -> None:
    agent, person, request_id = session
    other = Agent(wallet.url, tmp_path / "other.json")
    login(other, person)  # the same person's second agent
    code, error = other.json("report", *REPORT, "--spend-request-id", request_id)
    assert code == 1
    assert "404" in error["message"] and "No such spend request" in error["message"]
    code, error = agent.json("report", *REPORT, "--spend-request-id", "lsrq_unknown")
    assert code == 1 and "404" in error["message"]


def test_the_cli_refuses_choices_the_command_does_not_offer(session) -> None:
    agent, _person, request_id = session
    code, error = agent.json(
        "report", "--domain", "x", "--outcome", "meh", "--spend-request-id", request_id
    )
    assert code == 1 and error["code"] == "VALIDATION_ERROR"
    assert [f["path"] for f in error["fieldErrors"]] == ["outcome"]


@pytest.mark.parametrize(
    ("change", "param", "status"),
    [
        ({"outcome": "won"}, "outcome", 422),
        ({"tags": ["captcha", "bribery"]}, "tags[1]", 422),
        ({"step": "x" * 501}, "step", 422),
        ({"domain": "shop\u202eexample"}, "domain", 422),
        ({"spend_request_id": None}, "spend_request_id", 400),
        ({"secret": "x"}, "secret", 400),
        ({"tags": "captcha"}, "tags", 400),
    ],
)
def test_the_wallet_refuses_a_report_outside_the_vocabulary(
    wallet, session, change, param, status
) -> None:
    _agent, person, request_id = session
    token = wallet_tokens(wallet, person)["access_token"]
    body = {"domain": "shop.example", "outcome": "success", "spend_request_id": request_id}
    body.update(change)
    body = {key: value for key, value in body.items() if value is not None}
    response = httpx2.post(
        f"{wallet.url}/agent_observations", json=body, headers=bearer(token), timeout=15
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_without_a_login_report_says_not_authenticated(wallet, tmp_path) -> None:
    stranger = Agent(wallet.url, tmp_path / "none.json")
    code, error = stranger.json("report", *REPORT, "--spend-request-id", "lsrq_x")
    assert code == 1 and error["code"] == "NOT_AUTHENTICATED"
