"""``link-wallet merchant create``: the secret key is printed once and never stored."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from tests.support.wallet import WalletProcess


def test_the_key_is_printed_once_and_only_its_hash_is_stored(make_wallet) -> None:
    wallet: WalletProcess = make_wallet()
    network_id = "profile_" + secrets.token_hex(4)
    result = wallet.run_cli(
        "merchant", "create", "--name", "Corner Shop", "--network-id", network_id
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["id"].startswith("acct_") and created["network_id"] == network_id
    key = created["secret_key"]
    assert key.startswith("sk_test_") and len(key) >= 40
    assert "not shown again" in result.stderr
    wallet.stop()  # flush SQLite's WAL so the files hold everything
    stored = b"".join(
        path.read_bytes() for path in Path(wallet.data_dir).glob("wallet.db*") if path.is_file()
    )
    assert key.encode() not in stored
    assert network_id.encode() in stored  # the search itself works


def test_bad_and_duplicate_network_ids_are_refused(wallet: WalletProcess) -> None:
    network_id = "profile_" + secrets.token_hex(4)
    first = wallet.run_cli("merchant", "create", "--name", "A", "--network-id", network_id)
    assert first.returncode == 0, first.stderr
    again = wallet.run_cli("merchant", "create", "--name", "B", "--network-id", network_id)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "sk_test_" not in again.stdout
    bad = wallet.run_cli("merchant", "create", "--name", "C", "--network-id", "no spaces!")
    assert bad.returncode == 1 and "--network-id" in bad.stderr
    for name in ("x\x1b[2Jy", "evil\u202etxt.exe", "two\nlines"):
        unsafe = wallet.run_cli("merchant", "create", "--name", name, "--network-id", "p_unsafe")
        assert unsafe.returncode == 1 and "control characters" in unsafe.stderr


def test_a_merchant_site_is_stored_and_bad_ones_are_refused(wallet: WalletProcess) -> None:
    network_id = "profile_" + secrets.token_hex(4)
    created = wallet.run_cli(
        "merchant", "create", "--name", "Shop", "--network-id", network_id,
        "--url", "https://shop.example/",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["url"] == "https://shop.example/"
    for bad in ("shop.example", "ftp://shop.example", "https://", "https://a\u202eb.example"):
        refused = wallet.run_cli(
            "merchant", "create", "--name", "X", "--network-id", "p_" + secrets.token_hex(4),
            "--url", bad,
        )  # fmt: skip
        assert refused.returncode == 1 and "--url" in refused.stderr, bad


def test_merchant_list_shows_account_ids_and_never_keys(wallet: WalletProcess) -> None:
    network_id = "profile_" + secrets.token_hex(4)
    created = wallet.run_cli(
        "merchant", "create", "--name", "Listed Shop", "--network-id", network_id, "--live",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    listed = wallet.run_cli("merchant", "list")
    assert listed.returncode == 0, listed.stderr
    merchants = json.loads(listed.stdout)
    assert {
        "id": account["id"],
        "name": "Listed Shop",
        "network_id": network_id,
        "livemode": True,
        "url": None,
    } in merchants
    assert "secret_key" not in listed.stdout and account["secret_key"] not in listed.stdout
