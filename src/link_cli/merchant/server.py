"""Command line of the demo merchant: ``python -m link_cli.merchant`` and
``link-wallet demo-merchant`` share :func:`add_arguments` and :func:`run`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

from link_cli.money import is_ascii_digits

from .config import DEFAULT_PORT, MerchantConfigError, load_config

__all__ = ["add_arguments", "main", "run"]


def _port(text: str) -> int:
    if not is_ascii_digits(text) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return int(text)


_MAX_TTL_SECONDS = 30 * 24 * 3600


def _seconds(text: str) -> int:
    if not is_ascii_digits(text.strip()) or not 1 <= int(text) <= _MAX_TTL_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of seconds from 1 to {_MAX_TTL_SECONDS}"
        )
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo merchant's options (each also readable from ``LINK_MERCHANT_*``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--wallet-url", help="the wallet's base URL (LINK_MERCHANT_WALLET_URL)")
    parser.add_argument(
        "--secret-key",
        help="the sk_test_… or sk_live_… key from `link-wallet merchant create` "
        "(LINK_MERCHANT_SECRET_KEY; "
        "prefer the variable: flags are visible to other local users)",
    )
    parser.add_argument(
        "--network-id", help="the shop's network id, profile_… (LINK_MERCHANT_NETWORK_ID)"
    )
    parser.add_argument(
        "--challenge-ttl",
        type=_seconds,
        default=None,
        help="seconds a 402 challenge stays payable (LINK_MERCHANT_CHALLENGE_TTL; default 300)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve the shop until interrupted; 2 on a configuration error."""
    try:
        config = load_config(
            wallet_url=args.wallet_url, secret_key=args.secret_key, network_id=args.network_id
        )
    except MerchantConfigError as exc:
        print(f"demo-merchant: {exc}", file=sys.stderr)
        return 2
    ttl = args.challenge_ttl
    if ttl is None:
        try:
            ttl = _seconds(os.environ.get("LINK_MERCHANT_CHALLENGE_TTL") or "300")
        except argparse.ArgumentTypeError as exc:
            print(f"demo-merchant: LINK_MERCHANT_CHALLENGE_TTL {exc}", file=sys.stderr)
            return 2
    import uvicorn

    from .app import create_app

    app = create_app(config, challenge_ttl=timedelta(seconds=ttl))
    print(f"demo merchant {config.name!r} on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m link_cli.merchant``."""
    parser = argparse.ArgumentParser(prog="python -m link_cli.merchant", description="Demo shop.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
