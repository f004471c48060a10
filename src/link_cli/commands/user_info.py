"""``user-info retrieve`` (contract §3.13)."""

from __future__ import annotations

from link_cli.commands._spec import Command, Group

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

USER_INFO_FIELDS = ("email", "name", "first_name", "last_name", "phone")

GROUPS = (Group(("user-info",), "User information commands"),)

COMMANDS = (
    Command(
        path=("user-info", "retrieve"),
        description="Retrieve user info (email, name, phone)",
        handler="link_cli.commands.user_info:retrieve",
        auth="middleware",
        read_only=True,
    ),
)


def retrieve(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Exactly ``{email, name, first_name, last_name, phone}``; missing fields are null."""
    info = ctx.client.user_info.retrieve() or {}
    return {key: info.get(key) for key in USER_INFO_FIELDS}
