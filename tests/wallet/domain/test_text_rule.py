"""One rule for unsafe text in the wallet: every check refuses the same characters."""

from __future__ import annotations

from datetime import date

import pytest
from test_spend_validation import CARD_BODY, error_of, with_

from link_cli.wallet.domain.cards import CardValidationError, validate_card
from link_cli.wallet.domain.text import CONTROL, CONTROL_SINGLE_LINE, clean_label

# The left-to-right and right-to-left marks are invisible and reorder what stands beside them.
BIDI_MARKS = ("\u200e", "\u200f")


@pytest.mark.parametrize("mark", BIDI_MARKS)
def test_bidi_marks_are_unsafe_in_every_kind_of_text(mark: str) -> None:
    assert CONTROL.search(f"a{mark}b")
    assert CONTROL_SINGLE_LINE.search(f"a{mark}b")
    assert clean_label(f"Agent{mark} on host") == "Agent on host"


@pytest.mark.parametrize("mark", BIDI_MARKS)
def test_spend_request_text_with_a_bidi_mark_is_refused(mark: str) -> None:
    error = error_of(with_(CARD_BODY, merchant_name=f"Shop{mark} 10$"))
    assert "merchant_name" in error.message and "control" in error.message


@pytest.mark.parametrize("mark", BIDI_MARKS)
def test_card_fields_with_a_bidi_mark_are_refused(mark: str) -> None:
    card = {
        "number": "4242 4242 4242 4242",
        "exp_month": "11",
        "exp_year": "26",
        "cvc": "123",
        "name": f"Jenny{mark} Rosen",
        "line1": "1 Main St",
        "country": "us",
    }
    with pytest.raises(CardValidationError) as caught:
        validate_card(card, today=date(2026, 11, 25))
    assert caught.value.field_errors == {"name": "Remove control characters."}


def test_tab_and_newline_are_allowed_only_in_multi_line_text() -> None:
    assert not CONTROL.search("one\ttwo\nthree")
    assert CONTROL_SINGLE_LINE.search("one\ttwo")
