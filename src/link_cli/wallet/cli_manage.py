"""``link-wallet`` management commands for administrators: agents, cards, addresses,
profile, passwords, people and the spend history (docs/internals.md, "Wallet: command line").

Every command acts for the person named by ``--email`` and prints JSON (``--format json``,
the default) or aligned text (``--format text``); ``history --csv`` prints CSV. Errors print
one line on stderr and exit with status 1, as every ``link-wallet`` command.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .settings import WalletSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["add_format_option", "add_manage_commands", "print_result", "run_manage_command"]

Handler = Callable[["Session", argparse.Namespace, WalletSettings], Any]


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format json|text`` (json by default), as every ``link-wallet`` command that prints."""
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="json (default, for scripts) or text (aligned, for people)",
    )


def _common(parser: argparse.ArgumentParser, *, email: bool = True) -> None:
    if email:
        parser.add_argument("--email", required=True, help="the person acted for")
    add_format_option(parser)


def _add(
    actions: Any, name: str, handler: Handler, help_text: str, *, email: bool = True
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    _common(parser, email=email)
    parser.set_defaults(manage=handler)
    return parser


_ADDRESS_FLAGS = {
    "nickname": "--nickname",
    "name": "--name",
    "line_1": "--line1",
    "line_2": "--line2",
    "locality": "--city",
    "administrative_area": "--state",
    "postal_code": "--postal-code",
    "country_code": "--country",
}


def _address_flags(parser: argparse.ArgumentParser) -> None:
    for field, flag in _ADDRESS_FLAGS.items():
        parser.add_argument(flag, dest=f"addr_{field}")
    parser.add_argument("--default", action="store_true", help="make it the default address")


def add_manage_commands(commands: Any, user_actions: Any, card_actions: Any) -> None:
    """Add the management subcommands to ``link-wallet`` (``user``/``card`` exist already),
    and ``--format`` to the commands that were there before them."""
    for group in (user_actions, card_actions):
        for name in ("create", "add"):
            if name in group.choices:
                add_format_option(group.choices[name])
    _add(user_actions, "list", _user_list, "list everyone registered", email=False)
    reset = _add(user_actions, "reset-password", _user_reset, "set a person's password")
    reset.add_argument(
        "--password-stdin", action="store_true", help="read the new password from standard input"
    )
    profile = _add(
        user_actions, "profile", _user_profile, "show, or with --name/--phone change, a profile"
    )
    profile.add_argument("--name", help="display name (empty string clears it)")
    profile.add_argument("--phone", help="phone number (empty string clears it)")

    _add(card_actions, "list", _card_list, "list a person's cards (never their numbers)")
    remove = _add(card_actions, "remove", _card_remove, "remove a card")
    remove.add_argument("card_id")
    remove.add_argument(
        "--yes",
        action="store_true",
        help="confirm cancelling approved, unused credentials issued on the card",
    )
    default = _add(card_actions, "default", _card_default, "make a card the default one")
    default.add_argument("card_id")
    nickname = _add(card_actions, "nickname", _card_nickname, "set or clear a card's nickname")
    nickname.add_argument("card_id")
    nickname.add_argument("nickname", help="the new nickname (empty string clears it)")

    agent = commands.add_parser("agent", help="list or revoke a person's connected agents")
    agent_actions = agent.add_subparsers(dest="agent_command", required=True, metavar="ACTION")
    _add(agent_actions, "list", _agent_list, "list connected agents")
    revoke = _add(agent_actions, "revoke", _agent_revoke, "revoke an agent's tokens at once")
    revoke.add_argument("agent_id")

    address = commands.add_parser("address", help="manage a person's shipping addresses")
    address_actions = address.add_subparsers(
        dest="address_command", required=True, metavar="ACTION"
    )
    _add(address_actions, "list", _address_list, "list shipping addresses")
    _address_flags(_add(address_actions, "add", _address_add, "add a shipping address"))
    edit = _add(address_actions, "edit", _address_edit, "change fields of an address")
    edit.add_argument("address_id")
    _address_flags(edit)
    remove_address = _add(address_actions, "remove", _address_remove, "remove an address")
    remove_address.add_argument("address_id")
    default_address = _add(address_actions, "default", _address_default, "make it the default")
    default_address.add_argument("address_id")

    history = _add(commands, "history", _history, "a person's spend requests and their outcome")
    history.add_argument("--status", help="only requests in this status")
    history.add_argument("--since", help="created on or after this date (YYYY-MM-DD, UTC)")
    history.add_argument("--until", help="created on or before this date (YYYY-MM-DD, UTC)")
    history.add_argument("--merchant", help="merchant name, site or network id contains this")
    history.add_argument("--csv", action="store_true", help="print CSV (formula-safe) instead")


@contextmanager
def _session(settings: WalletSettings) -> Iterator[Session]:
    from .store.engine import Database
    from .store.migrations import upgrade

    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            yield session
    finally:
        database.dispose()


def run_manage_command(args: argparse.Namespace, settings: WalletSettings) -> int:
    """Run the handler argparse chose; print its answer in ``--format``."""
    with _session(settings) as session:
        result = args.manage(session, args, settings)
    if isinstance(result, str):
        sys.stdout.write(result)
    else:
        print_result(result, getattr(args, "format", "json"))
    return 0


def print_result(result: Any, output_format: str) -> None:
    """Print a command's answer as JSON or, for ``--format text``, aligned text."""
    print(_text(result) if output_format == "text" else json.dumps(result))


def _text(result: Any) -> str:
    if isinstance(result, dict):
        width = max((len(k) for k in result), default=0)
        return "\n".join(f"{k.ljust(width)}  {_plain(v)}" for k, v in result.items())
    if not result:
        return "(none)"
    columns = list(result[0])
    cells = [[_plain(row.get(c)) for c in columns] for row in result]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    # One line per cell: agent-typed text never breaks the table.
    return " ".join(str(value).split())


def _now() -> Any:
    from .clock import Clock

    return Clock().now()


def _user_id(session: Session, args: argparse.Namespace) -> str:
    from .services.manage import user_by_email

    return user_by_email(session, args.email).id


# --- handlers ----------------------------------------------------------------------------


def _user_list(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import list_users

    return list_users(session)


def _user_reset(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import reset_password

    password = _read_new_password(args.password_stdin)
    user = reset_password(
        session, email=args.email, password=password, fast_hash=settings.fast_password_hash
    )
    return {"id": user.id, "email": user.email, "password_reset": True}


def _read_new_password(from_stdin: bool) -> str:
    """From standard input, or typed twice at hidden prompts; never an argument."""
    from .domain.errors import InvalidRequest

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidRequest("no terminal to prompt for a password; use --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat new password: ") != first:
        raise InvalidRequest("the two passwords differ")
    return first


def _user_profile(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import update_profile, user_by_email

    user = user_by_email(session, args.email)
    return update_profile(session, user=user, name=args.name, phone=args.phone)


def _card_list(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import list_cards

    return list_cards(session, _user_id(session, args))


def _card_remove(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .domain.errors import Conflict
    from .services.manage import remove_card

    try:
        return remove_card(
            session,
            user_id=_user_id(session, args),
            card_id=args.card_id,
            confirmed=args.yes,
            now=_now(),
        )
    except Conflict as exc:
        if exc.code != "confirmation_required":
            raise
        raise Conflict(exc.message.replace("Confirm to go on.", "Add --yes to go on.")) from None


def _card_default(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import set_default_card

    return set_default_card(session, user_id=_user_id(session, args), card_id=args.card_id)


def _card_nickname(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import set_card_nickname

    return set_card_nickname(
        session, user_id=_user_id(session, args), card_id=args.card_id, nickname=args.nickname
    )


def _agent_list(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import list_agents

    return list_agents(session, _user_id(session, args))


def _agent_revoke(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import revoke_agent

    revoke_agent(session, user_id=_user_id(session, args), agent_id=args.agent_id, now=_now())
    return {"id": args.agent_id, "revoked": True}


def _address_list(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import list_addresses

    return list_addresses(session, _user_id(session, args))


def _given_address(args: argparse.Namespace, base: dict[str, Any]) -> Any:
    from .domain.manage import validate_address

    raw = {field: base.get(field) for field in _ADDRESS_FLAGS}
    for field in _ADDRESS_FLAGS:
        value = getattr(args, f"addr_{field}")
        if value is not None:
            raw[field] = value
    if not raw.get("country_code"):
        raw["country_code"] = "US"
    return validate_address(raw)


def _address_add(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import add_address

    return add_address(
        session,
        user_id=_user_id(session, args),
        address=_given_address(args, {}),
        make_default=args.default,
        now=_now(),
    )


def _address_edit(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import address_fields, edit_address, set_default_address

    user_id = _user_id(session, args)
    current = address_fields(session, user_id=user_id, address_id=args.address_id)
    result = edit_address(
        session,
        user_id=user_id,
        address_id=args.address_id,
        address=_given_address(args, current),
    )
    if args.default:
        result = set_default_address(session, user_id=user_id, address_id=args.address_id)
    return result


def _address_remove(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import remove_address

    return remove_address(session, user_id=_user_id(session, args), address_id=args.address_id)


def _address_default(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.manage import set_default_address

    return set_default_address(session, user_id=_user_id(session, args), address_id=args.address_id)


def _history(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .domain.manage import history_csv, history_filter
    from .services.manage import HISTORY_COLUMNS, HISTORY_STATUSES, history

    filters = history_filter(
        status=args.status,
        since=args.since,
        until=args.until,
        merchant=args.merchant,
        statuses=HISTORY_STATUSES,
    )
    rows = history(session, user_id=_user_id(session, args), filters=filters, now=_now())
    return history_csv(rows, HISTORY_COLUMNS) if args.csv else rows
