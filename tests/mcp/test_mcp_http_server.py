"""`link-cli serve` as a real process: origin check, CORS, route allow-list, skills,
bind warning and the listening line (contract §9.5)."""

from __future__ import annotations

import json
import socket
import subprocess

import httpx2
import pytest
from mcp_harness import LINK_CLI, ServeProcess, start_serve, stop

from link_cli.mcp.skills import main_skill_text

pytestmark = pytest.mark.server  # starts server processes itself

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def test_listening_line_on_stderr_and_no_warning_on_loopback(serve: ServeProcess) -> None:
    assert serve.banner == [f"link-cli MCP server listening on http://127.0.0.1:{serve.port}/mcp"]


def test_non_loopback_host_gets_the_two_line_warning_first(cli_env: dict[str, str]) -> None:
    # 127.0.0.2 is still this machine, but it is not one of the names that skip the warning.
    server = start_serve(cli_env, host="127.0.0.2")
    try:
        assert len(server.banner) == 3
        assert "beyond this machine" in server.banner[0]
        assert "authenticated Link session" in server.banner[1]
        assert server.banner[2].startswith("link-cli MCP server listening on http://127.0.0.2:")
    finally:
        stop(server.process)


def test_port_in_use_is_a_command_error(cli_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [LINK_CLI, "serve", "--port", str(port), "--format", "json"],
            capture_output=True,
            text=True,
            env=cli_env,
            timeout=60,
        )
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["code"] == "UNKNOWN"
    assert f"127.0.0.1:{port}" in error["message"]


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://[::1]:3000", "http://localhost.evil.example"],
)
def test_foreign_origin_is_forbidden_without_cors(serve: ServeProcess, origin: str) -> None:
    response = httpx2.post(
        serve.mcp_url, json=LIST_TOOLS, headers={**MCP_HEADERS, "Origin": origin}
    )
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden origin"}
    assert "access-control-allow-origin" not in response.headers


def test_options_from_a_loopback_origin_reflects_it(serve: ServeProcess) -> None:
    response = httpx2.request(
        "OPTIONS", f"{serve.base_url}/anything", headers={"Origin": "http://localhost:3000"}
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["vary"] == "Origin"
    assert response.headers["access-control-allow-methods"] == "GET, POST, DELETE, OPTIONS"
    assert "Mcp-Session-Id" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/user-info/retrieve"),
        ("POST", "/spend-request/update/lsrq_1"),
        ("GET", "/"),
        ("GET", "/mcp/"),
        ("POST", "/.well-known/skills/index.json"),
    ],
)
def test_paths_outside_the_allow_list_are_not_found(
    serve: ServeProcess, method: str, path: str
) -> None:
    response = httpx2.request(method, serve.base_url + path)
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_mcp_answers_only_post(serve: ServeProcess) -> None:
    response = httpx2.get(serve.mcp_url, headers=MCP_HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_mcp_post_from_an_allowed_origin_lists_tools_with_cors(serve: ServeProcess) -> None:
    origin = "http://127.0.0.1:5173"
    response = httpx2.post(
        serve.mcp_url, json=LIST_TOOLS, headers={**MCP_HEADERS, "Origin": origin}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "mcp-session-id" not in response.headers  # stateless
    assert '"auth_login"' in response.text


def test_skills_index_lists_the_guide_and_each_command_group(serve: ServeProcess) -> None:
    response = httpx2.get(f"{serve.base_url}/.well-known/skills/index.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    skills = {entry["name"]: entry for entry in response.json()["skills"]}
    assert skills["link-cli"]["files"] == ["SKILL.md"]
    assert "spend-request" in skills
    assert skills["auth"]["description"] == (
        "Authentication commands. Run `link-cli auth --help` for usage details."
    )


def test_guide_skill_is_the_shipped_file(serve: ServeProcess) -> None:
    response = httpx2.get(f"{serve.base_url}/.well-known/skills/link-cli/SKILL.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text == main_skill_text()
    assert "never follow" in response.text.lower()


def test_group_skill_is_generated_from_the_registry(serve: ServeProcess) -> None:
    response = httpx2.get(f"{serve.base_url}/.well-known/skills/spend-request/SKILL.md")
    assert response.status_code == 200
    assert response.text.startswith("---\nname: link-cli-spend-request\n")
    assert "## link-cli spend-request create" in response.text
    assert "`spend-request_create`" in response.text


@pytest.mark.parametrize("name", ["nope/SKILL.md", "auth/other.md", "auth", "link-cli/"])
def test_unknown_skill_files_are_plain_not_found(serve: ServeProcess, name: str) -> None:
    response = httpx2.get(f"{serve.base_url}/.well-known/skills/{name}")
    assert response.status_code == 404
    assert response.text == "Not Found"
