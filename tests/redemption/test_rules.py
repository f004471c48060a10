"""The pure redemption rules: form decoding, parameter validation and the verdicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.cards import luhn_valid as luhn_ok
from link_cli.wallet.domain.payment_intent_params import CardAttempt, parse_payment_intent_create
from link_cli.wallet.domain.redemption import (
    MAX_FAILED_CARD_ATTEMPTS,
    CardSnapshot,
    Effect,
    SptSnapshot,
    judge_card,
    judge_spt,
)
from link_cli.wallet.domain.stripe_errors import StripeError
from link_cli.wallet.domain.stripe_form import canonical_params, decode_form
from link_cli.wallet.domain.stripe_objects import payment_status_details

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
CARD_NUMBER = "4000002760003184"  # passes Luhn


def parse(body: str):
    return parse_payment_intent_create(decode_form(parse_qsl(body, keep_blank_values=True)))


def spt(**changes) -> SptSnapshot:
    base = SptSnapshot(
        id="spt_1",
        network_id="profile_shop",
        max_amount=500,
        currency="usd",
        expires_at=NOW + timedelta(hours=1),
        consumed=False,
        usable=True,
    )
    return replace(base, **changes)


def card(**changes) -> CardSnapshot:
    base = CardSnapshot(
        id="vcard_1",
        number=CARD_NUMBER,
        exp_month=12,
        exp_year=2031,
        cvc="123",
        max_amount=2500,
        currency="usd",
        valid_until=NOW + timedelta(hours=1),
        consumed=False,
        usable=True,
    )
    return replace(base, **changes)


def attempt(**changes) -> CardAttempt:
    base = CardAttempt(number=CARD_NUMBER, exp_month=12, exp_year=2031, cvc="123")
    return replace(base, **changes)


# --- form decoding: what the stripe SDK, pympp and mppx send ---------------------------


def test_stripe_sdk_form_is_decoded_into_nested_values() -> None:
    body = urlencode(
        [
            ("amount", "250"),
            ("confirm", "true"),
            ("currency", "usd"),
            ("metadata[mpp_intent]", "charge"),
            ("metadata[machine_payment]", "true"),
            ("payment_method_types[0]", "card"),
            ("shared_payment_granted_token", "spt_abc"),
        ]
    )
    params = parse(body)
    assert params.amount == 250
    assert params.currency == "usd"
    assert params.spt == "spt_abc"
    assert params.card is None
    assert params.payment_method_types == ("card",)
    assert params.metadata == {"mpp_intent": "charge", "machine_payment": "true"}


def test_mppx_automatic_payment_methods_and_empty_brackets_are_accepted() -> None:
    params = parse(
        "amount=100&currency=USD&confirm=true&shared_payment_granted_token=spt_x"
        "&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never"
        "&payment_method_types[]=card&payment_method_types[]=link"
    )
    assert params.currency == "usd"
    assert params.automatic_payment_methods == {"enabled": "true", "allow_redirects": "never"}
    assert params.payment_method_types == ("card", "link")


def test_card_payment_method_data_is_parsed_and_never_shown_in_repr() -> None:
    params = parse(
        "amount=1999&currency=usd&confirm=true&payment_method_data[type]=card"
        f"&payment_method_data[card][number]={CARD_NUMBER}"
        "&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=31"
        "&payment_method_data[card][cvc]=123"
        "&payment_method_data[billing_details][name]=Ada"
    )
    assert params.card == attempt()
    assert CARD_NUMBER not in repr(params) and "123" not in repr(params.card)
    assert params.card.last4 == "3184"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (
            "currency=usd&confirm=true&shared_payment_granted_token=spt_x",
            "parameter_missing",
            "amount",
        ),
        (
            "amount=12.5&currency=usd&confirm=true&shared_payment_granted_token=s",
            "parameter_invalid_integer",
            "amount",
        ),
        (
            "amount=0&currency=usd&confirm=true&shared_payment_granted_token=s",
            "amount_too_small",
            "amount",
        ),
        (
            "amount=100000000&currency=usd&confirm=true&shared_payment_granted_token=s",
            "amount_too_large",
            "amount",
        ),
        (
            "amount=1&currency=dollars&confirm=true&shared_payment_granted_token=s",
            "parameter_invalid",
            "currency",
        ),
        (
            "amount=1&currency=usd&confirm=maybe&shared_payment_granted_token=s",
            "parameter_invalid_boolean",
            "confirm",
        ),
        (
            "amount=1&currency=usd&payment_method_data[type]=card"
            "&payment_method_data[card][number]=4242424242424242",
            "parameter_invalid",
            "payment_method_data",
        ),
        (
            "amount=1&currency=usd&confirm=true&shared_payment_granted_token=s"
            "&payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242"
            "&payment_method_data[card][exp_month]=1&payment_method_data[card][exp_year]=30"
            "&payment_method_data[card][cvc]=123",
            "parameter_missing",
            "shared_payment_granted_token",
        ),
        ("amount=1&currency=usd&confirm=true", "parameter_missing", "shared_payment_granted_token"),
        (
            "amount=1&currency=usd&confirm=true&shared_payment_granted_token=s&bogus=1",
            "parameter_unknown",
            "bogus",
        ),
        (
            "amount=1&currency=usd&confirm=true&shared_payment_granted_token=s&payment_method_types[0]=sepa_debit",
            "payment_method_type_unsupported",
            "payment_method_types",
        ),
    ],
)
def test_bad_parameters_are_stripe_invalid_request_errors(body: str, code: str, param: str) -> None:
    with pytest.raises(StripeError) as caught:
        parse(body)
    error = caught.value
    assert (error.status, error.type, error.code, error.param) == (
        400,
        "invalid_request_error",
        code,
        param,
    )


def test_both_credentials_at_once_are_refused() -> None:
    with pytest.raises(StripeError, match="exactly one"):
        parse(
            "amount=1&currency=usd&confirm=true&shared_payment_granted_token=s"
            "&payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242"
            "&payment_method_data[card][exp_month]=1&payment_method_data[card][exp_year]=2031"
            "&payment_method_data[card][cvc]=123"
        )


def test_a_number_failing_luhn_is_incorrect_number_and_not_echoed() -> None:
    with pytest.raises(StripeError) as caught:
        parse(
            "amount=1&currency=usd&confirm=true&payment_method_data[type]=card"
            "&payment_method_data[card][number]=4242424242424241"
            "&payment_method_data[card][exp_month]=1&payment_method_data[card][exp_year]=2031"
            "&payment_method_data[card][cvc]=123"
        )
    body = caught.value.to_body()
    assert caught.value.status == 402
    assert body["error"]["code"] == "incorrect_number"
    assert "4242424242424241" not in str(body)


def test_a_number_in_non_ascii_digits_is_incorrect_number() -> None:
    # One Luhn rule for the wallet: ASCII digits only, as the card form and issuer use.
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in CARD_NUMBER)
    with pytest.raises(StripeError) as caught:
        parse(
            "amount=1&currency=usd&confirm=true&payment_method_data[type]=card"
            f"&payment_method_data[card][number]={arabic_indic}"
            "&payment_method_data[card][exp_month]=1&payment_method_data[card][exp_year]=2031"
            "&payment_method_data[card][cvc]=123"
        )
    assert caught.value.to_body()["error"]["code"] == "incorrect_number"


@pytest.mark.parametrize(
    "pairs",
    [
        [("metadata[a]", "1"), ("metadata[0]", "2"), ("metadata[]", "3")],
        [("a[b", "1")],
        [("amount", "1"), ("amount", "2")],
        [("x]", "1")],
    ],
)
def test_malformed_or_conflicting_names_are_refused(pairs) -> None:
    with pytest.raises(StripeError):
        parse_payment_intent_create(decode_form(pairs))


@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), max_size=30))
def test_arbitrary_forms_only_ever_raise_stripe_errors(pairs) -> None:
    try:
        parse_payment_intent_create(decode_form(pairs))
    except StripeError as error:
        assert error.status in (400, 402)


def test_canonical_params_ignore_order_but_not_values() -> None:
    one = canonical_params([("amount", "1"), ("currency", "usd")])
    assert one == canonical_params([("currency", "usd"), ("amount", "1")])
    assert one != canonical_params([("currency", "usd"), ("amount", "2")])


def test_luhn() -> None:
    assert luhn_ok("4242424242424242")
    assert not luhn_ok("4242424242424243")


# --- SPT verdicts --------------------------------------------------------------------


def judge(snapshot, *, network_id="profile_shop", amount=500, currency="usd", now=NOW):
    return judge_spt(
        snapshot, token="spt_1", network_id=network_id, amount=amount, currency=currency, now=now
    )


def test_an_spt_within_its_limits_settles() -> None:
    assert judge(spt()) is None
    assert judge(spt(), amount=1) is None


def test_unknown_and_foreign_spts_look_the_same_and_touch_nothing() -> None:
    unknown = judge(None)
    foreign = judge(spt(), network_id="profile_other")
    for refusal in (unknown, foreign):
        assert refusal is not None
        assert refusal.effect is Effect.NONE
        assert refusal.error.code == "resource_missing"
    assert unknown.error.to_body() == foreign.error.to_body()


@pytest.mark.parametrize(
    ("snapshot", "kwargs", "code", "effect"),
    [
        (spt(consumed=True), {}, "shared_payment_token_consumed", Effect.NONE),
        (spt(), {"now": NOW + timedelta(hours=1)}, "shared_payment_token_expired", Effect.NONE),
        (spt(usable=False), {}, "shared_payment_token_revoked", Effect.NONE),
        (spt(), {"amount": 501}, "amount_too_large", Effect.BURN),
        (spt(), {"currency": "eur"}, "currency_mismatch", Effect.BURN),
    ],
)
def test_spt_refusals(snapshot, kwargs, code, effect) -> None:
    refusal = judge(snapshot, **kwargs)
    assert refusal is not None
    assert (refusal.error.code, refusal.effect, refusal.error.status) == (code, effect, 400)


# --- card verdicts -------------------------------------------------------------------


def test_a_matching_card_within_its_approval_settles() -> None:
    assert judge_card(card(), attempt(), amount=2500, currency="usd", now=NOW) is None


def test_a_wrong_cvc_counts_an_attempt_without_burning_until_the_limit() -> None:
    wrong = attempt(cvc="124")
    first = judge_card(card(), wrong, amount=100, currency="usd", now=NOW)
    assert first is not None
    # The merchant gets the generic decline; the real reason is kept for the spend request.
    assert (first.error.code, first.error.decline_code, first.effect) == (
        "card_declined",
        "generic_decline",
        Effect.ATTEMPT,
    )
    assert first.reason is not None
    assert (first.reason.code, first.reason.decline_code) == ("incorrect_cvc", "incorrect_cvc")
    last = judge_card(
        card(failed_attempts=MAX_FAILED_CARD_ATTEMPTS - 1),
        wrong,
        amount=100,
        currency="usd",
        now=NOW,
    )
    assert last is not None and last.effect is Effect.BURN
    assert last.error.decline_code == "generic_decline"
    assert last.reason is not None and last.reason.decline_code == "incorrect_cvc"


def test_a_wrong_expiry_is_declined_as_an_attempt() -> None:
    refusal = judge_card(card(), attempt(exp_year=2032), amount=100, currency="usd", now=NOW)
    assert refusal is not None
    assert (refusal.error.code, refusal.effect) == ("card_declined", Effect.ATTEMPT)


@pytest.mark.parametrize(
    ("snapshot", "kwargs", "code", "decline_code", "effect"),
    [
        (None, {}, "card_declined", "generic_decline", Effect.NONE),
        (card(consumed=True), {}, "card_declined", "generic_decline", Effect.NONE),
        (card(usable=False), {}, "card_declined", "generic_decline", Effect.NONE),
        # Used and expired cards answer the generic decline (docs/security.md).
        (
            card(),
            {"now": NOW + timedelta(hours=2)},
            "card_declined",
            "generic_decline",
            Effect.NONE,
        ),
        (card(), {"amount": 2501}, "card_declined", "invalid_amount", Effect.BURN),
        (card(), {"currency": "eur"}, "card_declined", "currency_not_supported", Effect.BURN),
    ],
)
def test_card_refusals(snapshot, kwargs, code, decline_code, effect) -> None:
    args = {"amount": 100, "currency": "usd", "now": NOW} | kwargs
    refusal = judge_card(snapshot, attempt(), **args)
    assert refusal is not None
    assert refusal.error.status == 402 and refusal.error.type == "card_error"
    assert (refusal.error.code, refusal.error.decline_code, refusal.effect) == (
        code,
        decline_code,
        effect,
    )
    assert CARD_NUMBER not in str(refusal.error.to_body())


def test_payment_status_details_shapes() -> None:
    assert payment_status_details(amount=5, currency="usd", created=NOW) == {
        "outcome": "success",
        "amount": 5,
        "currency": "usd",
        "created": int(NOW.timestamp()),
    }
    failed = payment_status_details(
        amount=5,
        currency="usd",
        created=NOW,
        error=judge_card(card(), attempt(), amount=9999, currency="usd", now=NOW).error,
    )
    assert failed["outcome"] == "failure"
    assert (failed["code"], failed["decline_code"]) == ("card_declined", "invalid_amount")
