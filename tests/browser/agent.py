"""The agent's side of browser tests: the real ``link-cli``, as a subprocess.

:class:`BackgroundLogin` runs ``link-cli auth login --interval 1 --format jsonl`` the way an
agent does: the first line carries the verification URL and phrase, then the process
polls the wallet until the person answers in the browser.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
LINE_TIMEOUT_SECONDS = 30.0


def cli_env(wallet_url: str, auth_file: Path) -> dict[str, str]:
    """``link-cli`` pointed at ``wallet_url`` with a private credential file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINK_")}
    env.update(
        {
            "LINK_API_BASE_URL": wallet_url,
            "LINK_AUTH_BASE_URL": wallet_url,
            "LINK_AUTH_FILE": str(auth_file),
            "NO_UPDATE_NOTIFIER": "1",
        }
    )
    return env


def run_cli(wallet_url: str, auth_file: Path, *args: str) -> tuple[int, Any]:
    """Run ``link-cli <args> --format json``; returns (exit code, parsed stdout)."""
    completed = subprocess.run(
        [LINK_CLI, *args, "--format", "json"],
        env=cli_env(wallet_url, auth_file),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, json.loads(completed.stdout)


class BackgroundLogin:
    """A running ``link-cli auth login`` that waits for the person's answer."""

    def __init__(self, wallet_url: str, auth_file: Path, client_name: str) -> None:
        self.process = subprocess.Popen(
            [
                LINK_CLI,
                "auth",
                "login",
                "--client-name",
                client_name,
                "--interval",
                "1",
                "--max-attempts",
                "120",
                "--format",
                "jsonl",
            ],
            env=cli_env(wallet_url, auth_file),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self._next_line()
        assert first["type"] == "chunk", first
        self.verification_url: str = first["data"]["verification_url"]
        self.phrase: str = first["data"]["phrase"]

    def _next_line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=LINE_TIMEOUT_SECONDS):
                raise AssertionError("link-cli auth login printed nothing in time")
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"link-cli auth login ended early: {self.stderr()}")
        return json.loads(line)

    def finish(self, timeout: float = LINE_TIMEOUT_SECONDS) -> tuple[int, list[dict[str, Any]]]:
        """Wait for the login to end; returns its exit code and remaining JSONL lines."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        finally:
            self.stop()
        return self.process.returncode, [json.loads(line) for line in out.splitlines() if line]

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def stop(self) -> None:
        """Kill the process if it still runs (a failed test must not leave it polling)."""
        if self.process.poll() is None:
            self.process.kill()
            deadline = time.monotonic() + 10
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)


def create_spend_request(wallet_url: str, access_token: str, **fields: Any) -> dict[str, Any]:
    """``POST /spend_requests`` as the agent (JSON, Bearer), asking for approval."""
    import httpx2

    body: dict[str, Any] = {
        "credential_type": "card",
        "amount": 6300,
        "currency": "usd",
        "merchant_name": "Trailhead Supply Co.",
        "merchant_url": "https://trailhead.example/checkout?item=lantern",
        "context": (
            "Restocking the person's camping kit before Saturday's trip: one rechargeable "
            "camp lantern and a bag of trail coffee, shipped to their home address."
        ),
        "line_items": [
            {"name": "Camp lantern", "quantity": 1, "unit_amount": 4500},
            {"name": "Trail coffee 500 g", "quantity": 1, "unit_amount": 1800},
        ],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": 6300},
            {"type": "shipping", "display_text": "Shipping", "amount": 0},
            {"type": "total", "display_text": "Total", "amount": 6300},
        ],
        "request_approval": True,
    }
    body.update(fields)
    response = httpx2.post(
        f"{wallet_url}/spend_requests",
        json=body,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()


def retrieve_spend_request(wallet_url: str, access_token: str, request_id: str) -> dict[str, Any]:
    """``GET /spend_requests/<id>`` as the agent."""
    import httpx2

    response = httpx2.get(
        f"{wallet_url}/spend_requests/{request_id}",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()
