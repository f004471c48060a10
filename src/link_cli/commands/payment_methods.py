"""``payment-methods list`` and ``payment-methods add`` (contract §3.11)."""

from __future__ import annotations

from link_cli.commands._spec import Command, Group

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.commands._context import Context

OFFICIAL_API_BASE_URL = "https://api.link.com"
OFFICIAL_WALLET_URL = "https://app.link.com/wallet"

GROUPS = (Group(("payment-methods",), "Payment methods management commands"),)

COMMANDS = (
    Command(
        path=("payment-methods", "list"),
        description="List all payment methods on your account",
        handler="link_cli.commands.payment_methods:list_",
        auth="middleware",
        read_only=True,
    ),
    Command(
        path=("payment-methods", "add"),
        description="Open the Link wallet to add a new payment method",
        handler="link_cli.commands.payment_methods:add",
        auth="middleware",
        read_only=True,
    ),
)


def list_(p: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """The account's payment methods, a bare array."""
    return ctx.client.payment_methods.list()


def add_card_url(api_base_url: str) -> str:
    """Where a person adds a card: the official wallet, or our wallet's add-card page."""
    base = api_base_url.rstrip("/")
    if base == OFFICIAL_API_BASE_URL:
        return OFFICIAL_WALLET_URL
    return f"{base}/wallet/cards/new"


def add(p: dict[str, Any], ctx: Context) -> dict[str, str]:
    """``{url}`` of the add-card page; no request is made."""
    return {"url": add_card_url(ctx.api_base_url)}
