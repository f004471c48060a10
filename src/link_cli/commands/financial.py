"""``balances list``, ``sources list``, ``transactions list`` ([beta], contract §3.17).

Each answers the wallet's page object as it is (``{...extra fields, data, has_more}``); the
SDK keeps the official query order and validates the page (contract §7.9). To read the next
page, pass the last item's ``id`` (``source_id`` for balances) as ``--starting-after`` while
``has_more`` is true.
"""

from __future__ import annotations

from link_cli.commands._spec import Command, Group, Option

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

__all__ = ["COMMANDS", "GROUPS", "list_balances", "list_sources", "list_transactions"]

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATE_MESSAGE = "Date must be in YYYY-MM-DD format."
ORIGINS = ("link", "external_connection")

_LIMIT = Option(
    "limit", "integer", "Maximum number of results to return (1-100)", minimum=1, maximum=100
)
_STARTING_AFTER = Option(
    "startingAfter", help="Cursor for pagination: return results after this ID"
)
_ENDING_BEFORE = Option("endingBefore", help="Cursor for pagination: return results before this ID")
_PAGE_OPTIONS = (_LIMIT, _STARTING_AFTER, _ENDING_BEFORE)

GROUPS = (
    Group(("balances",), "[beta] List balances from your Link wallet"),
    Group(("sources",), "[beta] List sources from your Link wallet"),
    Group(("transactions",), "[beta] List transactions from Link and external accounts"),
)

COMMANDS = (
    Command(
        path=("balances", "list"),
        description="List balances from your Link wallet",
        handler="link_cli.commands.financial:list_balances",
        auth="middleware",
        read_only=True,
        options=(
            Option("source", help="Only balances of this source ID", repeatable=True),
            *_PAGE_OPTIONS,
        ),
        examples=("balances list", "balances list --source csmrpd_123 --limit 5"),
    ),
    Command(
        path=("sources", "list"),
        description="List sources from your Link wallet",
        handler="link_cli.commands.financial:list_sources",
        auth="middleware",
        read_only=True,
        options=_PAGE_OPTIONS,
        examples=("sources list", "sources list --limit 10 --starting-after csmrpd_123"),
    ),
    Command(
        path=("transactions", "list"),
        description=(
            "List transactions from Link and external accounts, including non-Link activity"
        ),
        handler="link_cli.commands.financial:list_transactions",
        auth="middleware",
        read_only=True,
        options=(
            *_PAGE_OPTIONS,
            Option(
                "startDate",
                help="Only transactions on or after this date (YYYY-MM-DD)",
                pattern=DATE_PATTERN,
                pattern_message=DATE_MESSAGE,
            ),
            Option(
                "endDate",
                help="Only transactions on or before this date (YYYY-MM-DD)",
                pattern=DATE_PATTERN,
                pattern_message=DATE_MESSAGE,
            ),
            Option("category", help="Only transactions in this category"),
            Option("origin", "enum", "Only transactions of this origin", choices=ORIGINS),
            Option("source", help="Only transactions of this source ID", repeatable=True),
        ),
        examples=(
            "transactions list --limit 20",
            "transactions list --start-date 2026-01-01 --end-date 2026-01-31 --origin link",
        ),
    ),
)


def _given(p: dict[str, Any], name: str) -> Any:
    from link_cli.commands import UNDEFINED

    return None if p[name] is UNDEFINED else p[name]


def _page(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "limit": _given(p, "limit"),
        "starting_after": _given(p, "startingAfter"),
        "ending_before": _given(p, "endingBefore"),
    }


def list_balances(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``GET /balances``."""
    return ctx.client.balances.list(sources=p["source"], **_page(p))


def list_sources(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``GET /sources``."""
    return ctx.client.sources.list(**_page(p))


def list_transactions(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``GET /transactions``."""
    return ctx.client.transactions.list(
        **_page(p),
        date_start=_given(p, "startDate"),
        date_end=_given(p, "endDate"),
        category=_given(p, "category"),
        origin=_given(p, "origin"),
        sources=p["source"],
    )
