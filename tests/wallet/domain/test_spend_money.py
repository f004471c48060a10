"""Money formatting for the approval page."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.money import format_amount, is_currency_code, normalize_currency


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (5000, "usd", "$50.00"),
        (5, "USD", "$0.05"),
        (123456789, "usd", "$1,234,567.89"),
        (1999, "eur", "€19.99"),
        (500, "jpy", "¥500"),
        (1234, "chf", "12.34 CHF"),
        (1234, "krw", "1,234 KRW"),
        (-250, "gbp", "-£2.50"),
        (0, "usd", "$0.00"),
    ],
)
def test_format_amount(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


@given(amount=st.integers(min_value=0, max_value=10**12))
def test_two_decimal_formatting_round_trips(amount: int) -> None:
    text = format_amount(amount, "usd")
    assert int(text.removeprefix("$").replace(",", "").replace(".", "")) == amount


def test_currency_codes() -> None:
    assert is_currency_code("usd") and is_currency_code("EUR")
    assert not is_currency_code("us") and not is_currency_code("usdd")
    assert normalize_currency("USD") == "usd"
    with pytest.raises(ValueError):
        normalize_currency("dollars")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        # Stripe counts ISK in two decimals on the wire, however it is spent.
        (1234, "isk", "12.34 ISK"),
        (500, "bif", "500 BIF"),
        (500, "xpf", "500 XPF"),
    ],
)
def test_one_zero_decimal_list_for_every_page(amount: int, currency: str, text: str) -> None:
    from link_cli.wallet.web.templating import format_money

    assert format_amount(amount, currency) == text
    assert format_money(amount, currency) == text
    assert format_money(None) == "—"
