"""``link-cli demo``: both payment flows on one machine, with nothing running beforehand.

The official demo (contract §3.18) talks to Link's hosted service and needs a terminal.
Ours starts its own ``link-wallet`` and demo shop on free loopback ports, creates a
sandbox person with a test card and a merchant account, logs ``link-cli`` in, and walks
the card flow and the SPT flow with the real programs. With ``--auto-approve`` the demo
also plays the person through the wallet's pages, so it runs without a terminal too
(``make demo`` in CI); without it, a terminal is required (``REQUIRES_TTY``), as upstream.

``link-cli onboard`` logs in to the configured wallet if needed, waits until the person has
a payment method, then runs the demo (terminal only).

Only the declarations live here; the demo itself is the ``link_cli.demo`` package, imported
when the command runs.
"""

from __future__ import annotations

from link_cli.commands._spec import Command, Option

__all__ = ["COMMANDS"]

COMMANDS = (
    Command(
        path=("demo",),
        description=(
            "Run an interactive demo of both Link payment flows (virtual card + machine payment)"
        ),
        handler="link_cli.demo.handler:run",
        options=(
            Option(name="onlyCard", type="boolean", default=False, help="Run only the card flow"),
            Option(
                name="onlySpt",
                type="boolean",
                default=False,
                help="Run only the machine payment (SPT) flow",
            ),
            Option(
                name="autoApprove",
                type="boolean",
                default=False,
                help=(
                    "Play the person too: sign in, approve the login and the purchases in "
                    "the demo wallet's pages (works without a terminal)"
                ),
            ),
            Option(
                name="keep",
                type="boolean",
                default=False,
                help="Leave the demo wallet and shop running afterwards",
            ),
        ),
        examples=("demo", "demo --only-card", "demo --auto-approve"),
    ),
    Command(
        path=("onboard",),
        description=(
            "Guided setup: authenticate, verify payment methods, and demo both payment flows"
        ),
        handler="link_cli.demo.onboard:run",
        examples=("onboard",),
    ),
)
