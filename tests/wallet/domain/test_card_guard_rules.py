"""The pure card-guard rules: who a card was meant for, and that every presentation which
proves nothing gets the one generic decline (docs/security.md, "Card enumeration and card
burning")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.payment_intent_params import CardAttempt
from link_cli.wallet.domain.redemption import (
    GENERIC_DECLINE_MESSAGE,
    MAX_FAILED_CARD_ATTEMPTS,
    MAX_FOREIGN_FAILED_CARD_ATTEMPTS,
    CardSnapshot,
    Effect,
    Presenter,
    generic_decline,
    judge_card,
    presenter_of,
    site_host,
)
from link_cli.wallet.domain.throttle import ThrottleSettings, card_failure_budgets

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
NUMBER = "4000002760003184"
GENERIC = generic_decline().to_body()


def card(**changes: object) -> CardSnapshot:
    base = CardSnapshot(
        id="vcard_1",
        number=NUMBER,
        exp_month=12,
        exp_year=2031,
        cvc="123",
        max_amount=2500,
        currency="usd",
        valid_until=NOW + timedelta(hours=1),
        consumed=False,
        usable=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def attempt(**changes: object) -> CardAttempt:
    base = CardAttempt(number=NUMBER, exp_month=12, exp_year=2031, cvc="123")
    return replace(base, **changes)  # type: ignore[arg-type]


def judge(snapshot: CardSnapshot | None, given: CardAttempt, **kwargs: object):
    args = {"amount": 100, "currency": "usd", "now": NOW} | kwargs
    return judge_card(snapshot, given, **args)  # type: ignore[arg-type]


# --- who the card was meant for ------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "merchant_url", "expected"),
    [
        ("https://shop.example", "https://shop.example/checkout?x=1", Presenter.INTENDED),
        ("https://SHOP.example.", "http://shop.example:8080/", Presenter.INTENDED),
        ("https://shop.example", "https://www.shop.example/", Presenter.OTHER),
        ("https://elsewhere.example", "https://shop.example", Presenter.OTHER),
        (None, "https://shop.example", Presenter.UNKNOWN),
        ("https://shop.example", None, Presenter.UNKNOWN),
        ("https://shop.example", "shop.example", Presenter.UNKNOWN),
        ("ftp://shop.example", "ftp://shop.example", Presenter.UNKNOWN),
        ("https://[::1", "https://[::1", Presenter.UNKNOWN),
    ],
)
def test_the_intended_merchant_is_matched_on_host(site, merchant_url, expected) -> None:
    assert presenter_of(site, merchant_url) is expected


def test_site_host() -> None:
    assert site_host("https://Shop.Example./a") == "shop.example"
    assert site_host("javascript:alert(1)") is None
    assert site_host("") is None


# --- one answer for everything that proves nothing -------------------------------------------


WRONG_DETAILS = [
    attempt(cvc="124"),
    attempt(exp_month=11),
    attempt(exp_year=2032),
    attempt(cvc="124", exp_year=2032),
]
DEAD_CARDS = [
    card(consumed=True),
    card(usable=False),
    card(valid_until=NOW - timedelta(seconds=1)),
]


@pytest.mark.parametrize("presenter", list(Presenter))
@pytest.mark.parametrize("lock", [False, True])
def test_every_presentation_that_proves_nothing_is_the_generic_decline(presenter, lock) -> None:
    cases = [(None, attempt())]
    cases += [(card(), wrong) for wrong in WRONG_DETAILS]
    cases += [(dead, attempt()) for dead in DEAD_CARDS]  # right details, dead card
    cases += [(dead, wrong) for dead in DEAD_CARDS for wrong in WRONG_DETAILS]
    for snapshot, given_attempt in cases:
        refusal = judge(snapshot, given_attempt, presenter=presenter, merchant_lock=lock)
        assert refusal is not None
        assert refusal.error.status == 402
        assert refusal.error.to_body() == GENERIC
    assert GENERIC["error"]["message"] == GENERIC_DECLINE_MESSAGE
    assert GENERIC["error"]["decline_code"] == "generic_decline"


@given(
    cvc=st.from_regex(r"[0-9]{3,4}", fullmatch=True),
    month=st.integers(1, 12),
    year=st.integers(2024, 2040),
    presenter=st.sampled_from(list(Presenter)),
    attempts=st.integers(0, MAX_FOREIGN_FAILED_CARD_ATTEMPTS + 2),
)
def test_any_wrong_guess_gets_the_generic_body(cvc, month, year, presenter, attempts) -> None:
    guess = attempt(cvc=cvc, exp_month=month, exp_year=year)
    snapshot = card(failed_attempts=min(attempts, 2), foreign_failed_attempts=attempts)
    refusal = judge(snapshot, guess, presenter=presenter)
    if (cvc, month, year) == ("123", 12, 2031) and (
        presenter is Presenter.INTENDED or attempts < MAX_FOREIGN_FAILED_CARD_ATTEMPTS
    ):
        assert refusal is None
    else:
        assert refusal is not None and refusal.error.to_body() == GENERIC


# --- effects --------------------------------------------------------------------------------


def test_only_the_intended_merchant_counts_toward_the_burn() -> None:
    wrong = attempt(cvc="124")
    for presenter in (Presenter.OTHER, Presenter.UNKNOWN):
        refusal = judge(
            card(failed_attempts=MAX_FAILED_CARD_ATTEMPTS - 1), wrong, presenter=presenter
        )
        assert refusal is not None and refusal.effect is Effect.FOREIGN and refusal.reason is None
    last = judge(card(failed_attempts=MAX_FAILED_CARD_ATTEMPTS - 1), wrong)
    assert last is not None and last.effect is Effect.BURN
    assert last.reason is not None and last.reason.decline_code == "incorrect_cvc"
    expiry = judge(card(), attempt(exp_year=2032))
    assert expiry is not None and expiry.effect is Effect.ATTEMPT
    assert expiry.reason is not None and expiry.reason.decline_code == "invalid_expiry_year"


def test_dead_cards_and_unknown_numbers_touch_nothing() -> None:
    for snapshot in [None, *DEAD_CARDS]:
        refusal = judge(snapshot, attempt(cvc="124"))
        assert refusal is not None and refusal.effect is Effect.NONE


def test_after_the_foreign_cap_only_the_intended_merchant_is_examined() -> None:
    guarded = card(foreign_failed_attempts=MAX_FOREIGN_FAILED_CARD_ATTEMPTS)
    for presenter in (Presenter.OTHER, Presenter.UNKNOWN):
        refusal = judge(guarded, attempt(), presenter=presenter)
        assert refusal is not None and refusal.effect is Effect.NONE
        assert refusal.error.to_body() == GENERIC
    assert judge(guarded, attempt(), presenter=Presenter.INTENDED) is None
    below = card(foreign_failed_attempts=MAX_FOREIGN_FAILED_CARD_ATTEMPTS - 1)
    assert judge(below, attempt(), presenter=Presenter.OTHER) is None


def test_the_merchant_lock_pays_only_the_intended_merchant() -> None:
    for presenter in (Presenter.OTHER, Presenter.UNKNOWN):
        refusal = judge(card(), attempt(), presenter=presenter, merchant_lock=True)
        assert refusal is not None and refusal.effect is Effect.NONE
        assert refusal.error.to_body() == GENERIC
        # Wrong details are not even counted: nothing was examined.
        wrong = judge(card(), attempt(cvc="124"), presenter=presenter, merchant_lock=True)
        assert wrong is not None and wrong.effect is Effect.NONE
    assert judge(card(), attempt(), presenter=Presenter.INTENDED, merchant_lock=True) is None


def test_a_proven_holder_still_learns_what_broke_the_approval() -> None:
    too_much = judge(card(), attempt(), amount=2501, presenter=Presenter.OTHER)
    assert too_much is not None and too_much.effect is Effect.BURN
    assert too_much.error.decline_code == "invalid_amount"


def test_the_card_failure_budget_is_per_merchant() -> None:
    budgets = card_failure_budgets(ThrottleSettings(card_failures_per_key=7), merchant_id="acct_1")
    assert [(b.kind, b.key, b.limit) for b in budgets] == [("card_failure", "acct_1", 7)]
    assert ThrottleSettings().card_failures_per_key == 20
