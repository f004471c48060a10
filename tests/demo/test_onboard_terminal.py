"""``link-cli onboard`` at a terminal, against a real wallet: it logs the agent in, waits
until the person has a payment method, then hands over to the demo.

The person starts with no card. The test reads the terminal as a person would and answers
as they would: approves the login in the wallet, adds a card, presses Enter. Once the demo
has begun, Ctrl-C ends it (the demo's own runs are tested in test_demo_terminal.py).
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.demo.conftest import ANSI, default_ctrl_c, read_available
from tests.support.agent import Agent
from tests.support.wallet import DEFAULT_CARD

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
DEADLINE_SECONDS = 120

pytestmark = [pytest.mark.server, pytest.mark.timeout(240)]


def test_onboard_logs_in_waits_for_a_card_then_starts_the_demo(wallet, tmp_path: Path) -> None:
    person = wallet.create_person(with_card=False)
    agent = Agent(wallet.url, tmp_path / "auth.json")
    env = agent.env(TMPDIR=str(tmp_path), TERM="xterm")
    env.pop("DISPLAY", None)  # no browser to open here
    master, slave = pty.openpty()
    onboard = subprocess.Popen(
        [LINK_CLI, "onboard"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=default_ctrl_c,
    )
    os.close(slave)
    screen = ""
    approved = card_added = interrupted = False
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while onboard.poll() is None and time.monotonic() < deadline:
            screen += ANSI.sub("", read_available(master, 0.5))
            login = re.search(r"Open: (http://\S+/device/setup\S*)", screen)
            if login and not approved:
                assert person.approve_device(login.group(1)).status_code == 200
                approved = True
            if "Add a card at:" in screen and not card_added:
                assert f"Add a card at: {wallet.url}/wallet/cards/new" in screen
                wallet.store().add_card(person.email, DEFAULT_CARD, shipping=True)
                card_added = True
                os.write(master, b"\n")
            if "Setting up a private wallet" in screen and not interrupted:
                os.killpg(onboard.pid, signal.SIGINT)
                interrupted = True
        screen += ANSI.sub("", read_available(master, 0.5))
    finally:
        if onboard.poll() is None:
            os.killpg(onboard.pid, signal.SIGKILL)
            onboard.wait(timeout=10)
        os.close(master)
        person.close()

    assert approved and card_added and interrupted, screen
    assert "Logging in" in screen and "the phrase is:" in screen
    assert "Your wallet is ready — 1 payment method" in screen
    assert "Now the demo" in screen
    assert onboard.returncode == 130, screen
    # The login is stored for the agent's next commands.
    stored = json.loads((tmp_path / "auth.json").read_text())
    assert stored["auth"]["access_token"], stored


def test_onboard_off_a_terminal_requires_one(tmp_path: Path, wallet) -> None:
    agent = Agent(wallet.url, tmp_path / "auth.json")
    code, error = agent.json("onboard")
    assert code == 1
    assert error == {
        "code": "REQUIRES_TTY",
        "message": "The onboard command requires an interactive terminal.",
    }
