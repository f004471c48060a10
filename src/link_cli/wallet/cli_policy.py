"""``link-wallet policy …``: a person's spending policies from the command line
(docs/policies.md). Every command acts for ``--email`` and prints JSON (or ``--format text``),
as the other management commands (``wallet/cli_manage.py``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .cli_manage import add_format_option
from .settings import WalletSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["add_policy_commands"]


def _add(actions: Any, name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    parser.add_argument("--email", required=True, help="the person acted for")
    add_format_option(parser)
    parser.set_defaults(manage=handler)
    return parser


def _rule_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="what the person calls it, e.g. 'Coffee budget'")
    parser.add_argument("--kind", choices=("auto_approve", "deny"), help="default auto_approve")
    parser.add_argument("--agent", dest="agent_id", help="one connected agent's id (default all)")
    parser.add_argument("--max-amount", help="largest amount per request, in minor units")
    parser.add_argument("--currency", help="only requests in this currency (e.g. usd)")
    parser.add_argument(
        "--credential-type",
        dest="credential_types",
        action="append",
        help="card, shared_payment_token or link_pay_token (repeatable)",
    )
    parser.add_argument(
        "--merchant",
        dest="merchants",
        action="append",
        help="domain (cards), network id (SPT) or acct_ id (LPT); repeatable",
    )
    parser.add_argument(
        "--test-only",
        choices=("yes", "no"),
        help="only test-mode requests (yes) or any (no)",
    )
    parser.add_argument("--window", help="HH:MM-HH:MM in the person's time zone")
    parser.add_argument("--weekdays", help="e.g. mon,tue,wed,thu,fri")
    parser.add_argument("--budget", help="total per period, all agents, in minor units")
    parser.add_argument("--agent-budget", help="total per period for each agent, in minor units")
    parser.add_argument("--period", choices=("day", "week", "month"))


def add_policy_commands(commands: Any) -> None:
    """Add ``link-wallet policy`` and its actions."""
    policy = commands.add_parser("policy", help="a person's spending policies")
    actions = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    _add(actions, "list", _list, "list the person's policies")
    _add(actions, "show", _show, "show one policy").add_argument("policy_id")
    _rule_flags(_add(actions, "create", _create, "create a policy (active at once)"))
    update = _add(actions, "update", _update, "change fields of a policy")
    update.add_argument("policy_id")
    _rule_flags(update)
    _add(actions, "pause", _pause, "pause a policy").add_argument("policy_id")
    _add(actions, "resume", _resume, "resume a paused policy").add_argument("policy_id")
    _add(actions, "delete", _delete, "delete a policy").add_argument("policy_id")
    dry = _add(actions, "dry-run", _dry_run, "what would happen to such a request now?")
    dry.add_argument("--amount", required=True, help="in minor units (cents)")
    dry.add_argument("--currency", default="usd")
    dry.add_argument(
        "--credential-type",
        default="card",
        choices=("card", "shared_payment_token", "link_pay_token"),
    )
    dry.add_argument("--merchant-url")
    dry.add_argument("--network-id")
    dry.add_argument("--merchant-account-id")
    dry.add_argument("--test", action="store_true", help="a test-mode request")
    dry.add_argument("--agent", dest="agent_id", help="the connected agent asking")
    settings = _add(actions, "settings", _settings, "show or change time zone and notifications")
    settings.add_argument("--time-zone", help="IANA name; budgets reset at its midnight")
    settings.add_argument("--notify", choices=("on", "off"), help="notify each auto-approval")
    revoke = _add(actions, "revoke", _revoke, "revoke an auto-approved credential not yet used")
    revoke.add_argument("spend_request_id")


def _user_id(session: Session, args: argparse.Namespace) -> str:
    from .services.manage import user_by_email

    return user_by_email(session, args.email).id


def _now() -> Any:
    from .clock import Clock

    return Clock().now()


def _raw(args: argparse.Namespace) -> dict[str, Any]:
    raw: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("name", "kind", "agent_id", "max_amount", "currency", "credential_types",
                     "merchants", "weekdays", "budget", "agent_budget", "period")
    }  # fmt: skip
    if args.test_only is not None:
        raw["test_only"] = args.test_only == "yes"
    if args.window is not None:
        start, _, end = args.window.partition("-")
        raw["window_start"], raw["window_end"] = start.strip(), end.strip()
    return raw


def _list(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import list_policies

    return list_policies(session, _user_id(session, args))


def _show(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import show_policy

    return show_policy(session, _user_id(session, args), args.policy_id)


def _create(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import create_policy

    return create_policy(session, user_id=_user_id(session, args), raw=_raw(args), now=_now())


def _update(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import update_policy

    return update_policy(
        session,
        user_id=_user_id(session, args),
        policy_id=args.policy_id,
        raw=_raw(args),
        now=_now(),
    )


def _pause(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import set_paused

    user_id = _user_id(session, args)
    return set_paused(session, user_id=user_id, policy_id=args.policy_id, paused=True, now=_now())


def _resume(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import set_paused

    user_id = _user_id(session, args)
    return set_paused(session, user_id=user_id, policy_id=args.policy_id, paused=False, now=_now())


def _delete(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import delete_policy

    return delete_policy(session, user_id=_user_id(session, args), policy_id=args.policy_id)


def _dry_run(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import dry_run

    raw = {
        "amount": args.amount,
        "currency": args.currency,
        "credential_type": args.credential_type,
        "merchant_url": args.merchant_url,
        "network_id": args.network_id,
        "merchant_account_id": args.merchant_account_id,
        "test": args.test,
        "agent_id": args.agent_id,
    }
    return dry_run(
        session,
        user_id=_user_id(session, args),
        raw=raw,
        now=_now(),
        limits=settings.limits,
        terms_url=settings.issuer.user_terms_url,
    )


def _settings(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.policies import set_preferences

    notify = None if args.notify is None else args.notify == "on"
    return set_preferences(
        session, user_id=_user_id(session, args), time_zone=args.time_zone, notify=notify
    )


def _revoke(session: Session, args: argparse.Namespace, settings: WalletSettings) -> Any:
    from .services.spend_requests import revoke_auto_approved

    request = revoke_auto_approved(
        session, user_id=_user_id(session, args), request_id=args.spend_request_id, now=_now()
    )
    return {"id": request.id, "status": str(request.status)}
