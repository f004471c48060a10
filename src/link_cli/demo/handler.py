"""The ``demo`` handler: check the mode, start the world, run the flows, clean up.

Output: each step is printed as it completes (spinner on a terminal, one line each
otherwise); the returned summary is what the CLI renders in agent mode (toon by default),
while a terminal gets a short summary table and a closing line instead. Exit 0 only when every flow that ran
ended ``succeeded``; anything else raises, after every started process has been stopped.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from link_cli.commands._context import Context
from link_cli.errors import InvalidInput, RequiresTty, Unknown

__all__ = ["run", "serving_mcp"]

REQUIRES_TTY_MESSAGE = "The demo command requires an interactive terminal."


def run(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run the demo; returns ``{flows: {...}, servers: ...}`` (see module docstring)."""
    from link_cli.demo.progress import StepReporter

    auto_approve = bool(params.get("autoApprove"))
    if serving_mcp():
        # Through MCP the demo would start servers inside the agent's tool call and print
        # into the JSON-RPC stream; upstream refuses it there too (contract §9.3).
        raise RequiresTty(REQUIRES_TTY_MESSAGE)
    if ctx.agent and not auto_approve:
        raise RequiresTty(REQUIRES_TTY_MESSAGE)
    if params.get("onlyCard") and params.get("onlySpt"):
        raise InvalidInput("--only-card and --only-spt cannot be used together")
    flows = ["card", "spt"]
    if params.get("onlyCard"):
        flows = ["card"]
    elif params.get("onlySpt"):
        flows = ["spt"]

    stream = sys.stdout
    reporter = StepReporter(stream, interactive=ctx.human and stream.isatty())
    with _terminate_as_interrupt():
        return _run_demo(
            reporter,
            flows,
            auto_approve=auto_approve,
            keep=bool(params.get("keep")),
            human=ctx.human,
        )


def _run_demo(
    reporter: Any, flows: list[str], *, auto_approve: bool, keep: bool, human: bool
) -> dict[str, Any]:
    from link_cli.demo.approver import AutoApprover, PersonAtTerminal
    from link_cli.demo.flows import FlowOutcome, FlowRunner
    from link_cli.demo.person import WalletPerson
    from link_cli.demo.session import DemoSession

    outcomes: dict[str, FlowOutcome] = {}
    failures: list[str] = []
    with DemoSession(reporter, keep=keep) as session:
        reporter.heading("Setting up a private wallet and shop on this machine")
        session.start()
        person = session.person
        approver: Any
        if auto_approve:
            approver = AutoApprover(WalletPerson(session.wallet_url, person.email, person.password))
        else:
            approver = PersonAtTerminal(reporter, email=person.email, password=person.password)
        runner = FlowRunner(
            agent=session.agent,
            approver=approver,
            shop=session.shop,
            reporter=reporter,
            work_dir=session.work_dir,
        )
        reporter.heading("Logging the agent in")
        runner.log_in()
        for name in flows:
            flow = runner.card_flow if name == "card" else runner.spt_flow
            outcomes[name] = outcome = FlowOutcome(name=name)
            try:
                flow(outcome)
            except Exception as error:  # any failure ends this flow; the next still runs
                failures.append(f"{name} flow: {error}")
                outcome.status = f"failed ({outcome.status})"
        summary = {
            "flows": {name: _outcome_row(outcome) for name, outcome in outcomes.items()},
            "wallet_url": session.wallet_url,
            "shop_url": session.shop.base_url,
            "servers": "left running (--keep)" if keep else "stopped",
        }
        if keep:
            # A sandbox person on a loopback wallet: the terminal run shows the same.
            summary["sign_in"] = {
                "url": f"{session.wallet_url}/wallet",
                "email": person.email,
                "password": person.password,
            }
    if human:
        _print_human_summary(reporter, summary)
    if failures:
        raise Unknown("Demo failed: " + "; ".join(failures))
    if human:
        # The terminal already has the summary table; the CLI shows this closing line.
        return {"message": _closing_line(flows, keep=keep)}
    reporter.heading("Summary")  # the CLI renders the returned data below this line
    return summary


def _closing_line(flows: list[str], *, keep: bool) -> str:
    done = "Both flows succeeded." if len(flows) == 2 else "The flow succeeded."
    if keep:
        return f"{done} The wallet and the shop are still running (--keep)."
    return f"{done} Everything the demo started has been stopped."


def _outcome_row(outcome: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "spend_request": outcome.spend_request_id,
        "amount": outcome.amount,
        "status": outcome.status,
    }
    row.update(outcome.details)
    return row


def _print_human_summary(reporter: Any, summary: dict[str, Any]) -> None:
    reporter.heading("Summary")
    labels = {"card": "Card flow", "spt": "Machine payment"}
    for name, row in summary["flows"].items():
        reporter.line(
            f"  {labels.get(name, name):<16} {row['status']:<10} {row['amount']:<9} "
            f"{row['spend_request'] or ''}"
        )


def serving_mcp() -> bool:
    """True inside ``link-cli --mcp`` / ``serve``: only they import the MCP adapter."""
    return any(name.startswith("link_cli.mcp.") for name in list(sys.modules))


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM and SIGHUP like Ctrl-C, so cleanup runs before the demo exits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
