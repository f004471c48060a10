"""The pure rules behind "what the person is shown is what is charged": the currency table,
totals, per-currency spend, ASCII-only numbers, the form decoder, and the log redaction.

Property tests feed random input to the parsers: they only ever answer with the domain's
4xx error, never another exception.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spend_builders import build_draft
from test_spend_limits import DEFAULTS, NOW, past
from test_spend_validation import CARD_BODY, create, with_

from link_cli.money import (
    CURRENCY_DECIMALS,
    format_amount,
    is_ascii_digits,
    is_currency_code,
    minor_unit_digits,
)
from link_cli.wallet.access_log import redact_path
from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.limits import LimitExceeded, check_create
from link_cli.wallet.domain.payment_intent_params import (
    MAX_AMOUNT,
    parse_payment_intent_create,
)
from link_cli.wallet.domain.spend_request import Status, check_totals_match
from link_cli.wallet.domain.stripe_errors import StripeError
from link_cli.wallet.domain.stripe_form import decode_form

# -- the currency table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1500, "kwd", "1.500 KWD"),
        (1, "bhd", "0.001 BHD"),
        (1234567, "jod", "1,234.567 JOD"),
        (12345, "clf", "1.2345 CLF"),
        (500, "mga", "500 MGA"),
        (500, "ugx", "500 UGX"),
        (1234, "isk", "12.34 ISK"),
    ],
)
def test_each_currency_shows_its_own_decimals(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


def test_the_table_is_iso_codes_only() -> None:
    assert all(re.fullmatch(r"[a-z]{3}", code) for code in CURRENCY_DECIMALS)
    assert {minor_unit_digits(c) for c in ("usd", "jpy", "kwd", "omr", "tnd")} == {0, 2, 3}
    for code in ("xts", "xxx", "xau", "xdr", "btc", "abc"):
        assert not is_currency_code(code)
        with pytest.raises(ValueError):
            minor_unit_digits(code)


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    code=st.sampled_from(sorted(CURRENCY_DECIMALS)),
)
def test_formatting_round_trips_in_every_currency(amount: int, code: str) -> None:
    text = format_amount(amount, code)
    digits = "".join(ch for ch in text if ch in string.digits)
    assert int(digits) == amount
    fraction = text.split(".")[1].split(" ")[0] if "." in text else ""
    assert len(fraction) == CURRENCY_DECIMALS[code]


@given(st.text(max_size=8))
def test_ascii_digits_only(text: str) -> None:
    assert is_ascii_digits(text) == (bool(text) and all(ch in string.digits for ch in text))


# -- totals ---------------------------------------------------------------------------------


def test_a_total_must_equal_the_amount_other_types_need_not() -> None:
    check_totals_match(5000, [{"type": "subtotal", "amount": 1}, {"type": "total", "amount": 5000}])
    with pytest.raises(InvalidRequest) as caught:
        check_totals_match(5000, [{"type": "tax", "amount": 1}, {"type": "total", "amount": 100}])
    assert (caught.value.status, caught.value.extra["param"]) == (422, "totals[1][amount]")


# -- spend per currency ---------------------------------------------------------------------


def test_spend_in_one_currency_never_counts_against_another() -> None:
    eur_day = [
        past(1, ago=timedelta(hours=1), status=Status.APPROVED, amount=50000, currency="eur")
    ]
    check_create(build_draft(amount=50000, currency="usd"), eur_day, DEFAULTS, NOW)
    with pytest.raises(LimitExceeded) as caught:
        check_create(build_draft(amount=1, currency="eur"), eur_day, DEFAULTS, NOW)
    assert caught.value.limit == "daily_spend" and "EUR" in caught.value.message


# -- the form decoder and the PaymentIntent parameters -------------------------------------

_NAME_PARTS = st.sampled_from(
    ["amount", "currency", "metadata", "payment_method_types", "a", "0", "1", "", "²", "١",
     "[", "]", "[]", "x\x00", "card", "payment_method_data", "number"]
)  # fmt: skip
_NAMES = st.one_of(
    st.text(max_size=30),
    st.lists(_NAME_PARTS, max_size=12).map(
        lambda p: p[0] + "".join(f"[{x}]" for x in p[1:]) if p else ""
    ),
)
_VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["100", "١٠٠", "²", "usd", "kwd", "xyz", "true", "card", "\x00", "4242424242424242"]
    ),
)


@settings(deadline=None)
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=12))
def test_random_forms_only_ever_raise_a_stripe_400(pairs: list[tuple[str, str]]) -> None:
    try:
        decoded = decode_form(pairs)
        parse_payment_intent_create(decoded)
    except StripeError as error:
        assert 400 <= error.status < 500
        return


@pytest.mark.parametrize("depth", [9, 50, 5000])
def test_deep_nesting_is_refused_before_any_recursion(depth: int) -> None:
    with pytest.raises(StripeError) as caught:
        decode_form([("metadata" + "[a]" * depth, "x")])
    assert caught.value.status == 400


def test_nesting_up_to_the_bound_still_decodes() -> None:
    assert decode_form([("a" + "[b]" * 8, "x")])["a"]["b"]["b"]["b"]["b"]["b"]["b"]["b"]["b"] == "x"


_BASE = {"currency": "usd", "confirm": "true", "shared_payment_granted_token": "spt_1"}


@settings(deadline=None)
@given(amount=st.one_of(st.text(max_size=14), st.integers(-10, 10**12).map(str)))
def test_amounts_are_ascii_integers_in_range_or_a_400(amount: str) -> None:
    try:
        parsed = parse_payment_intent_create({**_BASE, "amount": amount})
    except StripeError as error:
        assert error.status == 400 and error.param == "amount"
        return
    assert is_ascii_digits(amount) and 1 <= parsed.amount <= MAX_AMOUNT
    assert parsed.amount == int(amount)


# -- spend-request amounts (JSON) -----------------------------------------------------------


@settings(deadline=None)
@given(
    amount=st.one_of(
        st.integers(), st.floats(allow_nan=True), st.text(max_size=6), st.booleans(), st.none()
    ),
    total=st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=4)),
)
def test_random_amounts_and_totals_only_raise_invalid_request(amount: Any, total: Any) -> None:
    totals = [{"type": "total", "display_text": "Total", "amount": total}]
    try:
        draft = create(with_(CARD_BODY, amount=amount, totals=totals))
    except InvalidRequest as error:
        assert error.status in (400, 422)
        return
    assert draft.amount == amount == total and isinstance(amount, int)


# -- the access log -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/shared_payment/granted_tokens/spt_1AbC", "/v1/shared_payment/granted_tokens/spt_[redacted]"),
        ("/v1/x/SPT_abc/y", "/v1/x/spt_[redacted]/y"),
        ("/spend_requests/lsrq_123", "/spend_requests/lsrq_123"),
    ],
)  # fmt: skip
def test_token_ids_are_redacted_from_logged_paths(path: str, logged: str) -> None:
    assert redact_path(path) == logged
