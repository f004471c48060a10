"""``link-wallet`` administration commands: clear errors, exit 1, nothing stored on bad input."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from tests.support.wallet import DEFAULT_CARD, WalletProcess, wallet_env


@pytest.fixture
def offline(tmp_path: Path) -> WalletProcess:
    """A wallet's storage without a running server (commands work on the database)."""
    return WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env())


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


def test_user_create_without_a_terminal_needs_password_stdin(offline: WalletProcess) -> None:
    result = offline.run_cli("user", "create", "--email", "c@example.com", input_text="")
    assert result.returncode == 1
    assert "--password-stdin" in result.stderr


def test_card_add_prints_only_the_summary(offline: WalletProcess) -> None:
    offline.create_user("dee@example.com", "a good password")
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
    offline.create_user("eve@example.com", "a good password")
    result = offline.run_cli(*_card_args("eve@example.com", **overrides))
    assert result.returncode == 1
    assert message in result.stderr
    assert overrides.get("number", "4242424242424242") not in result.stderr
    ok = offline.run_cli(*_card_args("eve@example.com"))
    assert ok.returncode == 0  # nothing half-stored blocked the good card


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


def test_serve_logs_json_lines_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import httpx2

    wallet = WalletProcess.start(tmp_path)
    httpx2.get(f"{wallet.url}/wallet?secret=should-not-be-logged", timeout=10)
    wallet.stop()
    # uvicorn finishes the shutdown, then re-raises SIGTERM so the exit status tells why.
    assert wallet.process is not None and wallet.process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in wallet.log_text()
    lines = [json.loads(line) for line in wallet.log_text().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert {"method": "GET", "path": "/wallet", "status": 303} in [
        {k: r[k] for k in ("method", "path", "status")} for r in requests
    ]
    assert all(isinstance(r["duration_ms"], int | float) for r in requests)
    assert "should-not-be-logged" not in wallet.log_text()
