"""Sandbox card numbers, CVCs, expiry and token ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.cards import luhn_check_digit, luhn_valid
from link_cli.wallet.domain.credentials import (
    SANDBOX_CARD_PREFIX,
    card_expiry,
    is_sandbox_card_number,
    new_cvc,
    new_sandbox_card_number,
    new_spt_id,
    new_virtual_card_id,
    sandbox_card_number,
)


@pytest.mark.parametrize(
    "number", ["4242424242424242", "4000009990001987", "5555555555554444", "378282246310005"]
)
def test_known_valid_numbers_pass_luhn(number: str) -> None:
    assert luhn_valid(number)
    assert luhn_check_digit(number[:-1]) == number[-1]


def test_sandbox_numbers_share_the_prefix_of_links_documented_test_card() -> None:
    # Contract §11.1 quotes 4000009990001984 (which does not pass Luhn itself).
    assert "4000009990001984".startswith(SANDBOX_CARD_PREFIX)
    assert sandbox_card_number(198) == "4000009990001987"
    assert is_sandbox_card_number("4000009990001987")


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424242",  # a real test BIN, but not the sandbox range
        "4000009990001984",  # bad check digit
        "400000999000198",  # too short
        "40000099900019870",  # too long
        "4000009990001a87",
        "٤٠٠٠٠٠٩٩٩٠٠٠١٩٨٤",  # Arabic-Indic digits are digits to str.isdigit
    ],
)
def test_numbers_outside_the_sandbox_range_are_recognised(number: str) -> None:
    assert not is_sandbox_card_number(number)


def test_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        luhn_check_digit("12a4")


@pytest.mark.parametrize("serial", [-1, 10**6])
def test_serial_must_fit_six_digits(serial: int) -> None:
    with pytest.raises(ValueError):
        sandbox_card_number(serial)


@given(serial=st.integers(min_value=0, max_value=10**6 - 1))
def test_every_sandbox_number_is_sixteen_luhn_valid_digits_in_range(serial: int) -> None:
    number = sandbox_card_number(serial)
    assert len(number) == 16
    assert number.startswith(SANDBOX_CARD_PREFIX)
    assert luhn_valid(number)
    assert is_sandbox_card_number(number)
    assert int(number[9:15]) == serial


@given(payload=st.text(alphabet="0123456789", min_size=1, max_size=30), digit=st.integers(0, 9))
def test_exactly_one_check_digit_is_valid(payload: str, digit: int) -> None:
    assert luhn_valid(payload + str(digit)) == (str(digit) == luhn_check_digit(payload))


def test_distinct_serials_give_distinct_numbers() -> None:
    numbers = {sandbox_card_number(serial) for serial in range(0, 10**6, 997)}
    assert len(numbers) == len(range(0, 10**6, 997))


def test_random_generation_uses_the_given_source() -> None:
    assert new_sandbox_card_number(lambda bound: 198) == "4000009990001987"
    assert new_cvc(lambda bound: 7) == "007"


def test_random_values_have_their_shapes() -> None:
    assert re.fullmatch(r"\d{3}", new_cvc())
    assert re.fullmatch(r"spt_[A-Za-z0-9]{24}", new_spt_id())
    assert re.fullmatch(r"vcard_[A-Za-z0-9]{24}", new_virtual_card_id())
    assert len({new_spt_id() for _ in range(50)}) == 50


def test_card_expiry_is_the_month_of_valid_until() -> None:
    assert card_expiry(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == (12, 2026)
    assert card_expiry(datetime(2027, 1, 1, 0, 0, tzinfo=UTC)) == (1, 2027)
