"""mppx 0.11.0 (TypeScript, through Node) as a peer: its client pays our demo merchant, and
link-cli pays a merchant built on its server, both settling at the wallet."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx2
from tests.support.environment import clean_env

from link_cli.mpp.challenge import parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.methods.stripe import build_credential
from link_cli.mpp.receipt import parse_payment_receipt

SCRIPT = Path(__file__).with_name("mppx_pay.mjs")


def test_an_mppx_client_pays_the_demo_merchant(buyer, demo_shop, mppx_client) -> None:
    merchant, shop = demo_shop
    request_id, spt = buyer.approved_spt(merchant.network_id, amount=250)
    env = clean_env()
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


def test_link_cli_pays_an_mppx_merchant_settling_at_the_wallet(buyer, mppx_merchant) -> None:
    merchant, url = mppx_merchant
    request_id, spt = buyer.approved_spt(merchant.network_id, amount=250)
    code, out = buyer.agent.json("mpp", "pay", f"{url}/paid", "--spend-request-id", request_id)
    assert code == 0, out
    [result] = out
    assert result["status"] == 200, result
    assert json.loads(result["body"]) == {"paid": True, "via": "mppx"}
    receipt = parse_payment_receipt(result["headers"]["payment-receipt"])
    assert receipt.method == "stripe" and receipt.reference.startswith("pi_")
    assert buyer.status(request_id) == "succeeded"

    # The same token again, on a fresh mppx challenge: the wallet refuses the spent token.
    code, again = buyer.agent.json("mpp", "pay", f"{url}/paid", "--spend-request-id", request_id)
    assert code == 1 and "must be approved" in again["message"]
    with httpx2.Client(timeout=30) as http:
        probe = http.get(f"{url}/paid")
        [challenge] = parse_www_authenticate(probe.headers["www-authenticate"])
        credential = format_authorization(build_credential(challenge, spt))
        refused = http.get(f"{url}/paid", headers={"Authorization": credential})
    assert refused.status_code == 402 and "paid" not in refused.text
    assert "already been used" in refused.text  # the wallet's reason, through mppx
    assert buyer.status(request_id) == "succeeded"
