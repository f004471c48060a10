"""``link-cli mpp pay`` in human mode (a terminal): it shows the approval link, waits for
the person to approve on the wallet's page, then pays the demo merchant by itself."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator

import pytest
from tests.merchant.buyer import demo_shop, logged_in_buyer
from tests.merchant.shop_process import ShopProcess
from tests.support.agent import CONTEXT, LINK_CLI, Agent
from tests.support.approvals import approve_spend_request
from tests.support.wallet import WalletProcess

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    """A command on a pseudo-terminal; everything it printed is kept in ``screen``."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self._master = master
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, ANSI.sub("", self.screen))
            if match:
                return match
            ready, _, _ = select.select([self._master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self._master, 4096)
                except OSError:  # the command exited and closed the terminal
                    chunk = b""
                if not chunk and self.process.poll() is not None:
                    break
                self.screen += chunk.decode("utf-8", errors="replace")
        raise AssertionError(f"never saw {pattern!r} in:\n{ANSI.sub('', self.screen)[-3000:]}")

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            os.close(self._master)


@pytest.fixture
def setup(
    wallet: WalletProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Agent, object, ShopProcess]]:
    with (
        logged_in_buyer(wallet, tmp_path_factory.mktemp("tty-agent")) as buyer,
        demo_shop(wallet) as (_, shop),
    ):
        yield buyer.agent, buyer.person, shop


def test_human_mode_waits_for_approval_then_pays(setup) -> None:
    agent, person, shop = setup
    env = agent.env(TERM="xterm", COLUMNS="120", LINES="40")
    terminal = Terminal(
        [LINK_CLI, "mpp", "pay", f"{shop.url}/api/forecast?city=Denver", "--context", CONTEXT], env
    )
    try:
        link = terminal.read_until(r"https?://\S+/approve/lsrq_[A-Za-z0-9]+")
        approve_spend_request(person, link.group(0))
        # Contract §8.4: "HTTP 200" in green, then the body.
        terminal.read_until(r"HTTP 200\r?\n\{[^\n]*\"paid\":\s*true")
        assert "\x1b[32mHTTP 200\x1b[0m" in terminal.screen
    finally:
        code = terminal.close()
    assert code == 0, ANSI.sub("", terminal.screen)[-3000:]
    request_id = link.group(0).rsplit("/", 1)[-1]
    status, spend = agent.json("spend-request", "retrieve", request_id)
    assert status == 0, spend
    spend = spend[-1] if isinstance(spend, list) else spend
    assert spend["status"] == "succeeded"
    assert spend["payment_status_details"]["outcome"] == "success"
