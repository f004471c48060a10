"""Fixtures for the `mpp` command tests: a Link API stand-in and a subprocess runner.

The merchant is our loopback stub built on the real server half (tests/mpp). The Link API
side is a small in-memory stand-in on loopback: the real wallet's spend-request flow is
covered end to end by the e2e suite; here it only has to hand out the shapes of contract §7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.sdk.stub import RecordedRequest, StubResponse, StubServer
from tests.support.environment import clean_env

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
TOKEN = "test-access-token"
CONTEXT = (
    "Buying one three-day trail forecast for the user's hiking trip, as they asked a minute "
    "ago in chat; the shop charges per request."
)


@dataclass
class LinkApi:
    """Spend requests and payment methods keyed by id; `requests` records every call."""

    spend_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": "csmrpd_first", "type": "card", "is_default": False}]
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    # Statuses handed out on successive retrieves of a request (the last one repeats).
    status_script: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""

    def approved_spt(self, spend_request_id: str = "lsrq_paid", **fields: Any) -> str:
        self.spend_requests[spend_request_id] = {
            "id": spend_request_id,
            "status": "approved",
            "credential_type": "shared_payment_token",
            "network_id": "profile_stub_1",
            "amount": 250,
            "currency": "usd",
            "shared_payment_token": {"id": "spt_live_1"},
            **fields,
        }
        return spend_request_id

    def handle(self, request: RecordedRequest) -> StubResponse:
        self.requests.append(request)
        if request.header("authorization") != f"Bearer {TOKEN}":
            return StubResponse.json({"error": {"message": "unauthenticated"}}, 401)
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts == ["payment-details"]:
            return StubResponse.json({"payment_details": self.payment_methods})
        if request.method == "POST" and parts == ["spend_requests"]:
            body = request.json()
            created = {
                "id": f"lsrq_{len(self.spend_requests) + 1}",
                "status": "pending_approval",
                "approval_url": "http://wallet.example/approve/x",
                **body,
            }
            self.spend_requests[created["id"]] = created
            return StubResponse.json(created)
        if request.method == "GET" and parts[0] == "spend_requests" and len(parts) == 2:
            found = self.spend_requests.get(parts[1])
            if found is None:
                return StubResponse.json({"error": {"message": "not found"}}, 404)
            script = self.status_script.get(parts[1])
            if script:
                found["status"] = script.pop(0) if len(script) > 1 else script[0]
            shown = dict(found)
            if "shared_payment_token" not in request.query:
                shown.pop("shared_payment_token", None)
            return StubResponse.json(shown)
        return StubResponse.json({"error": {"message": "no route"}}, 404)


@contextmanager
def link_api() -> Iterator[LinkApi]:
    api = LinkApi()
    server = StubServer(api.handle).start()
    api.url = server.url
    try:
        yield api
    finally:
        server.stop()


def cli_env(api: LinkApi | None, **extra: str) -> dict[str, str]:
    env = clean_env()
    if api is not None:
        env.update(LINK_API_BASE_URL=api.url, LINK_AUTH_BASE_URL=api.url, LINK_ACCESS_TOKEN=TOKEN)
    env.update(extra)
    return env


def run_cli(
    *args: str, api: LinkApi | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the real `link-cli` (agent mode: stdout is a pipe) and wait for it."""
    return subprocess.run(
        [LINK_CLI, *args],
        capture_output=True,
        text=True,
        env=cli_env(api, **extra),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def run_json(*args: str, api: LinkApi | None = None) -> tuple[int, Any]:
    result = run_cli(*args, "--format", "json", api=api)
    try:
        return result.returncode, json.loads(result.stdout)
    except ValueError as exc:
        raise AssertionError(f"not JSON: {result.stdout!r} / {result.stderr!r}") from exc
