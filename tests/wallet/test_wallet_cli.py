"""``link-wallet`` administration commands: clear errors, exit 1, nothing stored on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.wallet import DEFAULT_CARD, WalletProcess, wallet_env


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[WalletProcess]:
    """A wallet's storage without a running server (commands work on the database)."""
    storage = WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env())
    yield storage
    storage.stop()


def _existing_person(offline: WalletProcess, email: str) -> None:
    """Set-up for the card tests: the person is written in-process (user create has its own tests)."""
    offline.store().create_user(email, "a good password", None)


def _card_args(email: str, **overrides: str) -> list[str]:
    args = ["card", "add", "--email", email]
    for key, value in {**DEFAULT_CARD, **overrides}.items():
        args += [f"--{key.replace('_', '-')}", value]
    return args


def test_db_upgrade_is_idempotent(offline: WalletProcess) -> None:
    for _ in range(2):
        result = offline.run_cli("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "upgraded"}


def test_user_create_prints_json_and_refuses_duplicates(offline: WalletProcess) -> None:
    created = offline.create_user("Ann@Example.com", "a good password", "Ann Lee")
    assert created["email"] == "ann@example.com"
    assert created["id"].startswith("usr_")
    again = offline.run_cli(
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


def test_card_add_prints_only_the_summary(offline: WalletProcess) -> None:
    _existing_person(offline, "dee@example.com")
    result = offline.run_cli(*_card_args("dee@example.com", number="6011111111111117", cvc="987"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"id", "brand", "last4", "exp_month", "exp_year"}
    assert summary["brand"] == "discover"
    assert summary["last4"] == "1117"
    assert summary["id"].startswith("csmrpd_")
    assert "6011111111111117" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": "4242424242424241"}, "not valid"),
        ({"number": "9999999999999995"}, "Only Visa"),
        ({"exp_month": "13"}, "1 to 12"),
        ({"exp_year": "2001"}, "expired"),
        ({"cvc": "12"}, "security code"),
        ({"country": "USA"}, "two-letter"),
        ({"line1": " "}, "street address"),
    ],
)
def test_card_add_bad_input(
    offline: WalletProcess, overrides: dict[str, str], message: str
) -> None:
    _existing_person(offline, "eve@example.com")
    result = offline.run_cli(*_card_args("eve@example.com", **overrides))
    assert result.returncode == 1
    assert message in result.stderr
    assert overrides.get("number", "4242424242424242") not in result.stderr
    ok = offline.run_cli(*_card_args("eve@example.com"))
    assert ok.returncode == 0  # nothing half-stored blocked the good card


def _card_args_without_secrets(email: str) -> list[str]:
    args = _card_args(email)
    for flag in ("--number", "--cvc"):
        at = args.index(flag)
        del args[at : at + 2]
    return args


def test_card_add_reads_number_and_cvc_from_stdin(offline: WalletProcess) -> None:
    _existing_person(offline, "fay@example.com")
    secrets_json = json.dumps({"number": "5555 5555 5555 4444", "cvc": "321"})
    result = offline.run_cli(
        *_card_args_without_secrets("fay@example.com"), "--card-stdin", input_text=secrets_json
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["last4"] == "4444"
    assert json.loads(result.stdout)["brand"] == "mastercard"


@pytest.mark.parametrize(
    ("extra_args", "stdin", "message"),
    [
        ([], "", "the card number is missing"),  # no flags, no terminal to prompt on
        (["--card-stdin"], '{"number": "4242424242424242"}', "the card cvc is missing"),
        (["--card-stdin"], "4242424242424242", "expects a JSON object"),
        (["--card-stdin"], '["4242424242424242"]', "expects a JSON object"),
        (["--card-stdin"], '{"4242424242424242": "1"}', 'only the fields "number" and "cvc"'),
        (["--card-stdin"], '{"number": 4242424242424242.0, "cvc": "1"}', "must be a string"),
        (["--card-stdin"], " " * 5000, "too long"),
        (
            ["--card-stdin", "--cvc", "123"],
            '{"number": "4242424242424242", "cvc": "123"}',
            "give the cvc once",
        ),
    ],
)
def test_card_add_secret_input_mistakes(
    offline: WalletProcess, extra_args: list[str], stdin: str, message: str
) -> None:
    _existing_person(offline, "gus@example.com")
    result = offline.run_cli(
        *_card_args_without_secrets("gus@example.com"), *extra_args, input_text=stdin
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "4242424242424242" not in result.stderr + result.stdout


def test_card_add_prompts_for_number_and_cvc_on_a_terminal(offline: WalletProcess) -> None:
    import os
    import pty
    import time

    _existing_person(offline, "hal@example.com")
    argv = [*offline.base_args(), *_card_args_without_secrets("hal@example.com")]
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, as for a person typing
        os.execve(argv[0], argv, offline.env)
    transcript = b""
    answers = [(b"Card number:", b"4000056655665556\n"), (b"(CVC):", b"777\n")]
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            transcript += chunk
            if answers and answers[0][0] in transcript:
                os.write(fd, answers.pop(0)[1])
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    assert b'"last4": "5556"' in transcript
    assert b"4000056655665556" not in transcript  # hidden prompt: nothing echoed
    assert b"777" not in transcript


def test_card_add_for_an_unknown_email(offline: WalletProcess) -> None:
    offline.run_cli("db", "upgrade")
    result = offline.run_cli(*_card_args("ghost@example.com"))
    assert result.returncode == 1
    assert "no user with email ghost@example.com" in result.stderr


def test_first_card_is_default_and_default_flag_moves_it(wallet: WalletProcess) -> None:
    import httpx2
    from tests.support.person import bearer, wallet_tokens

    person = wallet.create_person()
    second = wallet.add_card(person.email, shipping=False, number="5555555555554444", cvc="111")
    tokens = wallet_tokens(wallet, person)

    def defaults() -> dict[str, bool]:
        response = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
        return {c["id"]: c["is_default"] for c in response.json()["payment_details"]}

    assert defaults() == {person.payment_method_id: True, second["id"]: False}
    third = wallet.run_cli(
        *_card_args(person.email, number="378282246310005", cvc="1234"), "--default"
    )
    third_id = json.loads(third.stdout)["id"]
    assert defaults() == {person.payment_method_id: False, second["id"]: False, third_id: True}


@pytest.mark.server
def test_serve_logs_json_lines_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import httpx2

    wallet = WalletProcess.start(tmp_path)
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

    wallet = WalletProcess.start(tmp_path)
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
    with WalletProcess.start(tmp_path / "data", env=env) as wallet:
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
