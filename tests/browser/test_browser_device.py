"""Connecting an agent: the person answers a real ``link-cli auth login`` in Chromium."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.support.agent import Agent, BackgroundLogin
from tests.support.person import Person
from tests.support.wallet import WalletProcess

Screenshot = Callable[[Page, str], Path]
AGENT_NAME = "Trip planner agent"


@pytest.fixture
def login(wallet: WalletProcess, tmp_path: Path) -> Iterator[BackgroundLogin]:
    """``link-cli auth login`` polling in the background for this test's person."""
    running = BackgroundLogin(wallet.url, tmp_path / "auth.json", AGENT_NAME)
    yield running
    running.stop()


def sign_in(page: Page, person: Person) -> None:
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()


def test_typing_the_phrase_and_approving_logs_the_agent_in(
    page: Page,
    wallet: WalletProcess,
    person: Person,
    login: BackgroundLogin,
    tmp_path: Path,
    screenshot: Screenshot,
) -> None:
    page.goto(f"{wallet.url}/device/setup")
    sign_in(page, person)
    expect(page.get_by_role("heading", name="Connect an agent")).to_be_visible()
    screenshot(page, "enter-phrase")

    page.get_by_label("Phrase").fill(login.phrase)
    page.get_by_role("button", name="Continue").click()

    expect(
        page.get_by_role("heading", name=re.compile(f"^Allow {AGENT_NAME} on .+\\?$"))
    ).to_be_visible()
    expect(page.get_by_label("phrase")).to_have_text(login.phrase)
    screenshot(page, "confirm")
    page.get_by_role("button", name="Approve").click()

    expect(
        page.get_by_role("heading", name=re.compile(f"^{AGENT_NAME} on .+ is connected$"))
    ).to_be_visible()
    screenshot(page, "connected")
    code, lines = login.finish()
    assert code == 0
    assert lines[-2]["type"] == "chunk" and lines[-2]["data"]["authenticated"] is True
    assert lines[-1]["type"] == "done"
    auth_file = tmp_path / "auth.json"
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    code, info = Agent(wallet.url, auth_file).json("user-info", "retrieve")
    assert code == 0 and info["email"] == person.email


def test_a_wrong_phrase_is_refused_and_the_agent_stays_logged_out(
    page: Page,
    wallet: WalletProcess,
    person: Person,
    login: BackgroundLogin,
    tmp_path: Path,
    screenshot: Screenshot,
) -> None:
    page.goto(f"{wallet.url}/device/setup")
    sign_in(page, person)

    page.get_by_label("Phrase").fill("wrong-phrase-here")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("alert")).to_contain_text("doesn't match a pending sign-in")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    screenshot(page, "wrong-phrase")
    code, status = Agent(wallet.url, tmp_path / "status.json").json("auth", "status")
    assert code == 0 and status[-1]["authenticated"] is False
    assert login.process.poll() is None  # still waiting for the person


def test_denying_from_the_verification_link_refuses_the_agent(
    page: Page,
    wallet: WalletProcess,
    person: Person,
    login: BackgroundLogin,
    tmp_path: Path,
    screenshot: Screenshot,
) -> None:
    # The link the agent shows opens the sign-in first, then comes back to the request.
    page.goto(login.verification_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, person)
    expect(
        page.get_by_role("heading", name=re.compile(f"^Allow {AGENT_NAME} on .+\\?$"))
    ).to_be_visible()

    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_role("heading", name="Request denied")).to_be_visible()
    screenshot(page, "denied")
    code, lines = login.finish()
    assert code == 1
    assert lines[-1]["type"] == "error"
    assert lines[-1]["error"]["message"] == "Authorization denied by user."
    code, status = Agent(wallet.url, tmp_path / "auth.json").json("auth", "status")
    assert code == 0 and status[-1]["authenticated"] is False
