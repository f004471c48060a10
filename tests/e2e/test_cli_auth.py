"""``auth login / status / logout`` end to end: the real CLI against a real wallet."""

from __future__ import annotations

import json
import os
import stat

import pytest
from tests.support.agent import Agent, finish, login


@pytest.fixture
def agent(wallet, tmp_path):
    return Agent(wallet.url, tmp_path / "agent-auth.json")


@pytest.fixture
def person(wallet):
    person = wallet.create_person()
    yield person
    person.close()


def test_background_login_prints_the_code_first_then_authenticates(agent, person):
    chunks = login(agent, person)
    first = chunks[0]
    assert first["verification_url"].startswith(agent.base_url + "/device/setup?code=")
    assert first["phrase"] and first["phrase"] in first["verification_url"]
    assert "_next" not in first and "Polling has started" in first["instruction"]
    final = chunks[-1]
    assert final["authenticated"] is True and final["token_type"] == "Bearer"
    assert final["access_token"].endswith("...") and len(final["access_token"]) == 23
    assert final["credentials_path"] == str(agent.auth_file)
    assert stat.S_IMODE(os.stat(agent.auth_file).st_mode) == 0o600
    stored = json.loads(agent.auth_file.read_text())
    assert stored["pendingDeviceAuth"] is None and stored["auth"]["refresh_token"]


def test_default_toon_output_flushes_the_code_before_the_person_acts(agent, person):
    process = agent.popen("auth", "login", "--interval", "0.2", "--timeout", "30")
    try:
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[0].startswith('verification_url: "http')
        assert lines[1].startswith("phrase: ")
        person.approve_device(lines[1].split(": ", 1)[1].strip())
    finally:
        code, rest = finish(process)
    assert code == 0 and "authenticated: true" in rest


def test_login_without_interval_then_status_completes_it(agent, person):
    code, chunks = agent.json("auth", "login", "--client-name", "  My Agent  ")
    assert code == 0 and len(chunks) == 1
    first = chunks[0]
    assert first["_next"] == {
        "command": "auth status --interval 5 --max-attempts 60",
        "poll_interval_seconds": first["_next"]["poll_interval_seconds"],
        "until": "authenticated is true",
    }
    code, status = agent.json("auth", "status")
    assert status[0]["authenticated"] is False and status[0]["pending"] is True
    assert status[0]["verification_url"] == first["verification_url"]
    person.approve_device(first["verification_url"])
    code, status = agent.json("auth", "status")
    assert code == 0 and status[0]["authenticated"] is True


def test_second_login_reports_already_logged_in(agent, person):
    login(agent, person)
    code, chunks = agent.json("auth", "login")
    assert code == 0
    assert chunks == [
        {
            "authenticated": True,
            "message": "You are already logged in. To switch accounts, run `link-cli auth logout` first.",
        }
    ]


def test_logout_revokes_and_deletes_the_credentials(agent, person):
    login(agent, person)
    old_refresh = json.loads(agent.auth_file.read_text())["auth"]["refresh_token"]
    code, out = agent.json("auth", "logout")
    assert (code, out) == (0, {"authenticated": False})
    assert not agent.auth_file.exists()
    # The revoked refresh token no longer works: a fresh file holding it cannot log in silently.
    agent.auth_file.write_text(
        json.dumps(
            {
                "auth": {"access_token": "x", "refresh_token": old_refresh, "token_type": "Bearer"},
                "pendingDeviceAuth": None,
            }
        )
    )
    code, chunks = agent.json("auth", "login")
    assert code == 0 and "verification_url" in chunks[0]


def test_denied_login_fails_with_the_denial(agent, person):
    code, chunks = agent.json("auth", "login")
    person.deny_device(chunks[0]["verification_url"])
    code, error = agent.json("auth", "status")
    assert code == 1 and error["code"] == "UNKNOWN" and "denied" in error["message"]


