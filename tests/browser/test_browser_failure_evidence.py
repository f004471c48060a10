"""When a browser test fails, the screenshot and HTML of every open page are kept."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from tests.support.wallet import WalletProcess


@dataclass
class FailedItem:
    nodeid: str
    funcargs: dict[str, Any] = field(default_factory=dict)


def test_a_failure_keeps_each_pages_screenshot_and_html(
    page: Page,
    browser: Browser,
    wallet: WalletProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conftest = sys.modules[__name__.rsplit(".", 1)[0] + ".conftest"]
    monkeypatch.setattr(conftest, "FAILURES", tmp_path)
    page.goto(f"{wallet.url}/signin")

    conftest._keep_failure_evidence(
        FailedItem("tests/browser/test_x.py::test_y", {"browser": browser})
    )

    [png] = tmp_path.glob("*.png")
    [html] = tmp_path.glob("*.html")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "Sign in" in html.read_text(encoding="utf-8")
    assert png.stem == html.stem == "tests-browser-test_x.py-test_y--0-0"
