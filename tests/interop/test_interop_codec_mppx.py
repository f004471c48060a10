"""Interop with mppx 0.11.0 (TypeScript) as a codec peer, through Node.

Skipped, with the reason, when Node or the mppx peer is absent (install it with
scripts/install-node-peers.sh; LINK_NODE_PEERS_DIR overrides its location).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.environment import node_peers_dir

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
PEER = Path(__file__).with_name("mppx_codec_peer.mjs")


def _server(now: datetime) -> PaymentServer:
    return PaymentServer(secret=SECRET.encode(), realm=REALM, clock=lambda: now)


@pytest.fixture(scope="module")
def mppx() -> Any:
    """Run the peer once: it parses our headers and produces its own for us."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the mppx interop tests need it")
    peers = node_peers_dir()
    if not (peers / "node_modules" / "mppx" / "package.json").exists():
        pytest.skip(f"mppx is not installed in {peers} (run scripts/install-node-peers.sh)")
    # One instant for the whole module: challenges expire five minutes after it, however
    # long the module takes to reach its last test.
    now = datetime.now(UTC)
    server = _server(now)
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
        "expires": format_expires(now + timedelta(minutes=5)),
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
    return {"ours": ours, "job": job, "now": now, **json.loads(result.stdout)}


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
    server = _server(mppx["now"])
    authorization = format_authorization(build_credential(theirs, "spt_1"))
    verified = server.verify(authorization, method="stripe", intent="charge", request=REQUEST)
    assert verified.payload == {"spt": "spt_1"}


def test_we_parse_mppx_credential_and_receipt(mppx: Any) -> None:
    credential = parse_authorization(mppx["their_authorization"])
    assert credential.payload == {"spt": "spt_m"}
    assert credential.challenge == parse_www_authenticate(mppx["their_header"])[0]
    server = _server(mppx["now"])
    assert server.verify(
        mppx["their_authorization"], method="stripe", intent="charge", request=REQUEST
    ).payload == {"spt": "spt_m"}
    receipt = parse_payment_receipt(mppx["their_receipt"])
    assert (receipt.reference, dict(receipt.extra)) == ("pi_m", {"externalId": "order-9"})
