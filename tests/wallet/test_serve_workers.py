"""``link-wallet serve --workers N``: several processes on one port and one SQLite file
(docs/deploy.md, "Several processes on one machine")."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from tests.support.approvals import card_body, new_agent
from tests.support.wallet import LINK_WALLET, WalletProcess, wallet_env

from link_cli.wallet.settings import SettingsError, load_settings


@pytest.mark.parametrize("raw", ["0", "65", "two", "-1"])
def test_a_worker_count_out_of_range_is_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(SettingsError, match="LINK_WALLET_WORKERS"):
        load_settings(data_dir=tmp_path, env={"LINK_WALLET_WORKERS": raw})


def test_the_flag_wins_over_the_environment(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, env={"LINK_WALLET_WORKERS": "3"}).workers == 3
    assert (
        load_settings(data_dir=tmp_path, workers=2, env={"LINK_WALLET_WORKERS": "3"}).workers == 2
    )
    assert load_settings(data_dir=tmp_path, env={}).workers == 1


def test_the_test_clock_needs_a_single_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [LINK_WALLET, "--data-dir", str(tmp_path), "serve", "--port", "1", "--workers", "2"],
        env=wallet_env({"LINK_WALLET_TEST_CLOCK": "1"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "LINK_WALLET_TEST_CLOCK needs a single process" in result.stderr


@pytest.mark.server
def test_two_workers_serve_one_sqlite_wallet_and_stop_gracefully(tmp_path: Path) -> None:
    env = {"LINK_WALLET_WORKERS": "2", "LINK_WALLET_TEST_CLOCK": "0"}
    with WalletProcess.start(tmp_path / "wallet", env=env) as wallet:
        assert wallet.process is not None
        agent = new_agent(wallet)
        try:
            created = agent.create_ok(card_body(amount=1500))
            # New connections are spread over both processes; each sees every write.
            for amount in (1600, 1700, 1800):
                total = [{"type": "total", "display_text": "Total", "amount": amount}]
                updated = agent.update(created["id"], {"amount": amount, "totals": total})
                assert updated.status_code == 200, updated.text
                agent.client.headers["Connection"] = "close"
                assert agent.retrieve(created["id"]).json()["amount"] == amount
        finally:
            agent.close()
        wallet.process.send_signal(signal.SIGTERM)
        assert wallet.process.wait(timeout=30) == 0
    log = wallet.log_text()
    assert "2 processes" in log
    assert log.count("Application shutdown complete") == 2
