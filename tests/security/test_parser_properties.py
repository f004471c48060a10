"""Property tests of every parser that reads attacker text (issue 10, class 6), without a
server: each one returns a value or raises its own 4xx error, never anything else.

Wallet side: ``authorization_details[]`` bracket names, the scope string, device phrases,
``include=``, Stripe's bracket form names. Client side (a hostile wallet or merchant writes
these): error bodies turned into ``LinkApiError``, bodies redacted for ``--verbose``, ids put
into URL paths. The form decoder and amounts have theirs in
tests/wallet/domain/test_shown_is_charged_rules.py; the MPP codec in
tests/mpp/test_mpp_properties.py; the same parsers over HTTP on both backends in
tests/security/test_zero_5xx.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from link_cli.sdk._errors import (
    MAX_JSON_DEPTH,
    MESSAGE_RULES,
    LinkApiError,
    api_error,
    json_depth,
)
from link_cli.sdk._http import path_segment
from link_cli.sdk._redact import redact_body
from link_cli.wallet.api.spend_requests import INCLUDABLE, parse_include
from link_cli.wallet.domain import oauth
from link_cli.wallet.domain.errors import InvalidRequest, OAuthError
from link_cli.wallet.domain.stripe_errors import StripeError
from link_cli.wallet.domain.stripe_form import decode_form

PROPERTIES = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_SEGMENTS = st.sampled_from(["", "type", "actions", "0", "1", "a", "[", "]", "x]", "²", "\x00"])
_BRACKET_NAMES = st.lists(_SEGMENTS, max_size=14).map(lambda p: "".join(f"[{s}]" for s in p))
_FORM_VALUES = st.one_of(st.text(max_size=12), st.sampled_from(["true", "false", "null", ""]))


# -- wallet: OAuth device flow ---------------------------------------------------------------


@PROPERTIES
@given(
    st.lists(
        st.tuples(
            st.one_of(_BRACKET_NAMES.map(lambda n: "authorization_details[]" + n), st.text()),
            _FORM_VALUES,
        ),
        max_size=10,
    )
)
def test_authorization_details_decode_or_raise_an_oauth_400(pairs: list[tuple[str, str]]) -> None:
    try:
        details = oauth.parse_authorization_details(pairs)
    except OAuthError as error:
        assert error.status == 400 and error.code == "invalid_request"
        return
    assert isinstance(details, list)
    json.dumps(details)  # stored as JSON: always serialisable


@pytest.mark.parametrize("depth", [9, 200, 30000])
def test_authorization_details_deeper_than_the_bound_are_refused(depth: int) -> None:
    """Regression (fuzzing): 5000 ``[]`` in one name hit Python's recursion limit (500)."""
    with pytest.raises(OAuthError) as caught:
        oauth.parse_authorization_details([("authorization_details" + "[]" * depth, "x")])
    assert caught.value.status == 400 and "nested" in caught.value.message


def test_authorization_details_at_the_bound_still_decode() -> None:
    name = "authorization_details[]" + "[a]" * (oauth.MAX_AUTHORIZATION_DETAIL_DEPTH - 1)
    decoded = oauth.parse_authorization_details([(name, "x")])
    assert json_depth(decoded) == oauth.MAX_AUTHORIZATION_DETAIL_DEPTH


@PROPERTIES
@given(
    st.one_of(
        st.none(), st.text(), st.lists(st.sampled_from(["userinfo:read", ",", " "])).map("".join)
    )
)
def test_scope_strings_parse_or_raise_invalid_scope(raw: str | None) -> None:
    try:
        scopes = oauth.parse_scope(raw)
    except OAuthError as error:
        assert error.status == 400 and error.code in {"invalid_scope", "invalid_request"}
        return
    assert all(isinstance(scope, str) and scope for scope in scopes)


@PROPERTIES
@given(st.text())
def test_device_phrases_normalize_or_are_none(raw: str) -> None:
    phrase = oauth.normalize_user_code(raw)
    assert phrase is None or (phrase.isascii() and len(phrase) <= 100)


# -- wallet: query parameters and Stripe form names ------------------------------------------


@PROPERTIES
@given(st.one_of(st.none(), st.lists(st.text(max_size=40), max_size=4)))
def test_include_parses_to_known_names_or_a_400(values: list[str] | None) -> None:
    try:
        names = parse_include(values)
    except InvalidRequest as error:
        assert error.status == 400 and error.extra["param"] == "include"
        return
    assert names <= set(INCLUDABLE)


@PROPERTIES
@given(
    st.lists(
        st.tuples(
            st.tuples(
                st.sampled_from(["metadata", "a", "payment_method_types", ""]), _BRACKET_NAMES
            ).map("".join),
            _FORM_VALUES,
        ),
        max_size=10,
    )
)
def test_stripe_bracket_names_decode_or_raise_a_400(pairs: list[tuple[str, str]]) -> None:
    try:
        decoded = decode_form(pairs)
    except StripeError as error:
        assert error.status == 400 and error.type == "invalid_request_error"
        return
    assert isinstance(decoded, dict)


# -- client: what a hostile wallet or merchant sends back ------------------------------------

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=20,
)


def _nested(depth: int, leaf: Any) -> str:
    """JSON text nesting ``leaf`` ``depth`` levels deep (objects and lists in turn)."""
    opening = "".join('{"error":' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + json.dumps(leaf) + closing


@PROPERTIES
@given(
    body=st.one_of(
        st.text(),
        _JSON.map(json.dumps),
        st.tuples(st.integers(0, 3000), _JSON).map(lambda t: _nested(*t)),
        st.integers(0, 200_000).map(lambda n: "[" * n),
    ),
    family=st.sampled_from(sorted(MESSAGE_RULES)),
    status=st.integers(100, 599),
)
def test_any_error_body_becomes_a_link_api_error(body: str, family: str, status: int) -> None:
    """Regression (fuzzing): a body nested a few hundred levels deep crashed the client with
    RecursionError while it sanitised the parsed body."""
    error = api_error(family, "Failed", status, body)
    assert isinstance(error, LinkApiError) and str(error).startswith(f"Failed ({status}): ")
    assert error.details is None or json_depth(error.details) <= MAX_JSON_DEPTH


@PROPERTIES
@given(
    body=st.one_of(st.text(), st.integers(0, 50_000).map(lambda n: "[" * n + "]" * n)),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", None]),
)
def test_any_body_can_be_redacted_for_verbose_output(body: str, content_type: str | None) -> None:
    assert isinstance(redact_body(body, content_type), str)


@PROPERTIES
@given(st.text())
def test_ids_become_exactly_one_path_segment(value: str) -> None:
    try:
        segment = path_segment(value)
    except UnicodeEncodeError:  # lone surrogates cannot be sent at all
        return
    assert not {"/", "?", "#"} & set(segment) and segment not in {".", ".."}
    assert unquote(segment) == value