def test_polling_limit_on_auth_exits_zero_with_the_last_status(agent):
    result = agent.run(
        "auth", "login", "--interval", "0.1", "--max-attempts", "2", "--format", "json"
    )
    chunks = json.loads(result.stdout)
    assert result.returncode == 0
    assert chunks[-1]["authenticated"] is False and chunks[-1]["pending"] is True


def test_invalid_input_is_reported_before_any_request(agent):
    result = agent.run("auth", "login", "--scope", "   ", "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "code": "INVALID_INPUT",
        "message": "scope must be a non-empty string when provided",
    }


def test_transport_error_names_the_wallet_url(make_wallet, tmp_path):
    down = make_wallet()
    down.stop()
    agent = Agent(down.url, tmp_path / "auth.json")
    code, error = agent.json("auth", "login")
    assert code == 1 and error["code"] == "UNKNOWN"
    assert down.url in error["message"] and "LINK_AUTH_BASE_URL" in error["message"]


def test_unreachable_wallet_does_not_log_the_agent_out(make_wallet, tmp_path):
    """contract §14.13 fix: a network error in the "already logged in" probe keeps the session."""
    own = make_wallet()
    person = own.create_person()
    agent = Agent(own.url, tmp_path / "auth.json")
    login(agent, person)
    stored = json.loads(agent.auth_file.read_text())["auth"]
    own.stop()
    code, error = agent.json("auth", "login")
    assert code == 1 and error["code"] == "UNKNOWN" and own.url in error["message"]
    assert json.loads(agent.auth_file.read_text())["auth"] == stored
    person.close()


def test_human_login_shows_a_qr_code_and_persists_the_pending_login(agent, person, monkeypatch):
    """contract §14.21 fix: interactive login stores the pending authorization like agent login."""
    import io
    import threading

    from link_cli.cli.main import run

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name, value in agent.env().items():
        if name.startswith("LINK_"):
            monkeypatch.setenv(name, value)
    out = Terminal()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(run(["auth", "login"], out)), daemon=True
    )
    worker.start()
    pending = None
    for _ in range(200):  # bounded: ~20 s
        if agent.auth_file.exists():
            pending = json.loads(agent.auth_file.read_text() or "{}").get("pendingDeviceAuth")
            if pending:
                break
        worker.join(0.1)
    assert pending and pending["verification_url"].startswith(agent.base_url)
    person.approve_device(pending["verification_url"])
    worker.join(30)
    assert result == [0]
    text = out.getvalue()
    assert pending["verification_url"] in text and "▀" in text  # URL box and QR code
    assert "authenticated: true" in text
    stored = json.loads(agent.auth_file.read_text())["auth"]
    assert stored["access_token"] not in text


def test_upgrade_keeps_the_session_until_the_new_grant_replaces_it(agent, person):
    login(agent, person)
    before = json.loads(agent.auth_file.read_text())["auth"]
    code, chunks = agent.json("auth", "upgrade", "--scope", "spend_requests:approve")
    assert code == 0 and "warning" not in chunks[0]
    stored = json.loads(agent.auth_file.read_text())
    assert stored["auth"]["access_token"]  # the old (refreshed) session still works meanwhile
    assert stored["pendingDeviceAuth"]["replaces_existing_session"] is True
    code, status = agent.json("auth", "status")
    assert status[0]["authenticated"] is False and status[0]["pending"] is True
    person.approve_device(chunks[0]["verification_url"], grant_approve_scope=True)
    code, status = agent.json("auth", "status")
    assert code == 0 and status[0]["authenticated"] is True
    assert status[0]["scope"].split()[0] == "spend_requests:approve"
    after = json.loads(agent.auth_file.read_text())
    assert after["pendingDeviceAuth"] is None
    assert after["auth"]["refresh_token"] != before["refresh_token"]


def test_upgrade_without_a_session_warns_on_stderr(agent):
    result = agent.run("auth", "upgrade", "--format", "json")
    chunks = json.loads(result.stdout)
    warning = "no active session to upgrade; continuing with only the requested access."
    assert result.returncode == 0 and chunks[0]["warning"] == warning
    assert f"warning: {warning}" in result.stderr
