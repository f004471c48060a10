"""Do card declines tell an unknown number from a real card by their timing?

Starts its own ``link-wallet`` (SQLite) on a free loopback port with a large per-key budget,
issues one virtual card through the Link API and, as a merchant of another site, presents
``--rounds`` times each, interleaved: an unknown Luhn-valid number, the card with a wrong
CVC, and the card with a wrong expiry. Prints, per kind, the median and mean latency and how
many distinct answers (status, code, decline code, message) came back in all, with the load
average so a reader can judge the noise.

    .venv/bin/python bench/wallet_card_declines.py [--rounds 200]
"""

from __future__ import annotations

import argparse
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
from tests.redemption.delegated import card_form, delegated_agent, register_merchant  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

from link_cli.wallet.domain.cards import luhn_valid  # noqa: E402


def unknown_number(like: str) -> str:
    while True:
        body = like[:6] + "".join(secrets.choice("0123456789") for _ in range(len(like) - 7))
        for check in "0123456789":
            if luhn_valid(body + check) and body + check != like:
                return body + check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    budget = {"LINK_WALLET_THROTTLE_CARD_FAILURES_PER_KEY": str(10 * args.rounds)}
    with (
        tempfile.TemporaryDirectory() as directory,
        WalletProcess.start(Path(directory), env=budget) as wallet,
    ):
        _request_id, card = delegated_agent(wallet).approved_card(amount=100)
        merchant = register_merchant(wallet, url="https://elsewhere.example")
        wrong_cvc = "".join(str((int(d) + 1) % 10) for d in card["cvc"])
        kinds = {
            "unknown number": lambda: {"number": unknown_number(card["number"])},
            "wrong cvc": lambda: {"cvc": wrong_cvc},
            "wrong expiry": lambda: {"exp_year": str(int(card["exp_year"]) + 1)},
        }
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        answers: set[tuple[object, ...]] = set()
        print(f"load average before: {os.getloadavg()}")
        with httpx2.Client(base_url=wallet.url, headers=merchant.auth, timeout=30) as client:
            for _ in range(args.rounds):
                for kind, changes in kinds.items():
                    form = card_form(card, amount=100, **changes())
                    started = time.perf_counter()
                    response = client.post("/v1/payment_intents", data=form)
                    times[kind].append((time.perf_counter() - started) * 1000)
                    error = response.json()["error"]
                    answers.add(
                        (
                            response.status_code,
                            error.get("code"),
                            error.get("decline_code"),
                            error.get("message"),
                        )
                    )
        print(f"load average after:  {os.getloadavg()}")
        for kind, values in times.items():
            print(
                f"{kind:<15} n={len(values):<4} median={statistics.median(values):6.2f} ms  "
                f"mean={statistics.fmean(values):6.2f} ms"
            )
        print(f"distinct answers: {len(answers)} {sorted(answers)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
