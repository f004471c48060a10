"""``shipping-address list`` (contract §3.12)."""

from __future__ import annotations

from link_cli.commands._spec import Command, Group

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

GROUPS = (Group(("shipping-address",), "Shipping address management commands"),)

COMMANDS = (
    Command(
        path=("shipping-address", "list"),
        description="List all shipping addresses on your account",
        handler="link_cli.commands.shipping_address:list_",
        auth="middleware",
        read_only=True,
    ),
)


def list_(p: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """The account's shipping addresses, a bare array (nulls preserved)."""
    return ctx.client.shipping_addresses.list()
