"""``link-cli onboard``: from a fresh install to a first paid demo, at a terminal (contract §3.18).

Three steps, each shown as it happens: log in to the configured wallet unless a working
session exists (the device flow, as ``auth login`` runs it at a terminal), wait until the
person has a payment method (pointing at the wallet's add-card page; Enter checks again),
then run the demo. Off a terminal, and over MCP, it is ``REQUIRES_TTY``, as upstream.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from link_cli._sanitize import sanitize_text
from link_cli.commands._context import Context
from link_cli.errors import RequiresTty, Unknown

__all__ = ["CLIENT_NAME", "REQUIRES_TTY_MESSAGE", "run"]

REQUIRES_TTY_MESSAGE = "The onboard command requires an interactive terminal."
CLIENT_NAME = "Link CLI Onboard"
# Each check waits for the person to press Enter, so this only bounds a stuck loop.
MAX_PAYMENT_METHOD_CHECKS = 50


def run(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Log in if needed, wait for a payment method, then run the demo."""
    from link_cli.demo.handler import run as run_demo
    from link_cli.demo.handler import serving_mcp
    from link_cli.demo.progress import StepReporter

    if serving_mcp() or ctx.agent:
        raise RequiresTty(REQUIRES_TTY_MESSAGE)
    reporter = StepReporter(sys.stdout, interactive=sys.stdout.isatty())
    reporter.heading("Connecting this agent to your Link wallet")
    _log_in(ctx, reporter)
    methods = _wait_for_payment_method(ctx, reporter, read_line=sys.stdin.readline)
    with reporter.step("Your wallet is ready") as step:
        step.detail = f"{len(methods)} payment method{'s' if len(methods) != 1 else ''}"
    reporter.heading("Now the demo: both ways an agent pays, in a private sandbox")
    return run_demo({"onlyCard": False, "onlySpt": False, "autoApprove": False}, ctx)


def _log_in(ctx: Context, reporter: Any) -> None:
    """The device flow of ``auth login`` (or nothing, when the stored session works)."""
    from link_cli.commands import find_command
    from link_cli.commands._invoke import invoke
    from link_cli.demo.approver import qr_text

    command = find_command(("auth", "login"))
    assert command is not None
    with reporter.step("Logging in") as step:
        for chunk in invoke(command, {"clientName": CLIENT_NAME}, ctx):
            url = chunk.get("verification_url")
            if url:
                url = sanitize_text(str(url))
                phrase = sanitize_text(str(chunk.get("phrase") or ""))
                lines = [
                    f"  Open: {url}",
                    f"  Approve the connection there; the phrase is: {phrase}",
                ]
                qr = qr_text(url)
                reporter.note("\n".join([*lines, qr] if qr else lines))
            if chunk.get("authenticated"):
                step.detail = sanitize_text(str(chunk.get("message") or "logged in"))
                return
    raise Unknown("The login did not complete.")


def _wait_for_payment_method(
    ctx: Context, reporter: Any, *, read_line: Callable[[], str]
) -> list[Any]:
    """Check for a payment method until there is one; Enter checks again, q or EOF stops."""
    from link_cli.commands.payment_methods import add_card_url

    for _ in range(MAX_PAYMENT_METHOD_CHECKS):
        methods = ctx.client.payment_methods.list()
        if methods:
            return list(methods)
        url = sanitize_text(add_card_url(ctx.api_base_url))
        reporter.note(
            "  Your wallet has no payment method yet.\n"
            f"  Add a card at: {url}\n"
            "  Then press Enter to check again (q to quit)."
        )
        answer = read_line()
        if not answer or answer.strip().lower() in ("q", "quit"):
            raise Unknown("Onboarding stopped: add a payment method, then run onboard again.")
    raise Unknown("Still no payment method; add one, then run onboard again.")
