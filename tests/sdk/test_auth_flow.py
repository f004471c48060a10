"""The sans-I/O 401 rule (contract §6.6), driven synchronously and asynchronously."""

from __future__ import annotations

import asyncio

import pytest

from link_cli.sdk._http import HttpRequest, HttpResponse, arun_flow, bearer_auth_flow, run_flow

REQUEST = HttpRequest("GET", "http://127.0.0.1:1/userinfo", {"User-Agent": "link-cli/x"})


class Script:
    """Answers each send with the next scripted status; records what was asked for."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.sent: list[HttpRequest] = []
        self.token_requests: list[bool] = []

    def token(self, force_refresh: bool) -> str:
        self.token_requests.append(force_refresh)
        return "fresh" if force_refresh else "cached"

    def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return HttpResponse(self.statuses.pop(0), "", [], "")


@pytest.mark.parametrize("status", [200, 403, 404, 500])
def test_non_401_answers_are_final_after_one_request(status: int) -> None:
    script = Script(status)
    response = run_flow(bearer_auth_flow(REQUEST), script.token, script.send)
    assert response.status == status
    assert script.token_requests == [False]
    assert [r.headers["Authorization"] for r in script.sent] == ["Bearer cached"]


def test_401_gets_a_forced_token_and_retries_exactly_once() -> None:
    script = Script(401, 200)
    assert run_flow(bearer_auth_flow(REQUEST), script.token, script.send).status == 200
    assert script.token_requests == [False, True]
    assert [r.headers["Authorization"] for r in script.sent] == ["Bearer cached", "Bearer fresh"]
    assert all(r.headers["User-Agent"] == "link-cli/x" for r in script.sent)
    assert "Authorization" not in REQUEST.headers  # the original request is untouched


def test_a_second_401_is_returned_not_retried() -> None:
    script = Script(401, 401, 200)
    assert run_flow(bearer_auth_flow(REQUEST), script.token, script.send).status == 401
    assert len(script.sent) == 2
    assert script.statuses == [200]


def test_the_async_driver_shares_the_rule() -> None:
    script = Script(401, 204)

    async def token(force: bool) -> str:
        return script.token(force)

    async def send(request: HttpRequest) -> HttpResponse:
        return script.send(request)

    response = asyncio.run(arun_flow(bearer_auth_flow(REQUEST), token, send))
    assert response.status == 204
    assert script.token_requests == [False, True]
