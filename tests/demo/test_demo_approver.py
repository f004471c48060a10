"""The person at the terminal: what the demo shows them, and when it opens their browser."""

from __future__ import annotations

import io

import pytest

from link_cli.demo import approver
from link_cli.demo.approver import PersonAtTerminal
from link_cli.demo.progress import StepReporter

URL = "http://127.0.0.1:8725/approve/lsrq_1"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(approver.webbrowser, "open", urls.append)
    monkeypatch.setattr(approver.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    return urls


def person(out: io.StringIO) -> PersonAtTerminal:
    reporter = StepReporter(out, interactive=False)
    return PersonAtTerminal(reporter, email="demo@example.com", password="pw-123")


def test_with_a_display_the_browser_opens_on_the_link(
    opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    out = io.StringIO()
    person(out).approve_spend_request(URL)
    assert opened == [URL]
    assert f"Open: {URL}" in out.getvalue()


def test_without_a_display_the_link_and_qr_code_are_shown_and_nothing_opens(
    opened: list[str],
) -> None:
    out = io.StringIO()
    at_terminal = person(out)
    at_terminal.approve_device(URL.replace("approve/lsrq_1", "device/setup"), "ivory-lime-rabbit")
    at_terminal.approve_spend_request(URL)
    text = out.getvalue()
    assert opened == []
    assert "the phrase is: ivory-lime-rabbit" in text
    assert text.count("Sign in as demo@example.com with password pw-123") == 1  # once only
    assert text.count("▄▄▄▄▄▄▄") >= 2  # a QR code under each link (finder patterns)


def test_only_web_links_are_opened(opened: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    person(io.StringIO()).approve_spend_request("file:///etc/passwd")
    assert opened == []


def test_escape_sequences_in_a_link_never_reach_the_terminal(opened: list[str]) -> None:
    out = io.StringIO()
    person(out).approve_device(URL + "\x1b]0;owned\x07", "phrase\x1b[2J")
    assert "\x1b" not in out.getvalue()


def test_children_bypass_any_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    from link_cli.demo.agent import child_environment

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "corp.example, localhost")
    monkeypatch.setenv("LINK_ACCESS_TOKEN", "real-token")
    env = child_environment({"EXTRA": "1"})
    assert env["NO_PROXY"] == env["no_proxy"] == "corp.example,localhost,127.0.0.1,::1"
    assert "LINK_ACCESS_TOKEN" not in env and env["EXTRA"] == "1"


def test_a_qr_code_of_a_loopback_link_warns_and_names_the_lan_address(
    opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(approver, "lan_address", lambda: "192.168.1.20")
    out = io.StringIO()
    person(out).approve_spend_request(URL)
    text = out.getvalue()
    assert "this code opens 127.0.0.1, which is this computer itself" in text
    assert "network address is 192.168.1.20" in text
    assert (
        "LINK_WALLET_PUBLIC_URL=http://192.168.1.20:8725 link-wallet serve --host 0.0.0.0" in text
    )


def test_a_qr_code_of_a_public_link_has_no_warning(opened: list[str]) -> None:
    out = io.StringIO()
    person(out).approve_spend_request("https://wallet.example/approve/lsrq_1")
    assert "▄▄▄▄▄▄▄" in out.getvalue()
    assert "Warning" not in out.getvalue()


@pytest.mark.parametrize("url", ["http://localhost:8725/x", "http://[::1]:8725/x"])
def test_every_loopback_name_is_recognised(url: str) -> None:
    assert approver.loopback_warning(url)


def test_the_lan_address_is_never_loopback() -> None:
    import ipaddress

    found = approver.lan_address()
    assert found is None or not ipaddress.ip_address(found).is_loopback
