"""Property tests: parsers only ever raise MppParseError; every parse undoes its format."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.mpp.helpers import payment

from link_cli.mpp import (
    Challenge,
    Credential,
    MppParseError,
    Receipt,
    _wire,
    format_authorization,
    format_challenge,
    format_payment_receipt,
    format_www_authenticate,
    parse_authorization,
    parse_challenge,
    parse_payment_receipt,
    parse_problem,
    parse_stripe_request,
    parse_www_authenticate,
)
from link_cli.mpp.methods import stripe

# The example count is the profile's (tests/conftest.py): 100 in `make test`, 25 in
# `make check`, 1,000 with HYPOTHESIS_PROFILE=deep for a long search.
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text biased towards the grammar's special characters, so the scanner's corners get hit.
GRAMMAR_PIECES = st.sampled_from(
    [
        "Payment ",
        "payment",
        "Bearer ",
        "id",
        "realm",
        "method",
        "request",
        "=",
        '"',
        "\\",
        "\\u",
        "\\ud83d",
        "\\ude00",
        "00e9",
        ",",
        " ",
        "\t",
        "==",
        "stripe",
        "charge",
        "eyJhIjoxfQ",
        "é",
        "☕",
        "\x00",
        "\r\n",
    ]
)
GRAMMAR_TEXT = st.lists(st.one_of(GRAMMAR_PIECES, st.text(max_size=5)), max_size=60).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=2000), GRAMMAR_TEXT)
ANY_INPUT = st.one_of(ANY_TEXT, st.binary(max_size=2000))


def _only_parse_errors(parse: Callable[[Any], object], value: Any) -> None:
    with contextlib.suppress(MppParseError):
        parse(value)


@PROPERTY_SETTINGS
@given(ANY_INPUT)
def test_parse_www_authenticate_only_raises_parse_error(value: str | bytes) -> None:
    try:
        challenges = parse_www_authenticate(value)
    except MppParseError:
        return
    for challenge in challenges:  # whatever parsed must also be usable
        challenge.request_json()
        _only_parse_errors(parse_stripe_request, challenge)
        assert parse_challenge(format_challenge(challenge)) == challenge


@PROPERTY_SETTINGS
@given(ANY_INPUT)
def test_parse_authorization_only_raises_parse_error(value: str | bytes) -> None:
    _only_parse_errors(parse_authorization, value)


@PROPERTY_SETTINGS
@given(ANY_INPUT)
def test_parse_payment_receipt_only_raises_parse_error(value: str | bytes) -> None:
    _only_parse_errors(parse_payment_receipt, value)


@PROPERTY_SETTINGS
@given(ANY_INPUT)
def test_parse_problem_only_raises_parse_error(value: str | bytes) -> None:
    _only_parse_errors(parse_problem, value)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5)


@PROPERTY_SETTINGS
@given(JSON_OBJECTS)
def test_any_json_object_as_request_parses_or_raises_parse_error(value: dict[str, Any]) -> None:
    encoded = _wire.encode_b64_json(value)
    [challenge] = parse_www_authenticate(payment(request=encoded))
    assert challenge.request_json() == json.loads(_wire.canonical_json(value))
    _only_parse_errors(parse_stripe_request, challenge)


@PROPERTY_SETTINGS
@given(JSON_VALUES)
def test_canonical_json_is_valid_json_and_a_fixed_point(value: Any) -> None:
    text = _wire.canonical_json(value)
    assert _wire.canonical_json(json.loads(text)) == text


@PROPERTY_SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_number_round_trips(value: float) -> None:
    parsed = float(_wire.js_number(value))
    assert parsed == value or (parsed == 0 and value == 0)
    assert not math.isnan(parsed)


TOKENS = st.from_regex(r"\A[a-z][a-z0-9:_-]{0,10}\Z")
HEADER_NAMES = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
EXPIRES = st.builds(
    lambda moment, style: (
        moment.strftime("%Y-%m-%dT%H:%M:%S") + [".123Z", "Z", "+05:30", ".5-01:00"][style]
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=0, max_value=3),
)
CHALLENGES = st.builds(
    Challenge,
    id=st.text(min_size=1, max_size=40),
    realm=st.text(max_size=40),
    method=TOKENS,
    intent=st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,10}\Z"),
    request=JSON_OBJECTS.map(_wire.encode_b64_json),
    description=st.none() | st.text(max_size=80),
    digest=st.none() | st.text(max_size=30).map(lambda s: "sha-256=" + s),
    expires=st.none() | EXPIRES,
    opaque=st.none()
    | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3).map(
        _wire.encode_b64_json
    ),
    header=st.none() | HEADER_NAMES,
)


@PROPERTY_SETTINGS
@given(st.lists(CHALLENGES, min_size=1, max_size=3))
def test_www_authenticate_round_trip(challenges: list[Challenge]) -> None:
    header = format_www_authenticate(challenges)
    assert header.isascii()
    assert parse_www_authenticate(header) == challenges
    assert parse_www_authenticate(header.encode("ascii")) == challenges


@PROPERTY_SETTINGS
@given(CHALLENGES, JSON_OBJECTS, st.none() | st.text(max_size=20))
def test_authorization_round_trip(
    challenge: Challenge, payload: dict[str, Any], source: str | None
) -> None:
    payload = json.loads(_wire.canonical_json(payload))
    credential = Credential(challenge=challenge, payload=payload, source=source)
    assert parse_authorization(format_authorization(credential)) == credential


@PROPERTY_SETTINGS
@given(
    st.text(max_size=20),
    st.text(max_size=20),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.dictionaries(
        st.text(max_size=8).filter(
            lambda k: k not in {"status", "method", "timestamp", "reference"}
        ),
        JSON_VALUES,
        max_size=3,
    ),
)
def test_receipt_round_trip(
    method: str, reference: str, timestamp: str, extra: dict[str, Any]
) -> None:
    extra = json.loads(_wire.canonical_json(extra))
    receipt = Receipt(method=method, reference=reference, timestamp=timestamp, extra=extra)
    assert parse_payment_receipt(format_payment_receipt(receipt)) == receipt


@PROPERTY_SETTINGS
@given(
    st.integers(min_value=1, max_value=10**12),
    st.from_regex(r"\A[a-z]{3}\Z"),
    st.text(min_size=1, max_size=30),
    st.none() | st.text(max_size=20),
)
def test_stripe_request_round_trip(
    amount: int, currency: str, network_id: str, external_id: str | None
) -> None:
    request = stripe.build_charge_request(
        amount=amount, currency=currency, network_id=network_id, external_id=external_id
    )
    [challenge] = parse_www_authenticate(payment(request=_wire.encode_b64_json(request)))
    parsed = parse_stripe_request(challenge)
    parsed.check_payable()
    assert (parsed.amount, parsed.currency, parsed.network_id) == (
        str(amount),
        currency,
        network_id,
    )
    assert parsed.external_id == external_id


MCP_MESSAGES = st.one_of(
    JSON_OBJECTS,
    st.builds(
        lambda code, data: {"error": {"code": code, "message": "Payment Required", "data": data}},
        st.sampled_from([-32042, -32043, -32602, True]),
        st.one_of(JSON_VALUES, st.builds(lambda c: {"challenges": c}, st.lists(JSON_OBJECTS))),
    ),
    st.builds(lambda meta: {"result": {"_meta": meta}}, JSON_OBJECTS),
)


@PROPERTY_SETTINGS
@given(MCP_MESSAGES)
def test_mcp_parsers_only_raise_parse_error(message: dict[str, Any]) -> None:
    from link_cli.mpp import mcp

    _only_parse_errors(mcp.parse_mcp_challenges, message)
    _only_parse_errors(mcp.parse_mcp_receipt, message)
