"""``link-cli demo`` at a terminal without ``--auto-approve``: it shows the links and waits.

The demo runs on a pseudo-terminal; the test reads what a person would read (the sign-in
details, the verification link and phrase, the approval link) and answers through the
wallet's pages, as the person would in a browser.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.demo.conftest import ANSI, read_available
from tests.support.environment import clean_env

from link_cli.demo.person import WalletPerson

LINK_CLI = str(Path(sys.executable).with_name("link-cli"))
DEADLINE_SECONDS = 180

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.timeout(240)]


def test_the_demo_waits_for_the_person_and_finishes_once_they_approve(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    env = clean_env()
    env.update(TMPDIR=str(tmp_path), TERM="xterm", NO_UPDATE_NOTIFIER="1")
    env.pop("DISPLAY", None)  # no browser to open here
    demo = subprocess.Popen(
        [LINK_CLI, "demo", "--only-spt"], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    screen = ""
    answered: set[str] = set()
    person: WalletPerson | None = None
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while demo.poll() is None and time.monotonic() < deadline:
            screen += ANSI.sub("", read_available(master, 0.5))
            credentials = re.search(r"Sign in as (\S+) with password (\S+)", screen)
            wallet = re.search(r"Start the wallet — (http://\S+)", screen)
            if person is None and credentials and wallet:
                person = WalletPerson(wallet.group(1), credentials.group(1), credentials.group(2))
            for url in re.findall(r"Open: (http://\S+)", screen):
                if person is None or url in answered:
                    continue
                answered.add(url)
                if "/device/setup" in url:
                    phrase = re.search(r"the phrase is: (\S+)", screen)
                    assert phrase is not None
                    person.approve_device(url, phrase.group(1))
                else:
                    person.approve_spend_request(url)
        screen += ANSI.sub("", read_available(master, 1.0))
        demo.wait(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
        os.close(master)

    assert demo.returncode == 0, screen
    # Both links were shown with a QR code (half-block characters) and answered.
    assert len(answered) == 2, screen
    assert screen.count("▄▄▄▄▄▄▄") >= 2  # a QR code (finder patterns) under each link
    assert "Machine payment  succeeded" in screen
    assert "Everything the demo started has been stopped." in screen
