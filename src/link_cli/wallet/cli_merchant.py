"""``link-wallet merchant create`` and ``link-wallet demo-merchant``.

``merchant create`` registers a seller and prints its secret key once; ``merchant list``
prints the registered merchants (account ids, never keys) (only its SHA-256 is
stored): ``sk_test_…`` by default (test mode: redeems only credentials of ``test: true``
spend requests), ``sk_live_…`` with ``--live`` (redeems only live credentials). ``demo-merchant`` runs the demo shop (:mod:`link_cli.merchant`) against a wallet.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from .domain.errors import InvalidRequest
from .domain.text import CONTROL_SINGLE_LINE
from .settings import WalletSettings

__all__ = ["MERCHANT_COMMANDS", "add_merchant_commands", "run_merchant_command"]

MERCHANT_COMMANDS = ("merchant", "demo-merchant")
_NETWORK_ID = re.compile(r"[A-Za-z0-9_\-]{3,200}")


def add_merchant_commands(commands: Any) -> None:
    """Add the ``merchant`` and ``demo-merchant`` subcommands to ``link-wallet``."""
    merchant = commands.add_parser("merchant", help="manage merchants that settle at this wallet")
    actions = merchant.add_subparsers(dest="merchant_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="register a merchant; prints its secret key (sk_test_/sk_live_) once"
    )
    create.add_argument("--name", required=True, help="the merchant's display name")
    create.add_argument("--network-id", required=True, help="its network id, e.g. profile_…")
    mode = create.add_mutually_exclusive_group()
    mode.add_argument(
        "--live",
        dest="livemode",
        action="store_true",
        help="live mode (sk_live_…): redeems only credentials of live spend requests",
    )
    mode.add_argument(
        "--test",
        dest="livemode",
        action="store_false",
        help="test mode (sk_test_…, the default): redeems only credentials of test: true "
        "spend requests",
    )
    create.add_argument(
        "--url",
        help="its web site, e.g. https://shop.example: virtual cards approved for this host "
        "are meant for this merchant (wrong CVCs of other merchants never burn them)",
    )

    create.add_argument(
        "--format", choices=("json", "text"), default="json", help="json (default) or text"
    )
    merchant_list = actions.add_parser(
        "list",
        help="list registered merchants: account id (acct_…, the merchant account id of Link "
        "Pay Tokens), name, network id, mode and site; never their keys",
    )
    merchant_list.add_argument(
        "--format", choices=("json", "text"), default="json", help="json (default) or text"
    )

    from link_cli.merchant.server import add_arguments

    demo = commands.add_parser("demo-merchant", help="run the demo shop (402 API + checkout)")
    add_arguments(demo)


def run_merchant_command(args: argparse.Namespace, settings: WalletSettings) -> int:
    """Run one of :data:`MERCHANT_COMMANDS`; returns the exit status."""
    if args.command == "demo-merchant":
        from link_cli.merchant.server import run

        return run(args)
    from .cli_manage import print_result

    if args.merchant_command == "list":
        print_result(_list(settings), args.format)
        return 0
    print_result(_create(settings, args), args.format)
    print("Store the secret key now: it is not shown again.", file=sys.stderr)
    return 0


def _list(settings: WalletSettings) -> list[dict[str, Any]]:
    from .store.engine import Database
    from .store.merchants import list_merchants
    from .store.migrations import upgrade

    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            return [
                {
                    "id": merchant.id,
                    "name": merchant.name,
                    "network_id": merchant.network_id,
                    "livemode": merchant.livemode,
                    "url": merchant.site,
                }
                for merchant in list_merchants(session)
            ]
    finally:
        database.dispose()


def _create(settings: WalletSettings, args: argparse.Namespace) -> dict[str, Any]:
    from .clock import Clock
    from .domain.redemption import site_host
    from .store.engine import Database
    from .store.merchants import create_merchant
    from .store.migrations import upgrade

    name = args.name.strip()
    network_id = args.network_id.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("--name must be 1 to 200 characters")
    if CONTROL_SINGLE_LINE.search(name):
        raise InvalidRequest("--name must not contain control characters or bidi overrides")
    if not _NETWORK_ID.fullmatch(network_id):
        raise InvalidRequest("--network-id must be 3 to 200 letters, digits, '_' or '-'")
    site = (args.url or "").strip() or None
    if site is not None and (
        len(site) > 2048 or CONTROL_SINGLE_LINE.search(site) or site_host(site) is None
    ):
        raise InvalidRequest("--url must be an http:// or https:// address with a host name")
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            try:
                merchant, secret_key = create_merchant(
                    session,
                    name=name,
                    network_id=network_id,
                    now=Clock().now(),
                    livemode=bool(getattr(args, "livemode", False)),
                    site=site,
                )
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from None
            return {
                "id": merchant.id,
                "name": merchant.name,
                "network_id": merchant.network_id,
                "livemode": merchant.livemode,
                "url": merchant.site,
                "secret_key": secret_key,
            }
    finally:
        database.dispose()
