"""Interop with mppx 0.11.0 (TypeScript) as a codec peer, through Node.

Skipped, with the reason, when Node or the mppx peer is absent (install it with
scripts/install-node-peers.sh; LINK_NODE_PEERS_DIR overrides its location).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from link_cli.mpp import (
    Receipt,
    build_credential,
    format_authorization,
    format_payment_receipt,
    format_www_authenticate,
    parse_authorization,
    parse_payment_receipt,
    parse_www_authenticate,
)
from link_cli.mpp.methods import stripe
from link_cli.mpp.server import PaymentServer, format_expires

SECRET = "mppx-interop-secret-0123456789abcdef"
REALM = "shop.example"
REQUEST = stripe.build_charge_request(amount=250, currency="usd", network_id="profile_mppx")
PEER = Path(__file__).with_name("mppx_peer.mjs")


def _peers_dir() -> Path:
    configured = os.environ.get("LINK_NODE_PEERS_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "link-cli-node-peers"


@pytest.fixture(scope="module")
def mppx() -> Any:
    """Run the peer once: it parses our headers and produces its own for us."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the mppx interop tests need it")
    peers = _peers_dir()
    if not (peers / "node_modules" / "mppx" / "package.json").exists():
        pytest.skip(f"mppx is not installed in {peers} (run scripts/install-node-peers.sh)")
    server = PaymentServer(secret=SECRET.encode(), realm=REALM)
    ours = [
        server.issue(
            method="stripe", intent="charge", request=REQUEST, description="Caf\u00e9 \u2615"
        ),
        server.issue(
            method="stripe",
            intent="charge",
            request=REQUEST,
            opaque={"order": "o-77"},
            body=b'{"a":1}',
            header="Payment-Authorization",
        ),
    ]
    job = {
        "header": 'Bearer realm="api", ' + format_www_authenticate(ours),
        "authorization": format_authorization(build_credential(ours[1], "spt_ours")),
        "receipt": format_payment_receipt(
            Receipt(
                method="stripe",
                reference="pi_ours",
                timestamp="2030-01-01T00:00:00Z",
                extra={"externalId": "x-1"},
            )
        ),
        "secret": SECRET,
        "realm": REALM,
        "request": REQUEST,
        "expires": format_expires(datetime.now(UTC) + timedelta(minutes=5)),
        "description": "Caf\u00e9 \u2615",
    }
    result = subprocess.run(
        [node, str(PEER), str(peers)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {"ours": ours, "job": job, **json.loads(result.stdout)}


def test_mppx_parses_our_challenges_and_verifies_our_hmac(mppx: Any) -> None:
    ours = mppx["ours"]
    assert [c["id"] for c in mppx["parsed"]] == [c.id for c in ours]
    assert mppx["verified"] == [True, True]
    first, second = mppx["parsed"]
    assert first["request"] == REQUEST
    assert first["description"] == "Caf\u00e9 \u2615"
    assert (second["opaque"], second["digest"], second["header"]) == (
        ours[1].opaque,
        ours[1].digest,
        "Payment-Authorization",
    )


def test_mppx_parses_our_credential_with_the_echo_intact(mppx: Any) -> None:
    credential = mppx["credential"]["ok"]
    challenge = mppx["ours"][1]
    assert credential["payload"] == {"spt": "spt_ours"}
    echoed = credential["challenge"]
    assert echoed["id"] == challenge.id
    assert echoed["opaque"] == challenge.opaque
    assert echoed["header"] == "Payment-Authorization"


def test_mppx_parses_our_receipt(mppx: Any) -> None:
    receipt = mppx["receipt"]["ok"]
    assert (receipt["reference"], receipt["status"], receipt["externalId"]) == (
        "pi_ours",
        "success",
        "x-1",
    )


def test_we_parse_mppx_challenge_and_its_hmac_verifies_on_our_server(mppx: Any) -> None:
    [theirs] = parse_www_authenticate(mppx["their_header"])
    assert theirs.request_json() == REQUEST
    assert theirs.description == "Caf\u00e9 \u2615"
    assert theirs.opaque_json() == {"order": "o-77"}
    server = PaymentServer(secret=SECRET.encode(), realm=REALM)
    authorization = format_authorization(build_credential(theirs, "spt_1"))
    verified = server.verify(authorization, method="stripe", intent="charge", request=REQUEST)
    assert verified.payload == {"spt": "spt_1"}


def test_we_parse_mppx_credential_and_receipt(mppx: Any) -> None:
    credential = parse_authorization(mppx["their_authorization"])
    assert credential.payload == {"spt": "spt_m"}
    assert credential.challenge == parse_www_authenticate(mppx["their_header"])[0]
    server = PaymentServer(secret=SECRET.encode(), realm=REALM)
    assert server.verify(
        mppx["their_authorization"], method="stripe", intent="charge", request=REQUEST
    ).payload == {"spt": "spt_m"}
    receipt = parse_payment_receipt(mppx["their_receipt"])
    assert (receipt.reference, dict(receipt.extra)) == ("pi_m", {"externalId": "order-9"})
