"""Interop with pympp 0.16.0 as a peer: what one side formats, the other parses and verifies.

pympp is a test-only peer; our codec never imports it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from link_cli.mpp.server import PaymentServer, compute_challenge_id, format_expires

pympp = pytest.importorskip("mpp", reason="pympp 0.16.0 is a dev dependency")

SECRET = "interop-secret-0123456789abcdef"
REALM = "shop.example"
REQUEST = stripe.build_charge_request(amount=250, currency="usd", network_id="profile_interop")


@pytest.fixture
def now() -> datetime:
    """The one instant a test runs at: challenges expire five minutes after it."""
    return datetime.now(UTC)


def _server(now: datetime) -> PaymentServer:
    return PaymentServer(secret=SECRET.encode(), realm=REALM, clock=lambda: now)


def _pympp_challenge(now: datetime, **extra: object) -> object:
    return pympp.Challenge.create(
        secret_key=SECRET,
        realm=REALM,
        method="stripe",
        intent="charge",
        request=REQUEST,
        expires=format_expires(now + timedelta(minutes=5)),
        **extra,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"description": "Caf\u00e9 \u2615 \U0001f600"},
        {
            "meta": {"order": "o-77"},
            "digest": "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        },
        {"meta": {"order": "o-77"}, "header": "Payment-Authorization"},
    ],
    ids=["plain", "unicode-description", "opaque-digest", "header"],
)
def test_pympp_challenge_parses_and_its_id_verifies_with_our_hmac(
    extra: dict[str, object], now: datetime
) -> None:
    theirs = _pympp_challenge(now, **extra)
    [ours] = parse_www_authenticate(theirs.to_www_authenticate(REALM))
    assert (ours.id, ours.realm, ours.method, ours.intent) == (theirs.id, REALM, "stripe", "charge")
    assert ours.request_json() == REQUEST
    assert ours.description == theirs.description
    assert ours.header == theirs.header
    assert ours.id == compute_challenge_id(
        SECRET.encode(),
        realm=ours.realm,
        method=ours.method,
        intent=ours.intent,
        request_b64=ours.request,
        expires=ours.expires,
        digest=ours.digest,
        opaque_b64=ours.opaque,
        header=ours.header,
    )
    server = _server(now)
    credential = format_authorization(build_credential(ours, "spt_1"))
    body = b"" if theirs.digest else None
    verified = server.verify(
        credential, method="stripe", intent="charge", request=REQUEST, body=body
    )
    assert verified.payload == {"spt": "spt_1"}


def test_our_challenge_parses_in_pympp_and_verifies_with_its_hmac(now: datetime) -> None:
    server = _server(now)
    ours = server.issue(
        method="stripe",
        intent="charge",
        request=REQUEST,
        description="Caf\u00e9 \u2615",
        opaque={"order": "o-77"},
        body=b'{"a":1}',
        header="Payment-Authorization",
    )
    theirs = pympp.Challenge.from_www_authenticate(format_www_authenticate([ours]))
    assert theirs.id == ours.id
    assert theirs.request == REQUEST
    assert theirs.description == "Caf\u00e9 \u2615"
    assert theirs.opaque == {"order": "o-77"}
    assert theirs.header == "Payment-Authorization"
    assert theirs.verify(SECRET, REALM)


def test_our_credential_parses_in_pympp_with_the_echo_intact(now: datetime) -> None:
    [challenge] = parse_www_authenticate(
        _pympp_challenge(now, meta={"order": "o-77"}).to_www_authenticate(REALM)
    )
    theirs = pympp.Credential.from_authorization(
        format_authorization(build_credential(challenge, "spt_1"))
    )
    assert theirs.payload == {"spt": "spt_1"}
    echo = theirs.challenge
    assert (echo.id, echo.realm, echo.request, echo.expires, echo.opaque) == (
        challenge.id,
        challenge.realm,
        challenge.request,
        challenge.expires,
        challenge.opaque,
    )


def test_pympp_credential_parses_and_verifies_on_our_server(now: datetime) -> None:
    server = _server(now)
    ours = server.issue(method="stripe", intent="charge", request=REQUEST)
    theirs = pympp.Challenge.from_www_authenticate(format_www_authenticate([ours]))
    header = pympp.Credential(
        challenge=theirs.to_echo(), payload={"spt": "spt_p"}
    ).to_authorization()
    parsed = parse_authorization(header)
    assert parsed.challenge == ours
    assert server.verify(header, method="stripe", intent="charge", request=REQUEST).payload == {
        "spt": "spt_p"
    }


def test_receipts_cross_both_ways() -> None:
    theirs = pympp.Receipt.success(reference="pi_1", method="stripe", external_id="order-9")
    ours = parse_payment_receipt(theirs.to_payment_receipt())
    assert (ours.reference, ours.method, ours.extra.get("externalId")) == (
        "pi_1",
        "stripe",
        "order-9",
    )
    mine = Receipt(method="stripe", reference="pi_2", timestamp="2030-01-01T00:00:00Z")
    back = pympp.Receipt.from_payment_receipt(format_payment_receipt(mine))
    assert (back.reference, back.method, back.status) == ("pi_2", "stripe", "success")
    assert back.timestamp == datetime(2030, 1, 1, tzinfo=UTC)
