"""Secrets at rest and in logs: card numbers and CVCs are never stored or logged in clear."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from pathlib import Path

import httpx2
import pytest
from tests.support.person import bearer, start_device_login, wallet_tokens
from tests.support.wallet import WalletProcess, wallet_env

AMEX = "378734493671000"
AMEX_CVC = "7319"
MASTERCARD = "5105105105105100"
MASTERCARD_CVC = "846"


def test_card_numbers_and_cvcs_never_reach_the_database_or_the_log(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet: WalletProcess = make_wallet()
    person = wallet.create_person(with_card=False)
    wallet.add_card(person.email, number=AMEX, cvc=AMEX_CVC)
    person.sign_in()
    person.submit_form(
        "/wallet/cards/new",
        {
            "number": MASTERCARD,
            "exp_month": "3",
            "exp_year": "2031",
            "cvc": MASTERCARD_CVC,
            "name": "Jenny Rosen",
            "line1": "1 Main St",
            "country": "US",
        },
        action="/wallet/cards/new",
    )
    # A failed attempt must not leak either.
    person.submit_form(
        "/wallet/cards/new",
        {"number": "4000000000000002", "exp_month": "1", "exp_year": "2020", "cvc": "555"},
        action="/wallet/cards/new",
    )
    tokens = wallet_tokens(wallet, person)
    cards = httpx2.get(f"{wallet.url}/payment-details", headers=bearer(tokens), timeout=10)
    assert {c["card_details"]["last4"] for c in cards.json()["payment_details"]} == {"1000", "5100"}
    started = start_device_login(wallet)
    person.client.get(started["verification_uri_complete"])
    wallet.stop()  # checkpoints the WAL; the files are then complete

    files = sorted(wallet.data_dir.glob("wallet.db*"))
    assert files, "the SQLite database was not where expected"
    for path in files:
        raw = path.read_bytes()
        for secret in (AMEX, MASTERCARD, "4000000000000002"):
            assert secret.encode() not in raw, f"card number in clear in {path.name}"
    values = wallet.stored_values()
    assert AMEX_CVC not in values and MASTERCARD_CVC not in values
    assert all(AMEX not in v and MASTERCARD not in v for v in values)
    assert tokens["access_token"] not in "\n".join(values)  # only hashes are stored

    log = wallet.log_text()
    assert '"path": "/device/setup"' in log  # the log did record the requests
    for secret in (
        AMEX,
        MASTERCARD,
        "4000000000000002",
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in log
    for cvc in (AMEX_CVC, MASTERCARD_CVC, "555"):
        assert not re.search(rf"(?<![0-9]){cvc}(?![0-9])", log)
    assert started["user_code"] not in log  # query strings are never logged
    assert started["device_code"] not in log


@pytest.mark.server
def test_secret_key_file_is_private_and_stable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = WalletProcess.start(data, own_database=True)
    first.stop()
    key_file = data / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "wallet.db").stat().st_mode) == 0o600
    key = key_file.read_bytes()
    second = WalletProcess.start(data)
    second.stop()
    assert key_file.read_bytes() == key


def test_a_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    target = tmp_path / "elsewhere"
    target.write_text("x" * 64)
    os.symlink(target, data / "secret.key")
    wallet = WalletProcess(data_dir=data, port=0, database_url=None, env=wallet_env())
    result = wallet.run_cli("db", "upgrade")
    assert result.returncode == 1
    assert "secret key file" in result.stderr


def test_an_explicit_secret_key_means_no_key_file(tmp_path: Path) -> None:
    env = {"LINK_WALLET_SECRET_KEY": "k" * 40}
    wallet = WalletProcess(data_dir=tmp_path, port=0, database_url=None, env=wallet_env(env))
    assert wallet.run_cli("db", "upgrade").returncode == 0
    assert not (tmp_path / "secret.key").exists()
    short = WalletProcess(
        data_dir=tmp_path,
        port=0,
        database_url=None,
        env=wallet_env({"LINK_WALLET_SECRET_KEY": "short"}),
    )
    result = short.run_cli("db", "upgrade")
    assert result.returncode == 1
    assert "at least 32 characters" in result.stderr


def test_postgres_never_holds_a_card_number_or_cvc_in_clear(pg_wallet: WalletProcess) -> None:
    from tests.support.approvals import ApiAgent, approve_spend_request, card_body

    # The wallet is shared with other tests, whose rows may hold any short number (an amount, a
    # status): a three-digit CVC is looked for among the values this test stored.
    before = Counter(pg_wallet.stored_values())
    person = pg_wallet.create_person(with_card=False)
    pg_wallet.add_card(person.email, number=MASTERCARD, cvc=MASTERCARD_CVC)
    tokens = wallet_tokens(pg_wallet, person)
    client = httpx2.Client(base_url=pg_wallet.url, headers=bearer(tokens), timeout=30)
    agent = ApiAgent(person=person, tokens=tokens, client=client)
    try:
        created = agent.create_ok(card_body())
        approve_spend_request(agent.person, created["approval_url"])
        virtual = agent.retrieve(created["id"], include="card").json()["card"]
    finally:
        agent.close()
    values = pg_wallet.stored_values()
    assert any(person.email in v for v in values)  # the scan does see this person's rows
    for number in (MASTERCARD, virtual["number"]):
        assert not any(number in v for v in values)
    stored_here = Counter(values) - before
    assert MASTERCARD_CVC not in stored_here and virtual["cvc"] not in stored_here
    log = pg_wallet.log_text()
    assert MASTERCARD not in log and virtual["number"] not in log
