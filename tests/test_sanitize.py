"""sanitize_text / sanitize_deep against the vectors of contract §10.1 and §13."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli._sanitize import sanitize_deep, sanitize_text

REFERENCE_VECTORS = [
    ("\x1b[2JScreen Cleared", "Screen Cleared"),
    ("\x1b]0;PWNED\x07Normal Store", "Normal Store"),
    ("\x1b]8;;https://evil.com\x07Click\x1b]8;;\x07", "Click"),
    ("Legit Store\rEvil Store", "Legit StoreEvil Store"),
    ("Hello\x00World", "HelloWorld"),
    ("\x1b[2J\x1b[1;1H\x1b]0;Hijacked\x07\rAmount: $0.01", "Amount: $0.01"),
]


@pytest.mark.parametrize(("raw", "clean"), REFERENCE_VECTORS)
def test_reference_vectors(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # OSC terminated by ESC \ and by the 8-bit string terminator.
        ("\x1b]0;title\x1b\\Shop", "Shop"),
        ("\x1b]0;title\x9cShop", "Shop"),
        # Colour codes with colon sub-parameters and a private-mode CSI.
        ("\x1b[38:2:255:0:0mred\x1b[0m", "red"),
        ("\x1b[?25lhidden cursor", "hidden cursor"),
        # Once the slow path runs, an 8-bit CSI sequence goes too.
        ("\x9b2J\x00x", "x"),
        # A lone ESC with no valid sequence after it is deleted by the control sweep.
        ("a\x1bb", "ab"),
        ("del\x7fete", "delete"),
        ("\x0b\x0c\x1fz", "z"),
    ],
)
def test_other_sequences_are_removed(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean


@pytest.mark.parametrize("text", ["Café ☕", "tab\tand\nnewline", "plain", "€12.00 — ok"])
def test_tabs_newlines_and_non_ascii_are_kept(text: str) -> None:
    assert sanitize_text(text) == text


def test_fast_path_leaves_a_lone_8bit_csi_untouched() -> None:
    # Upstream only takes the slow path when a C0 control, DEL or ESC is present.
    assert sanitize_text("\x9b2JStore") == "\x9b2JStore"


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_input_gives_empty_string(empty: str | None) -> None:
    assert sanitize_text(empty) == ""


def test_sanitize_deep_recurses_and_keeps_keys_and_primitives() -> None:
    data = {
        "merchant_name": "\x1b[2JEvil",
        "line_items": [{"name": "A\rB", "quantity": 2}, "\x07x"],
        "amount": 1000,
        "test": True,
        "approval_url": None,
        "\x1b[1mkey": "v",
        "pair": ("\x00a", 1.5),
    }
    assert sanitize_deep(data) == {
        "merchant_name": "Evil",
        "line_items": [{"name": "AB", "quantity": 2}, "x"],
        "amount": 1000,
        "test": True,
        "approval_url": None,
        "\x1b[1mkey": "v",
        "pair": ("a", 1.5),
    }


def test_sanitize_deep_does_not_modify_its_input() -> None:
    data = {"a": ["\x1b[2Jx"]}
    sanitize_deep(data)
    assert data == {"a": ["\x1b[2Jx"]}


@pytest.mark.parametrize("value", [0, 3.5, False, None])
def test_sanitize_deep_returns_primitives_unchanged(value: object) -> None:
    assert sanitize_deep(value) is value


_DANGEROUS = {chr(c) for c in range(0x20) if chr(c) not in "\t\n"} | {"\x7f"}


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(sorted(_DANGEROUS))))
def test_output_never_contains_escape_or_c0_controls(text: str) -> None:
    cleaned = sanitize_text(text)
    assert not (set(cleaned) & _DANGEROUS)


@given(st.text())
def test_sanitising_is_idempotent(text: str) -> None:
    once = sanitize_text(text)
    assert sanitize_text(once) == once
