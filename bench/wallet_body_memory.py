"""Peak memory of ``link-wallet`` while a 200 MB request body is offered to it.

For each case a fresh wallet is started on a free loopback port; its ``VmHWM`` (peak RSS,
from ``/proc/<pid>/status``) is read before and after a 200 MB POST is offered over a raw
socket, chunked or with a Content-Length, without an API key. The sender stops when the
wallet answers or closes the connection, and the table shows how much it accepted.

    .venv/bin/python bench/wallet_body_memory.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.bodies import offer_body, vm_hwm_kib  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

CASES = [
    ("/v1/payment_intents", True),
    ("/v1/payment_intents", False),
    ("/spend_requests", True),
    ("/device/code", True),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    total = args.megabytes * 1_000_000
    print(
        f"{'path':<22} {'framing':<15} {'status':>6} {'accepted MB':>12} {'VmHWM growth MiB':>17}"
    )
    for path, chunked in CASES:
        with tempfile.TemporaryDirectory() as scratch:
            wallet = WalletProcess.start(Path(scratch) / "wallet")
            try:
                assert wallet.process is not None
                pid = wallet.process.pid
                before = vm_hwm_kib(pid)
                offered = offer_body(wallet.port, path, total, chunked=chunked, timeout=300)
                growth = (vm_hwm_kib(pid) - before) / 1024
            finally:
                wallet.stop()
        framing = "chunked" if chunked else "content-length"
        print(
            f"{path:<22} {framing:<15} {offered.status:>6} "
            f"{offered.sent / 1e6:>12.1f} {growth:>17.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
