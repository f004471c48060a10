"""Browser tests: the person's pages driven in Debian's Chromium through Playwright.

pytest-playwright supplies ``page``, ``context`` and ``new_context``; this file points it
at ``/usr/bin/chromium-headless-shell`` (never ``playwright install``), marks every test here ``browser``,
and keeps evidence: :func:`screenshot` saves each page under
``test-artifacts/screenshots/``, and when a test fails the screenshot and HTML of every
open page go to ``test-artifacts/failures/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from tests.support.person import Person
from tests.support.wallet import WalletProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"

# Debian's Chromium headless shell (the same Blink and V8 as the browser, without the browser's
# UI layer: a third less CPU per page); make test installs it with apt when missing
# (scripts/install-system-deps.sh). The full browser works too (LINK_TEST_CHROMIUM).
CHROMIUM = os.environ.get("LINK_TEST_CHROMIUM") or next(
    (
        path
        for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
        if os.access(path, os.X_OK)
    ),
    "/usr/bin/chromium-headless-shell",
)
# The full browser, for what only it does (showing a service worker's notifications).
FULL_CHROMIUM = os.environ.get("LINK_TEST_FULL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the test machines run as root
    "--disable-gpu",
    "--disable-background-networking",  # tests only talk to 127.0.0.1
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium instead of a Playwright-downloaded build."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: run `make sysdeps` (apt-get install chromium-headless-shell)"
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A desktop-sized window unless a test asks for another viewport."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def person(wallet: WalletProcess) -> Iterator[Person]:
    """A fresh person (unique email) in the session's wallet, signed out."""
    someone = wallet.create_person()
    yield someone
    someone.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, "approval")`` saves a full-page PNG named after the test and step."""

    def save(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_slug(request.node.name)}--{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the page reports (blocked inline code, failed scripts, uncaught exceptions).

    A Content-Security-Policy violation only shows up here: the page still renders, just
    without its styles or behaviour.
    """
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{message.text} [{message.location.get('url', '')}]")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # The call report is made before fixtures are torn down, so the pages are still open.
    if report.when == "call" and report.failed:
        _keep_failure_evidence(item)
    return report


def _keep_failure_evidence(item: pytest.Item) -> None:
    funcargs = getattr(item, "funcargs", {})
    browser = funcargs.get("browser")
    if not isinstance(browser, Browser):
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    for c_index, context in enumerate(browser.contexts):
        for p_index, page in enumerate(context.pages):
            stem = FAILURES / f"{_slug(item.nodeid)}--{c_index}-{p_index}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
            except Exception as error:  # a crashed page must not hide the real failure
                Path(f"{stem}.error.txt").write_text(repr(error), encoding="utf-8")
