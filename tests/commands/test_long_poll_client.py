"""The client's side of long-poll (docs/long-poll.md), against loopback stand-ins.

A server that ignores ``Prefer: wait`` (the official service, our wallet with long-poll off)
sees exactly the requests it saw before, at the same intervals, and the output is the same.
A server that applies it (``Preference-Applied``) gets the same requests and output, and
the client adds no sleep of its own. The poller runs on a fake clock: no real time passes;
the applying stand-in advances it by the seconds it "held" the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.commands.mpp_fixtures import TOKEN, LinkApi, cli_env
from tests.sdk.stub import RecordedRequest, StubResponse, StubServer

from link_cli.commands import find_command, validate
from link_cli.commands._context import Context
from link_cli.commands._polling import poll_until
from link_cli.commands.auth import status as auth_status
from link_cli.commands.spend_request import retrieve
from link_cli.errors import PollingTimeout


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _params(path: tuple[str, ...], **given: Any) -> dict[str, Any]:
    command = find_command(path)
    assert command is not None
    return validate(command, given)


def _applying(api: LinkApi, time: FakeTime) -> Any:
    """``api.handle``, but holding (on the fake clock) and saying so, as our wallet does."""
    plain = api.handle

    def handle(request: RecordedRequest) -> StubResponse:
        response = plain(request)
        wait = (request.header("prefer") or "").removeprefix("wait=")
        if wait.isdigit():
            time.now += int(wait)
            response.headers["Preference-Applied"] = f"wait={wait}"
        return response

    return handle


@contextmanager
def link_api() -> Iterator[LinkApi]:
    """The mpp tests' Link API stand-in, whose ``handle`` a test may replace."""
    api = LinkApi()
    server = StubServer(lambda request: api.handle(request)).start()
    api.url = server.url
    try:
        yield api
    finally:
        server.stop()


@pytest.fixture
def api() -> Iterator[LinkApi]:
    with link_api() as stand_in:
        yield stand_in


def _retrieve_run(api: LinkApi, time: FakeTime, **given: Any) -> tuple[list[Any], str | None]:
    api.spend_requests["lsrq_1"] = {"id": "lsrq_1", "status": "pending_approval", "amount": 100}
    api.status_script["lsrq_1"] = ["pending_approval", "pending_approval", "approved"]
    ctx = Context(env=cli_env(api), sleep=time.sleep, clock=time.clock)
    chunks: list[Any] = []
    error = None
    try:
        for chunk in retrieve(_params(("spend-request", "retrieve"), id="lsrq_1", **given), ctx):
            chunks.append(chunk)
    except PollingTimeout as exc:
        error = str(exc)
    return chunks, error


def test_a_server_ignoring_the_preference_sees_the_same_requests_at_the_same_intervals(
    api: LinkApi,
) -> None:
    time = FakeTime()
    chunks, error = _retrieve_run(api, time, interval=2, maxAttempts=300)
    assert error is None
    assert [c["status"] for c in chunks] == ["pending_approval", "approved"]
    assert [(r.method, r.path) for r in api.requests] == [("GET", "/spend_requests/lsrq_1")] * 3
    assert [r.header("prefer") for r in api.requests] == ["wait=2"] * 3  # asked, ignored
    assert time.sleeps == [2, 2]


def test_a_server_applying_the_preference_gets_the_same_requests_and_no_extra_sleep(
    api: LinkApi,
) -> None:
    plain_time, held_time = FakeTime(), FakeTime()
    plain_chunks, _ = _retrieve_run(api, plain_time, interval=2, maxAttempts=300)
    plain_requests = [(r.method, r.path, r.query) for r in api.requests]
    with link_api() as other:
        other.handle = _applying(other, held_time)  # type: ignore[method-assign]
        held_chunks, _ = _retrieve_run(other, held_time, interval=2, maxAttempts=300)
        held_requests = [(r.method, r.path, r.query) for r in other.requests]
    assert held_chunks == plain_chunks
    assert held_requests == plain_requests
    assert held_time.sleeps == []


def test_attempt_accounting_and_the_timeout_message_stay_the_same_when_held(
    api: LinkApi,
) -> None:
    time = FakeTime()
    api.handle = _applying(api, time)  # type: ignore[method-assign]
    chunks, error = _retrieve_run(api, time, interval=2, maxAttempts=2)
    assert error == (
        "Polling stopped before spend request lsrq_1 reached a terminal status: max attempts "
        "(2) exhausted; current status is pending_approval."
    )
    assert len(api.requests) == 2
    assert [c["status"] for c in chunks] == ["pending_approval"]


