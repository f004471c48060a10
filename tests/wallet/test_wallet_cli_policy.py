"""``link-wallet policy …`` against the session wallet: one real subprocess for the wiring,
the other actions through the same ``main`` in-process (the process start is the cost)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from tests.support.approvals import card_body
from tests.support.person import bearer
from tests.support.wallet import WalletProcess

from link_cli.wallet import cli
from link_cli.wallet.domain.oauth import DEFAULT_SCOPES

pytestmark = pytest.mark.server


def _main(wallet: WalletProcess, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = cli.main([*wallet.base_args()[1:], "policy", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out) if out.startswith(("{", "[")) else out


def test_policy_commands_manage_dry_run_and_revoke(
    wallet: WalletProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    email = wallet.create_person().email
    tokens = wallet.store().grant_agent(email, list(DEFAULT_SCOPES))
    agent = httpx2.Client(base_url=wallet.url, headers=bearer(tokens), timeout=30)
    try:
        created = wallet.run_cli(
            "policy", "create", "--email", email, "--name", "Coffee budget",
            "--max-amount", "2000", "--currency", "usd", "--merchant", "https://coffee.example",
            "--budget", "5000", "--period", "week", "--window", "00:00-23:59",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        policy = json.loads(created.stdout)
        assert policy["merchants"] == ["coffee.example"] and policy["paused"] is False
        pid = policy["id"]

        def run(*args: str) -> Any:
            return _main(wallet, capsys, *args, "--email", email)

        answer = run("dry-run", "--amount", "1200", "--merchant-url", "https://www.coffee.example/")
        assert (answer["outcome"], answer["rule"], answer["remaining"]) == (
            "approve", "all_conditions", 3800,
        )  # fmt: skip
        over = run("dry-run", "--amount", "2500", "--merchant-url", "https://coffee.example/")
        assert (over["outcome"], over["rule"]) == ("ask", "max_amount")
        assert run("update", pid, "--max-amount", "3000")["max_amount"] == 3000
        assert run("pause", pid)["paused"] is True
        paused = run("dry-run", "--amount", "100", "--merchant-url", "https://coffee.example/")
        assert paused["rule"] == "no_policy"
        assert run("resume", pid)["paused"] is False
        assert [p["id"] for p in run("list")] == [pid]
        assert "Coffee budget" in run("show", pid, "--format", "text")
        assert run("settings", "--time-zone", "Asia/Tokyo", "--notify", "on") == {
            "time_zone": "Asia/Tokyo", "notify": True,
        }  # fmt: skip

        body = card_body(amount=1500, merchant_url="https://coffee.example/cart")
        approved = agent.post("/spend_requests", json=body).json()
        assert approved["status"] == "approved"
        assert run("revoke", approved["id"]) == {"id": approved["id"], "status": "canceled"}
        assert cli.main([*wallet.base_args()[1:], "history", "--email", email]) == 0
        (row,) = json.loads(capsys.readouterr().out)
        assert (row["id"], row["approved_by"]) == (approved["id"], "policy: Coffee budget")
        assert run("delete", pid) == {"id": pid, "deleted": True}

        code = cli.main([*wallet.base_args()[1:], "policy", "create", "--email", email,
                         "--name", "Bad", "--budget", "100"])  # fmt: skip
        assert code == 1
        assert "a budget needs a period" in capsys.readouterr().err
    finally:
        agent.close()


def test_dry_run_meets_the_wallets_own_limits_as_a_real_request_would(
    wallet: WalletProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    email = wallet.create_person().email

    def run(*args: str) -> Any:
        return _main(wallet, capsys, *args, "--email", email)

    run("create", "--name", "Groceries", "--max-amount", "3000", "--currency", "usd")
    monkeypatch.setenv("LINK_WALLET_LIMIT_DAILY_SPEND", "1000")
    monkeypatch.setenv("LINK_WALLET_LIMIT_MAX_AMOUNT", "2500")

    within = run("dry-run", "--amount", "800", "--merchant-url", "https://grocer.example/")
    assert (within["outcome"], within["rule"]) == ("approve", "all_conditions")
    # The policy alone would approve 1200; the wallet's daily limit (1000) makes it ask.
    over_daily = run("dry-run", "--amount", "1200", "--merchant-url", "https://grocer.example/")
    assert (over_daily["outcome"], over_daily["rule"]) == ("ask", "wallet_limit")
    assert "daily spend limit" in over_daily["message"]
    assert over_daily["remaining"] is None
    # Over the per-request cap, the request would be refused outright: the dry run says so.
    code = cli.main([*wallet.base_args()[1:], "policy", "dry-run", "--email", email,
                     "--amount", "2600"])  # fmt: skip
    assert code == 1
    assert "per-request limit of 2500" in capsys.readouterr().err
