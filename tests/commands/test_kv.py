"""The key:value syntax of --line-item / --total / --metadata (contract §11.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.commands._kv import parse_line_item, parse_metadata, parse_pairs, parse_total
from link_cli.commands._spec import JS_WHITESPACE


def test_line_item_numbers_and_schema_key_order():
    item = parse_line_item("unit_amount:5000, quantity: 2 ,name:Widget")
    assert item == {"name": "Widget", "quantity": 2, "unit_amount": 5000}
    assert list(item) == ["name", "quantity", "unit_amount"]


def test_url_with_scheme_and_port_splits_at_the_first_colon():
    item = parse_line_item("name:A,url:http://shop.example:8080/p?x=1")
    assert item["url"] == "http://shop.example:8080/p?x=1"


def test_missing_colon_is_reported_with_the_piece():
    with pytest.raises(ValueError, match=r"^Invalid field \(missing ':'\): oops$"):
        parse_line_item("name:A,oops")


def test_empty_string_fails_like_a_missing_colon():
    with pytest.raises(ValueError, match=r"missing ':'"):
        parse_pairs("")


def test_unknown_line_item_key_lists_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        parse_line_item("name:A,colour:red")
    assert str(info.value) == (
        'Line item: unrecognized key "colour". Allowed keys: name, url, image_url, '
        "description, sku, quantity, unit_amount, product_url"
    )


def test_non_numeric_quantity_is_a_field_error():
    with pytest.raises(
        ValueError, match="Line item quantity: Invalid input: expected number, received NaN"
    ):
        parse_line_item("name:A,quantity:two")


def test_total_requires_every_key_and_a_numeric_amount():
    assert parse_total("type:total,display_text:Total,amount:1e3") == {
        "type": "total",
        "display_text": "Total",
        "amount": 1000,
    }
    with pytest.raises(
        ValueError, match="Total amount: Invalid input: expected number, received NaN"
    ):
        parse_total("type:total,display_text:Total")
    with pytest.raises(ValueError, match='Total: unrecognized key "x"'):
        parse_total("type:total,x:1")


def test_trims_like_javascript():
    assert parse_pairs(" name :\u00a0A\u3000") == {"name": "A"}
    assert parse_pairs("name:A\x85") == {"name": "A\x85"}  # U+0085 is not JS whitespace


def test_duplicate_keys_last_wins():
    assert parse_pairs("a:1,a:2") == {"a": "2"}


def test_metadata_merges_flags_and_objects_later_wins():
    merged = parse_metadata(["order_id:ord_1,team:growth", {"team": "ops"}, "x:y"])
    assert merged == {"order_id": "ord_1", "team": "ops", "x": "y"}


_key = (
    st.text(
        alphabet=st.characters(blacklist_characters=",:", blacklist_categories=["Cs"]), min_size=1
    )
    .map(lambda t: t.strip(JS_WHITESPACE))
    .filter(bool)
)
_value = st.text(alphabet=st.characters(blacklist_characters=",", blacklist_categories=["Cs"])).map(
    str.strip
)


@given(st.dictionaries(_key, _value, min_size=1, max_size=8))
def test_pairs_round_trip(pairs):
    text = ",".join(f"{k}:{v}" for k, v in pairs.items())
    assert parse_pairs(text) == pairs


@given(st.text())
def test_arbitrary_text_either_parses_or_raises_value_error(text):
    try:
        result = parse_pairs(text)
    except ValueError as exc:
        assert "missing ':'" in str(exc)
    else:
        assert all(
            k == k.strip(JS_WHITESPACE) and v == v.strip(JS_WHITESPACE) for k, v in result.items()
        )
