"""``merchant inspect <url>``: step 2 of every purchase, evaluating the merchant (ours).

Not in the official CLI (docs/compatibility.md). The work is :mod:`link_cli.inspection`;
this module declares the command and sanitises what it prints, as ``mpp pay`` does.
"""

from __future__ import annotations

from link_cli.commands._spec import UNDEFINED, Argument, Command, Group, Option
from link_cli.errors import InvalidInput, Unknown

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

__all__ = ["COMMANDS", "GROUPS", "inspect"]

GROUPS = (Group(("merchant",), "Evaluate a merchant before buying (not in the official CLI)"),)

COMMANDS = (
    Command(
        path=("merchant", "inspect"),
        description=(
            "Evaluate a merchant URL before buying: which credential to ask for (shared "
            "payment token for a stripe 402, card for a checkout, with the Link Pay Token "
            "agent block when present), the decoded offer, checkout signals, the site's "
            "agent policy (agents.txt, llms.txt, robots.txt, X-Robots-Tag) and risk signals, "
            "with the spend-request create command to run next. Sends no credentials."
        ),
        handler="link_cli.commands.merchant:inspect",
        read_only=True,
        args=(Argument("url", "The page or API endpoint to evaluate (http or https)"),),
        options=(
            Option("method", short="X", help="HTTP method (default GET, or POST with --data)"),
            Option("data", short="d", help="Request body, sent verbatim as JSON"),
            Option(
                "header",
                short="H",
                repeatable=True,
                default=(),
                help="Request header 'Name: Value' (never Authorization or Cookie)",
            ),
            Option(
                "expectDomain",
                help="The domain the person named; a look-alike or another domain is flagged",
            ),
            Option(
                "resolve",
                repeatable=True,
                default=(),
                help="HOST:PORT:ADDRESS, connect there for HOST:PORT (as curl --resolve)",
            ),
        ),
        examples=(
            "merchant inspect https://shop.example/checkout --expect-domain shop.example",
            "merchant inspect https://api.example/paid -X POST -d '{\"q\":1}'",
        ),
    ),
)


def inspect(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Inspect ``url`` and return the sanitised report."""
    from link_cli._sanitize import sanitize_deep, sanitize_text
    from link_cli.inspection import Inspection, inspect_merchant, parse_resolve
    from link_cli.inspection.inspect import InspectError, RefusedInput

    try:
        resolve = parse_resolve(list(p["resolve"]))
    except ValueError as exc:
        raise InvalidInput(sanitize_text(str(exc))) from None
    method, data, expect = p["method"], p["data"], p["expectDomain"]
    target = Inspection(
        url=p["url"],
        method=method if method is not UNDEFINED and method else None,
        data=data if data is not UNDEFINED and data is not None else None,
        headers=tuple(p["header"]),
        expect_domain=expect if expect is not UNDEFINED and expect else None,
        resolve=resolve,
    )
    try:
        return sanitize_deep(inspect_merchant(target))
    except RefusedInput as exc:
        raise InvalidInput(sanitize_text(str(exc))) from None
    except InspectError as exc:
        raise Unknown(sanitize_text(str(exc))) from None
