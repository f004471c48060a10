"""Wire primitives: canonical JSON (RFC 8785 vectors), base64url, quoting, header text."""

from __future__ import annotations

import json
import struct

import pytest

from link_cli.mpp import MppParseError, _wire

# RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript serialisation.
JCS_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), JCS_NUMBERS)
def test_js_number_matches_rfc8785_vectors(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert _wire.js_number(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_js_number_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueError):
        _wire.js_number(value)


def test_canonical_json_sorts_keys_by_utf16_and_has_no_whitespace() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(_wire.canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_canonical_json_literals_and_string_escapes() -> None:
    value = {"b": [True, False, None, 1, 2.5, -0.0], "a": '\u20ac$\u000f\nA\'B"\\\\"/'}
    assert (
        _wire.canonical_json(value)
        == '{"a":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","b":[true,false,null,1,2.5,0]}'
    )


def test_canonical_json_refuses_non_string_keys() -> None:
    with pytest.raises(ValueError):
        _wire.canonical_json({1: "x"})


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd\xfc"])
def test_base64url_round_trip_without_padding(data: bytes) -> None:
    encoded = _wire.b64url_encode(data)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert _wire.b64url_decode(encoded) == data


@pytest.mark.parametrize("text", ["a", "ab=c", "abc===", "a b", "ab\n"])
def test_base64url_rejects_bad_text(text: str) -> None:
    with pytest.raises(MppParseError):
        _wire.b64url_decode(text)


def test_deeply_nested_json_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(MppParseError):
        _wire.loads_object("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MppParseError):
        _wire.loads_object('{"a":' * 5000 + "1" + "}" * 5000)


def test_json_with_lone_surrogate_is_refused() -> None:
    with pytest.raises(MppParseError):
        _wire.loads_object('{"a": "\\ud800"}')


def test_quote_escapes_everything_outside_printable_ascii() -> None:
    assert _wire.quote('a"b\\c') == '"a\\"b\\\\c"'
    assert _wire.quote("é☕😀\r\n") == '"\\u00e9\\u2615\\ud83d\\ude00\\u000d\\u000a"'


def test_header_text_prefers_utf8_then_latin1() -> None:
    assert _wire.header_text("Café".encode()) == "Café"
    assert _wire.header_text("Café".encode("latin-1")) == "Café"
    assert _wire.wire_text("Café".encode().decode("latin-1")) == "Café"
    assert _wire.wire_text("Café") == "Café"
    assert _wire.wire_text("☕") == "☕"


def test_scanner_reports_token68_and_params() -> None:
    [negotiate, bearer] = _wire.scan_auth_header("Negotiate abc==, Bearer realm=x, error=y")
    assert negotiate.token68 == "abc==" and not negotiate.params
    assert bearer.params == {"realm": "x", "error": "y"}
