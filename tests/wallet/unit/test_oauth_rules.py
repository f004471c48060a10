"""Pure OAuth rules: scope parsing, phrases, and decoding of ``authorization_details[]``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain import oauth
from link_cli.wallet.domain.errors import OAuthError


def encode(details: list[Any]) -> list[tuple[str, str]]:
    """The client's flattening (contract §6.2), written independently for the round trip."""
    pairs: list[tuple[str, str]] = []

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{key}[{k}]", v)
        elif isinstance(value, list):
            for item in value:
                walk(f"{key}[]", item)
        elif value is True or value is False:
            pairs.append((key, "true" if value else "false"))
        elif value is None:
            pairs.append((key, "null"))
        else:
            pairs.append((key, str(value)))

    for detail in details:
        walk("authorization_details[]", detail)
    return pairs


def test_the_reference_examples_decode() -> None:
    pairs = encode(
        [
            {"type": "source", "actions": ["read_balances"]},
            {"type": "account", "filters": ["current", {"include_inactive": True}]},
            True,
        ]
    )
    assert pairs[:2] == [
        ("authorization_details[][type]", "source"),
        ("authorization_details[][actions][]", "read_balances"),
    ]
    assert oauth.parse_authorization_details(pairs) == [
        {"type": "source", "actions": ["read_balances"]},
        {"type": "account", "filters": ["current", {"include_inactive": True}]},
        True,
    ]


_names = st.sampled_from(["type", "actions", "resource_id", "filters", "id"])
_scalars = st.one_of(st.text(alphabet="abc_123", min_size=1, max_size=8), st.booleans())
# Shapes the official client sends: objects whose values are scalars, lists of scalars, or
# lists of small objects; consecutive objects differ in at least their `type` key.
_inner = st.dictionaries(_names, _scalars, min_size=1, max_size=3)
_values = st.one_of(_scalars, st.lists(_scalars, min_size=1, max_size=3))
_details = st.lists(
    st.builds(
        lambda kind, rest: {"type": kind, **rest},
        st.text(alphabet="xyz", min_size=1, max_size=4),
        st.dictionaries(_names.filter(lambda n: n != "type"), _values, max_size=3),
    ),
    max_size=4,
)


@given(_details)
def test_decoding_inverts_the_client_encoding(details: list[dict[str, Any]]) -> None:
    assert oauth.parse_authorization_details(encode(details)) == details


@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=10)), max_size=20))
def test_arbitrary_fields_never_crash_the_decoder(pairs: list[tuple[str, str]]) -> None:
    try:
        oauth.parse_authorization_details(pairs)
    except OAuthError as exc:
        assert exc.code == "invalid_request"


def test_too_many_fields_are_refused() -> None:
    pairs = [("authorization_details[]", "x")] * (oauth.MAX_AUTHORIZATION_DETAIL_PAIRS + 1)
    with pytest.raises(OAuthError):
        oauth.parse_authorization_details(pairs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ["userinfo:read", "payment_methods.agentic"]),
        ("", ["userinfo:read", "payment_methods.agentic"]),
        ("userinfo:read,payment_methods.agentic", ["userinfo:read", "payment_methods.agentic"]),
        ("  spend_requests:approve   userinfo:read ", ["spend_requests:approve", "userinfo:read"]),
        ("userinfo:read userinfo:read", ["userinfo:read"]),
    ],
)
def test_parse_scope(raw: str | None, expected: list[str]) -> None:
    assert oauth.parse_scope(raw) == expected


def test_unknown_well_formed_scopes_pass_through_but_are_never_granted() -> None:
    # contract §6.3: the official client passes scopes such as balances:read through verbatim.
    requested = oauth.parse_scope("userinfo:read balances:read,source_details:read")
    assert requested == ["userinfo:read", "balances:read", "source_details:read"]
    assert oauth.unknown_scopes(requested) == ["balances:read", "source_details:read"]
    assert oauth.granted_scopes(requested, allow_approve=True) == ["userinfo:read"]


@pytest.mark.parametrize(
    "raw",
    [
        "balances:read",  # nothing this wallet offers
        'userinfo:read bad"quote',  # not an RFC 6749 scope-token
        "userinfo:read caf\u00e9",
        "userinfo:read " + "x" * 101,
        " ".join(f"s{i}" for i in range(21)) + " userinfo:read",
    ],
)
def test_scope_requests_that_are_refused(raw: str) -> None:
    with pytest.raises(OAuthError) as caught:
        oauth.parse_scope(raw)
    assert caught.value.code == "invalid_scope"


def test_approve_scope_needs_the_tick() -> None:
    requested = ["userinfo:read", "spend_requests:approve"]
    assert oauth.granted_scopes(requested, allow_approve=False) == ["userinfo:read"]
    assert oauth.granted_scopes(requested, allow_approve=True) == requested


def test_phrases_are_long_enough_and_normalize() -> None:
    assert len(set(oauth.PHRASE_WORDS)) ** oauth.PHRASE_LENGTH >= 2**20
    phrase = oauth.new_user_code()
    assert phrase.count("-") == oauth.PHRASE_LENGTH - 1
    assert oauth.normalize_user_code(f"  {phrase.upper().replace('-', ' ')} ") == phrase
    assert oauth.normalize_user_code("not a phrase!") is None
    assert oauth.normalize_user_code("single") is None
