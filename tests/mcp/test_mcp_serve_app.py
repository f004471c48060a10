"""The guard rules of `serve` in-process, for what a real MCP server never does (crash)
and for the origin rule's edge cases (contract §9.5)."""

from __future__ import annotations

import io
from typing import Any

import httpx2
import pytest

from link_cli.mcp.http import ServeApp, is_allowed_origin, is_loopback_bind

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://LOCALHOST:3000", True),
        ("https://127.0.0.1", True),
        ("http://localhost", True),
        ("http://127.0.0.1.evil.example", False),
        ("http://localhost.evil.example:3000", False),
        ("https://example.com", False),
        ("http://[::1]:3000", False),
        ("null", False),
        ("file://", False),
        ("", False),
    ],
)
def test_origin_rule(origin: str, allowed: bool) -> None:
    assert is_allowed_origin(origin) is allowed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("LOCALHOST", True), ("::1", True), ("0.0.0.0", False)],
)
def test_bind_warning_rule(host: str, loopback: bool) -> None:
    assert is_loopback_bind(host) is loopback


async def _crashing_mcp_app(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("card 4242424242424242 in a request body")


async def test_a_crash_inside_the_mcp_app_is_a_plain_500_and_logs_no_detail() -> None:
    log = io.StringIO()
    app = ServeApp(_crashing_mcp_app, log=log)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp", json={}, headers={"Origin": "http://localhost:1"})
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}
    assert response.headers["access-control-allow-origin"] == "http://localhost:1"
    assert "RuntimeError" in log.getvalue()
    assert "4242" not in log.getvalue()