def test_no_preference_is_asked_for_a_single_fetch_or_sub_second_polling(api: LinkApi) -> None:
    _retrieve_run(api, FakeTime())
    _retrieve_run(api, FakeTime(), interval=0.5, maxAttempts=2)
    assert [r.header("prefer") for r in api.requests] == [None, None, None]


def test_a_refused_wait_is_asked_again_without_the_preference(api: LinkApi) -> None:
    plain = api.handle

    def refusing(request: RecordedRequest) -> StubResponse:
        if request.header("prefer"):
            api.requests.append(request)
            return StubResponse.json({"error": {"code": "too_many_waiting_requests"}}, 429)
        return plain(request)

    api.handle = refusing  # type: ignore[method-assign]
    time = FakeTime()
    chunks, error = _retrieve_run(api, time, interval=2, maxAttempts=300)
    assert error is None and chunks[-1]["status"] == "approved"
    assert [r.header("prefer") for r in api.requests] == ["wait=2", None] * 3
    assert time.sleeps == [2, 2]


def test_the_human_approval_wait_asks_and_falls_back(api: LinkApi) -> None:
    from link_cli.commands.spend_request import wait_for_decision

    api.spend_requests["lsrq_1"] = {"id": "lsrq_1", "status": "pending_approval"}
    api.status_script["lsrq_1"] = ["pending_approval", "approved"]
    time = FakeTime()
    ctx = Context(agent=False, env=cli_env(api), sleep=time.sleep, clock=time.clock)
    assert wait_for_decision(ctx, "lsrq_1", ())["status"] == "approved"
    assert [r.header("prefer") for r in api.requests] == ["wait=2", "wait=2"]
    assert time.sleeps == [2]


class DeviceServer:
    """``/device/token``: pending for ``pending`` polls, then tokens."""

    def __init__(self, pending: int, time: FakeTime | None) -> None:
        self.pending = pending
        self.time = time
        self.requests: list[RecordedRequest] = []

    def handle(self, request: RecordedRequest) -> StubResponse:
        self.requests.append(request)
        held = {}
        wait = (request.header("prefer") or "").removeprefix("wait=")
        if self.time is not None and wait.isdigit():
            held = {"Preference-Applied": f"wait={wait}"}
        if self.pending:
            self.pending -= 1
            if held and self.time is not None:
                self.time.now += int(wait)
            response = StubResponse.json({"error": "authorization_pending"}, 400)
        else:
            response = StubResponse.json(
                {"access_token": TOKEN, "refresh_token": "r", "token_type": "Bearer"}
            )
        response.headers.update(held)
        return response


def _auth_run(tmp_path: Path, server: DeviceServer, time: FakeTime) -> list[Any]:
    stub = StubServer(server.handle).start()
    try:
        env = cli_env(None, LINK_API_BASE_URL=stub.url, LINK_AUTH_BASE_URL=stub.url)
        ctx = Context(
            env=env, auth_path=str(tmp_path / "auth.json"), auth_given=True,
            sleep=time.sleep, clock=time.clock,
        )  # fmt: skip
        ctx.tokens.set_pending_device_auth(
            {"device_code": "dc", "interval": 5, "expires_at": 2**42, "verification_url": "u",
             "phrase": "p"}
        )  # fmt: skip
        chunks = list(auth_status(_params(("auth", "status"), interval=5, maxAttempts=60), ctx))
    finally:
        stub.stop()
    return [{k: v for k, v in c.items() if k != "credentials_path"} for c in chunks]


def test_auth_status_polling_asks_the_device_endpoint_and_falls_back(tmp_path: Path) -> None:
    plain_time, held_time = FakeTime(), FakeTime()
    plain, held = DeviceServer(2, None), DeviceServer(2, held_time)
    plain_chunks = _auth_run(tmp_path / "a", plain, plain_time)
    held_chunks = _auth_run(tmp_path / "b", held, held_time)
    assert plain_chunks == held_chunks
    assert plain_chunks[-1]["authenticated"] is True
    assert [r.header("prefer") for r in plain.requests] == ["wait=5"] * 3
    assert [r.path for r in held.requests] == [r.path for r in plain.requests]
    assert plain_time.sleeps == [5, 5]
    assert held_time.sleeps == []


def test_the_poller_sleeps_only_what_is_left_of_the_interval_after_a_held_fetch() -> None:
    time = FakeTime()
    values = iter(["a", "a", "done"])

    def fetch() -> str:
        time.now += 1.5  # held for 1.5 of the 2 s
        return next(values)

    events = list(
        poll_until(
            fetch, lambda v: v == "done", interval=2, sleep=time.sleep, clock=time.clock,
            held=lambda: 2,
        )
    )  # fmt: skip
    assert [(e.value, e.final) for e in events] == [("a", False), ("done", True)]
    assert time.sleeps == [0.5, 0.5]
