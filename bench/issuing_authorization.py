"""How long does the wallet take to decide a Stripe Issuing real-time authorization?

Starts the contract fake of Stripe (tests/support/stripe_fake.py) and a ``link-wallet``
(SQLite, or ``--database-url``) in ``LINK_WALLET_ISSUER=stripe`` mode pointed at it, issues ``--cards`` approved
single-use cards through the Link API (``create_delegated``), then, per card, posts a signed
``issuing_authorization.request`` to the wallet's webhook exactly as Stripe would and times
the round trip until ``{"approved": …}`` comes back. Half the requests approve (the first
use of a card at the approved merchant), half decline (a second use, or another merchant),
interleaved. Prints p50/p99/max in milliseconds against Stripe's 2 s budget and the load
average so a reader can judge the noise.

    .venv/bin/python bench/issuing_authorization.py [--cards 100]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx2  # noqa: E402
from tests.redemption.delegated import delegated_agent  # noqa: E402
from tests.support.stripe_fake import API_VERSION, running_fake, stripe_env  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

from link_cli.wallet.issuing.stripe_events import signature_header  # noqa: E402


def _event(card_ref: str, amount: int, merchant: str) -> dict:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": API_VERSION,
        "type": "issuing_authorization.request",
        "data": {
            "object": {
                "id": "iauth_" + secrets.token_hex(12),
                "object": "issuing.authorization",
                "card": card_ref,
                "approved": False,
                "status": "pending",
                "amount": 0,
                "currency": "usd",
                "merchant_data": {"name": merchant, "url": None},
                "pending_request": {"amount": amount, "currency": "usd"},
            }
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--database-url", help="e.g. a PostgreSQL URL; default: SQLite")
    args = parser.parse_args()
    limits = {
        "LINK_WALLET_LIMIT_DAILY_SPEND": "100000000",
        "LINK_WALLET_LIMIT_MONTHLY_SPEND": "100000000",
        "LINK_WALLET_LIMIT_MAX_ACTIVE": str(args.cards + 10),
        "LINK_WALLET_LIMIT_MAX_APPROVED": str(args.cards + 10),
        "LINK_WALLET_LIMIT_HOURLY_CREATIONS": str(args.cards + 10),
        "LINK_WALLET_LIMIT_CREATIONS_60D": str(args.cards + 10),
    }
    with tempfile.TemporaryDirectory() as directory, running_fake() as fake:
        env = {**stripe_env(fake), **limits}
        with WalletProcess.start(
            Path(directory), env=env, database_url=args.database_url
        ) as wallet:
            url = f"{wallet.url}/issuing/stripe/webhook"
            fake.webhook_url = url
            agent = delegated_agent(wallet)
            refs: list[str] = []
            for index in range(args.cards):
                created = agent.create_delegated(
                    {
                        "credential_type": "card",
                        "merchant_name": "Trailhead Supply Co.",
                        "merchant_url": "https://trailhead.example",
                        "amount": 1000 + index,
                        "currency": "usd",
                        "test": True,
                    }
                )
                refs.append(
                    next(
                        c["id"]
                        for c in fake.cards.values()
                        if c["metadata"]["link_spend_request"] == created["id"]
                    )
                )
            times: dict[str, list[float]] = {"approve": [], "decline": []}
            with httpx2.Client(timeout=5) as client:
                for index, ref in enumerate(refs):
                    tries = [("approve", "TRAILHEAD SUPPLY CO")]
                    tries.append(
                        ("decline", "TRAILHEAD SUPPLY CO" if index % 2 else "ELSEWHERE LLC")
                    )
                    for kind, merchant in tries:
                        payload = json.dumps(_event(ref, 1000 + index, merchant)).encode()
                        headers = {
                            "Content-Type": "application/json",
                            "Stripe-Signature": signature_header(fake.webhook_secret, payload),
                        }
                        started = time.perf_counter()
                        response = client.post(url, content=payload, headers=headers)
                        elapsed = (time.perf_counter() - started) * 1000
                        assert response.status_code == 200, response.text
                        assert response.json()["approved"] is (kind == "approve"), response.text
                        times[kind].append(elapsed)
    everything = times["approve"] + times["decline"]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"authorizations: {len(everything)} ({args.cards} cards, {backend}), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for kind, values in (*times.items(), ("all", everything)):
        print(
            f"  {kind:8s} p50 {statistics.median(values):7.1f} ms   p99 {percentile(values, 0.99):7.1f} ms"
            f"   max {max(values):7.1f} ms"
        )
    print("  budget   2000 ms (Stripe's real-time deadline); aim p99 < 200 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
