"""Card validation rules and field encryption."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.cards import (
    CardValidationError,
    detect_brand,
    luhn_valid,
    validate_card,
)
from link_cli.wallet.store.crypto import DecryptionError, FieldCipher

TODAY = date(2026, 11, 25)
GOOD = {
    "number": "4242 4242 4242 4242",
    "exp_month": "11",
    "exp_year": "26",
    "cvc": "123",
    "name": "Jenny Rosen",
    "line1": "1 Main St",
    "country": "us",
}


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("6500000000000002", "discover"),
        ("3056930009020004", None),
    ],
)
def test_brand_detection(number: str, brand: str | None) -> None:
    assert detect_brand(number) == brand


def test_luhn() -> None:
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("")
    assert not luhn_valid("42x2")


def test_valid_card_is_normalized() -> None:
    card = validate_card(GOOD, today=TODAY)
    assert card.number == "4242424242424242"
    assert card.last4 == "4242"
    assert (card.exp_month, card.exp_year) == (11, 2026)  # this month still counts
    assert card.billing.country == "US"
    assert card.billing.line2 is None


def test_every_problem_is_reported_at_once_without_the_number() -> None:
    with pytest.raises(CardValidationError) as caught:
        validate_card(
            {"number": "4242424242424241", "exp_month": "10", "exp_year": "2026"}, today=TODAY
        )
    errors = caught.value.field_errors
    assert set(errors) == {"number", "exp_year", "cvc", "name", "line1"}
    assert "4242424242424241" not in caught.value.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Jenny\x1b[2JRosen"),  # C0: an escape sequence
        ("line1", "1 Main\x9bSt"),  # C1: an 8-bit CSI
        ("city", "Paris\u202egnp.exe"),  # bidi override: reads differently than it is
        ("nickname", "work\u2066card"),  # bidi isolate
        ("line2", "Apt 1\nEvil"),  # addresses are single lines
    ],
)
def test_control_characters_in_address_fields_are_refused(field: str, value: str) -> None:
    with pytest.raises(CardValidationError) as caught:
        validate_card({**GOOD, field: value}, today=TODAY)
    assert caught.value.field_errors == {field: "Remove control characters."}


def test_letters_of_any_script_are_accepted() -> None:
    card = validate_card({**GOOD, "name": "Zoë Ŝmith-Müller", "city": "東京"}, today=TODAY)
    assert (card.billing.name, card.billing.city) == ("Zoë Ŝmith-Müller", "東京")


@given(st.dictionaries(st.sampled_from([*sorted(GOOD), "line2", "nickname"]), st.text(max_size=40)))
def test_any_input_either_validates_or_explains(fields: dict[str, str]) -> None:
    try:
        validate_card(fields, today=TODAY)
    except CardValidationError as exc:
        assert exc.field_errors
        assert exc.status == 400


def test_ciphertexts_are_bound_to_their_record_and_field() -> None:
    cipher = FieldCipher(b"s" * 64)
    stored = cipher.encrypt("csmrpd_1", "number", "4242424242424242")
    assert stored.startswith("k1:")
    assert "4242" not in stored
    assert cipher.encrypt("csmrpd_1", "number", "4242424242424242") != stored  # fresh nonce
    assert cipher.decrypt("csmrpd_1", "number", stored) == "4242424242424242"
    for record, field in (("csmrpd_2", "number"), ("csmrpd_1", "cvc")):
        with pytest.raises(DecryptionError):
            cipher.decrypt(record, field, stored)
    with pytest.raises(DecryptionError):
        FieldCipher(b"t" * 64).decrypt("csmrpd_1", "number", stored)
    with pytest.raises(DecryptionError):
        cipher.decrypt("csmrpd_1", "number", "k9:AAAA")
