"""A larger fuzz campaign against REAL ``link-wallet serve`` processes, one per backend.

    .venv/bin/python bench/wallet_fuzz.py [--examples 150] [--postgres-url URL]

For SQLite, then PostgreSQL (``--postgres-url`` or ``LINK_TEST_POSTGRES_URL``; skipped
without one), it starts a wallet on 127.0.0.1, sets up a person with a card, an agent with
every scope and a merchant in its database (``tests/support/wallet_store.py``), loads the
wallet's own ``/openapi.json`` with ``schemathesis.openapi.from_url`` and sends schema-valid
and schema-violating requests to every operation over HTTP (``tests/support/fuzzing.py``),
``--examples`` per operation and mode. Prints the requests sent, the 5xx count and the
answers that broke the document, per backend; exits 1 if any backend answered a 5xx.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
import schemathesis
from tests.conftest import fresh_postgres_database
from tests.security.test_zero_5xx import FuzzTarget, credentials_for, real_ids, seed
from tests.support.fuzzing import FuzzReport, fuzz
from tests.support.wallet import WalletProcess


def campaign(
    name: str, workdir: Path, database_url: str | None, examples: int
) -> tuple[FuzzReport, float]:
    """Fuzz one real wallet process; returns the report and the seconds the fuzzing took."""
    with WalletProcess.start(workdir, database_url=database_url) as wallet:
        store, credentials = seed(workdir, database_url, wallet.env)
        try:
            with httpx2.Client(base_url=wallet.url) as client:
                ids = real_ids(client, credentials)
            target = FuzzTarget(None, credentials["agent"], credentials["merchant"], ids)
            schema = schemathesis.openapi.from_url(f"{wallet.url}/openapi.json")
            started = time.monotonic()
            report = fuzz(
                schema,
                credentials=credentials_for(target),
                real_ids=ids,
                examples=examples,
                base_url=wallet.url,
            )
            elapsed = time.monotonic() - started
        finally:
            store.close()
        unhandled = [line for line in wallet.log_text().splitlines() if "unhandled" in line]
    print(f"{name}: {report.summary()} in {elapsed:.0f} s")
    for line in unhandled[:10]:
        print(f"  wallet log: {line}")
    for problem in (report.server_errors + report.violations)[:10]:
        print("  " + problem.replace("\n", "\n  "))
    return report, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=150, help="per operation and mode")
    parser.add_argument("--postgres-url", default=os.environ.get("LINK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    total_5xx = 0
    with tempfile.TemporaryDirectory(prefix="wallet-fuzz-") as tmp:
        backends: list[tuple[str, str | None]] = [("sqlite", None)]
        if args.postgres_url:
            backends.append(("postgresql", fresh_postgres_database(args.postgres_url)))
        else:
            print("postgresql: skipped (no --postgres-url / LINK_TEST_POSTGRES_URL)")
        for name, url in backends:
            report, _ = campaign(name, Path(tmp) / name, url, args.examples)
            total_5xx += len(report.server_errors)
    return 1 if total_5xx else 0


if __name__ == "__main__":
    sys.exit(main())
