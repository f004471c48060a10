"""``link-wallet`` administration commands: clear errors, exit 1, nothing stored on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.wallet import WalletProcess, wallet_env


def test_db_upgrade_is_idempotent(empty_offline: WalletProcess) -> None:
    for _ in range(2):
        result = empty_offline.run_cli("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "upgraded"}


def test_user_create_prints_json_and_refuses_duplicates(empty_offline: WalletProcess) -> None:
    # On an empty data directory: the command creates and migrates the database first.
    created = empty_offline.create_user("Ann@Example.com", "a good password", "Ann Lee")
    assert created["email"] == "ann@example.com"
    assert created["id"].startswith("usr_")
    again = empty_offline.run_cli(
        "user",
        "create",
        "--email",
        "ann@example.com",
        "--password-stdin",
        input_text="another pw\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "a good password", "not a valid email"),
        ("bob@example.com", "short", "at least 8 characters"),
        ("bob\x1b[2J@example.com", "a good password", "not a valid email"),
    ],
)
def test_user_create_bad_input(
    offline: WalletProcess, email: str, password: str, message: str
) -> None:
    result = offline.run_cli(
        "user", "create", "--email", email, "--password-stdin", input_text=password + "\n"
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "message"),
    [("x" * 201, "at most 200 characters"), ("Eve\x1b]0;pwned\x07", "control characters")],
)
def test_user_create_refuses_unstorable_names(
    offline: WalletProcess, name: str, message: str
) -> None:
    args = ["user", "create", "--email", "named@example.com", "--name", name, "--password-stdin"]
    result = offline.run_cli(*args, input_text="a good password\n")
    assert result.returncode == 1
    assert message in result.stderr
    # Nothing was stored: the same email works with a good name.
    ok = offline.create_user("named@example.com", "a good password", "  Eve Example  ")
    assert ok["name"] == "Eve Example"


def test_user_create_without_a_terminal_needs_password_stdin(offline: WalletProcess) -> None:
    result = offline.run_cli("user", "create", "--email", "c@example.com", input_text="")
    assert result.returncode == 1
    assert "--password-stdin" in result.stderr


@pytest.mark.server
def test_serve_logs_json_lines_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import httpx2

    wallet = WalletProcess.start(tmp_path, console_script=True)
    httpx2.get(f"{wallet.url}/wallet?secret=should-not-be-logged", timeout=10)
    wallet.stop()
    # A completed graceful shutdown exits 0 (uvicorn would otherwise re-raise SIGTERM: -15).
    assert wallet.process is not None and wallet.process.returncode == 0
    assert "Application shutdown complete" in wallet.log_text()
    lines = [json.loads(line) for line in wallet.log_text().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert {"method": "GET", "path": "/wallet", "status": 303} in [
        {k: r[k] for k in ("method", "path", "status")} for r in requests
    ]
    assert all(isinstance(r["duration_ms"], int | float) for r in requests)
    assert "should-not-be-logged" not in wallet.log_text()


@pytest.mark.server
def test_serve_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    import signal

    wallet = WalletProcess.start(tmp_path, console_script=True)
    assert wallet.process is not None
    wallet.process.send_signal(signal.SIGINT)
    assert wallet.process.wait(timeout=10) == 0
    assert "Application shutdown complete" in wallet.log_text()
    assert "Traceback" not in wallet.log_text()


@pytest.mark.server
def test_serve_takes_the_database_from_the_environment_in_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "elsewhere" / "custom.db"
    database.parent.mkdir()
    env = {"LINK_WALLET_DATABASE_URL": f"sqlite:///{database}"}
    with WalletProcess.start(tmp_path / "data", env=env, console_script=True) as wallet:
        person = wallet.create_person()
        assert person.user_id.startswith("usr_")
    assert not (tmp_path / "data" / "wallet.db").exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        head = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        assert head is not None  # migrated at start
        stored = connection.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert database.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://wallet:s3cr3t-pw@127.0.0.1:1/db", "cannot use the database"),
        ("postgresql+psycopg2://wallet:s3cr3t-pw@127.0.0.1:1/db", "driver is not installed"),
        ("mysql://wallet:s3cr3t-pw@127.0.0.1/db", "unsupported database URL scheme 'mysql'"),
        ("wallet.db", "unsupported database URL scheme"),
    ],
)
def test_an_unusable_database_is_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    offline = WalletProcess(data_dir=tmp_path, port=0, database_url=url, env=wallet_env())
    for args in (("db", "upgrade"), ("serve", "--port", "1")):
        result = offline.run_cli(*args)
        assert result.returncode == 1
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert "Traceback" not in result.stderr
        assert "s3cr3t-pw" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_serve_refuses_a_port_that_cannot_be(offline: WalletProcess, port: str) -> None:
    result = offline.run_cli("serve", "--port", port)
    assert result.returncode == 2  # argparse's usage error
    assert "--port" in result.stderr and "Traceback" not in result.stderr


def test_serving_every_address_without_a_public_url_is_warned_about(tmp_path: Path) -> None:
    from link_cli.wallet.cli import public_url_warning
    from link_cli.wallet.settings import load_settings

    key = {"LINK_WALLET_SECRET_KEY": "k" * 40}
    wildcard = load_settings(data_dir=tmp_path, host="0.0.0.0", env=key)
    assert "LINK_WALLET_PUBLIC_URL is not set" in (public_url_warning(wildcard) or "")
    public = {**key, "LINK_WALLET_PUBLIC_URL": "https://wallet.example.com"}
    configured = load_settings(data_dir=tmp_path, host="::", env=public)
    assert public_url_warning(configured) is None
    assert public_url_warning(load_settings(data_dir=tmp_path, env=key)) is None
