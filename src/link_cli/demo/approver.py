"""Who approves in the demo: the demo itself (``--auto-approve``) or a person at a terminal.

Both approvers only *start* an approval; the agent then learns the outcome the way an
agent always does, by polling with ``link-cli`` (``auth status --interval``,
``spend-request retrieve --interval``). So the two modes differ only in who presses the
button in the wallet's page.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import webbrowser
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from link_cli._sanitize import sanitize_text
from link_cli.demo.person import WalletPerson
from link_cli.demo.progress import StepReporter

__all__ = ["Approver", "AutoApprover", "PersonAtTerminal"]


class Approver(Protocol):
    """Starts the person's side of a device login or a spend-request approval."""

    def approve_device(self, verification_url: str, phrase: str) -> None:
        """Have the device login at ``verification_url`` approved with ``phrase``."""

    def approve_spend_request(self, approval_url: str) -> None:
        """Have the spend request at ``approval_url`` approved."""


@dataclass
class AutoApprover:
    """The demo plays the person through the wallet's real pages (``--auto-approve``)."""

    person: WalletPerson

    def approve_device(self, verification_url: str, phrase: str) -> None:
        """Sign in if needed, type the phrase, press Approve."""
        self.person.approve_device(verification_url, phrase)

    def approve_spend_request(self, approval_url: str) -> None:
        """Open the approval page and press Approve."""
        self.person.approve_spend_request(approval_url)


@dataclass
class PersonAtTerminal:
    """A real person approves: show the link (and a QR code), open the browser if we can."""

    reporter: StepReporter
    email: str
    password: str
    open_browser: bool = True
    _told_sign_in: bool = False

    def approve_device(self, verification_url: str, phrase: str) -> None:
        """Show where to approve the login and the phrase to type."""
        self._show(verification_url, f"Approve the login there; the phrase is: {phrase}")

    def approve_spend_request(self, approval_url: str) -> None:
        """Show where to approve the purchase."""
        self._show(approval_url, "Review the purchase there and press Approve.")

    def _show(self, url: str, instruction: str) -> None:
        # Both texts come from server answers: no escape sequence reaches the terminal.
        url, instruction = sanitize_text(url), sanitize_text(instruction)
        lines = [f"  Open: {url}", f"  {instruction}"]
        if not self._told_sign_in:
            lines.append(f"  Sign in as {self.email} with password {self.password}")
            self._told_sign_in = True
        qr = qr_text(url)
        if qr:
            lines.append(qr)
        self.reporter.note("\n".join(lines))
        if self.open_browser and _can_open_browser() and url.startswith(("http://", "https://")):
            webbrowser.open(url)


def _can_open_browser() -> bool:
    """A browser can open when there is a display (or we are on a desktop OS)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def qr_text(url: str) -> str:
    """The URL as the same half-block QR code the CLI shows (empty without qrcode), with a
    warning under it when the URL is a loopback address that no phone can open."""
    try:
        from link_cli._qr import qr_lines

        lines = qr_lines(url)
    except ImportError:
        return ""
    warning = loopback_warning(url)
    return "\n".join([*lines, *warning])


def loopback_warning(url: str) -> list[str]:
    """Why a phone scanning this code gets nowhere, and this computer's network address."""
    host = urlsplit(url).hostname or ""
    if not _is_loopback(host):
        return []
    lines = [
        f"  Warning: this code opens {host}, which is this computer itself: a phone that",
        "  scans it reaches nothing. Open the link on this computer instead.",
    ]
    lan = lan_address()
    if lan is not None:
        wallet = f"http://{lan}:8725"
        lines += [
            f"  This computer's network address is {lan}. To approve from a phone on the same",
            "  network, run a wallet that listens there (the demo's sandbox stays on this",
            "  computer on purpose):",
            f"    LINK_WALLET_PUBLIC_URL={wallet} link-wallet serve --host 0.0.0.0",
        ]
    return lines


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This computer's IPv4 address on its default route, or None without a network.

    Connecting a UDP socket sends nothing; it only makes the OS choose the source address.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, nothing is sent
            address = sock.getsockname()[0]
    except OSError:
        return None
    if not isinstance(address, str) or ipaddress.ip_address(address).is_loopback:
        return None
    return address
