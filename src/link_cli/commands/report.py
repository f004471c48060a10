"""``report``: tell the wallet how a purchase attempt on a site went (contract §3.16).

The agent reports after every attempt, successful or not; the person reads the report next
to the spend request it names. Only the declaration and a thin handler live here; the
request is ``Reports.create`` of the SDK (``POST /agent_observations``).
"""

from __future__ import annotations

from link_cli.agent_reports import OUTCOMES, TAGS, TEXT_LIMIT
from link_cli.commands._spec import Command, Option

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

__all__ = ["COMMANDS", "create"]


COMMANDS = (
    Command(
        path=("report",),
        description=(
            "Report the outcome of an agent action on a domain. Call after every purchase attempt."
        ),
        handler="link_cli.commands.report:create",
        auth="guard",
        options=(
            Option("domain", help="The site the agent acted on (e.g. shop.example)", required=True),
            Option("outcome", "enum", "How the attempt ended", required=True, choices=OUTCOMES),
            Option("spendRequestId", help="The spend request the attempt was for", required=True),
            Option("tag", "enum", "What got in the way", choices=TAGS, repeatable=True),
            Option(
                "step",
                help="Where in the checkout the attempt ended",
                max_length=TEXT_LIMIT,
            ),
            Option(
                "freeformContext",
                help="Anything else the person should know, in a sentence or two",
                max_length=TEXT_LIMIT,
            ),
        ),
        examples=(
            "report --domain shop.example --outcome success --spend-request-id lsrq_123",
            "report --domain shop.example --outcome blocked --tag captcha "
            "--spend-request-id lsrq_123 --step 'payment page'",
        ),
    ),
)


def create(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``POST /agent_observations``; the answer is the wallet's record of the report."""
    from link_cli.commands import UNDEFINED

    ctx.require_auth()  # contract §14.3: the official guard is a no-op; ours does what it promises
    body: dict[str, Any] = {
        "domain": p["domain"],
        "outcome": p["outcome"],
        "spend_request_id": p["spendRequestId"],
    }
    if p["tag"]:
        body["tags"] = list(p["tag"])
    for option, field in (("step", "step"), ("freeformContext", "freeform_context")):
        if p[option] is not UNDEFINED:
            body[field] = p[option]
    return ctx.client.reports.create(body)
