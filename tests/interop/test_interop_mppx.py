"""mppx 0.11.0 (TypeScript, through Node) pays our demo merchant with its own client."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from link_cli.mpp.receipt import parse_payment_receipt

SCRIPT = Path(__file__).with_name("mppx_pay.mjs")


def test_an_mppx_client_pays_the_demo_merchant(buyer, demo_shop, mppx_client) -> None:
    merchant, shop = demo_shop
    request_id, spt = buyer.approved_spt(merchant.network_id, amount=250)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINK_")}
    env["MPPX_CLIENT"] = mppx_client
    result = subprocess.run(
        ["node", str(SCRIPT), f"{shop.url}/api/forecast?city=Lisbon", spt],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 200, out
    assert out["challenge"] == {
        "networkId": merchant.network_id,
        "amount": "250",
        "currency": "usd",
    }
    assert json.loads(out["body"])["city"] == "Lisbon"
    assert parse_payment_receipt(out["receipt"]).method == "stripe"
    assert buyer.status(request_id) == "succeeded"
