"""Pure rules of the Stripe-compatible surface: list parameters, creating without
``confirm``, confirming later, canceling, and the PaymentMethod object."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.payment_intent_params import (
    PaymentIntentConfirm,
    confirmation_of,
    parse_cancel,
    parse_payment_intent_confirm,
    parse_payment_intent_create,
)
from link_cli.wallet.domain.stripe_errors import StripeError
from link_cli.wallet.domain.stripe_form import decode_form
from link_cli.wallet.domain.stripe_list import CreatedRange, ListParams, parse_list
from link_cli.wallet.domain.stripe_objects import payment_method_object

CARD = (
    "payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242"
    "&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=31"
    "&payment_method_data[card][cvc]=123"
)


def form(query: str) -> dict:
    return decode_form(parse_qsl(query, keep_blank_values=True))


def refusal(call, *args) -> StripeError:
    with pytest.raises(StripeError) as caught:
        call(*args)
    return caught.value


# --- list parameters ----------------------------------------------------------------


def test_list_defaults_and_cursors() -> None:
    assert parse_list({}) == ListParams(limit=10)
    params = parse_list(form("limit=100&starting_after=pi_1"))
    assert (params.limit, params.starting_after, params.ending_before) == (100, "pi_1", None)
    assert parse_list(form("ending_before=pi_2")).ending_before == "pi_2"


@pytest.mark.parametrize(
    ("query", "created"),
    [
        ("created=100", CreatedRange(100, 101)),
        ("created[gte]=100", CreatedRange(100, None)),
        ("created[gt]=100", CreatedRange(101, None)),
        ("created[lt]=100", CreatedRange(None, 100)),
        ("created[lte]=100", CreatedRange(None, 101)),
        ("created[gt]=5&created[gte]=10&created[lt]=50&created[lte]=20", CreatedRange(10, 21)),
        ("created[lte]=253402300798", CreatedRange(None, 253402300799)),
    ],
)
def test_created_bounds_are_half_open_ranges_of_whole_seconds(
    query: str, created: CreatedRange
) -> None:
    assert parse_list(form(query)).created == created


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("limit=0", "parameter_invalid_integer", "limit"),
        ("limit=101", "parameter_invalid_integer", "limit"),
        ("limit=ten", "parameter_invalid_integer", "limit"),
        ("limit=-1", "parameter_invalid_integer", "limit"),
        ("limit[0]=1", "parameter_invalid_integer", "limit"),
        ("starting_after=pi_1&ending_before=pi_2", "parameter_invalid", "ending_before"),
        ("starting_after[x]=pi_1", "parameter_invalid", "starting_after"),
        ("created=soon", "parameter_invalid_integer", "created"),
        ("created[after]=1", "parameter_unknown", "created[after]"),
        ("created[gte]=99999999999999", "parameter_invalid_integer", "created[gte]"),
        ("created[gte]=999999999999", "parameter_invalid_integer", "created[gte]"),
        ("created[gt]=253402300799", "parameter_invalid_integer", "created[gt]"),
        ("created=253402300799", "parameter_invalid_integer", "created"),
        ("created[0]=1", "parameter_invalid", "created"),
        ("customer=cus_1", "parameter_unknown", "customer"),
    ],
)
def test_bad_list_parameters_name_the_parameter(query: str, code: str, param: str) -> None:
    error = refusal(parse_list, form(query))
    assert (error.status, error.type, error.code, error.param) == (
        400,
        "invalid_request_error",
        code,
        param,
    )


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=16), max_size=4))
def test_any_query_is_parsed_or_refused_in_stripes_shape(query: dict[str, str]) -> None:
    try:
        parse_list(decode_form(query.items()))
    except StripeError as error:
        assert error.status == 400 and error.type == "invalid_request_error"


# --- create without confirm, confirm later, cancel --------------------------------------


def test_created_without_confirm_examines_nothing() -> None:
    draft = parse_payment_intent_create(form("amount=500&currency=usd"))
    assert (draft.confirm, draft.spt, draft.card) == (False, None, None)
    with_spt = parse_payment_intent_create(
        form("amount=500&currency=usd&confirm=false&shared_payment_granted_token=spt_1")
    )
    assert (with_spt.confirm, with_spt.spt) == (False, "spt_1")


def test_confirm_takes_the_credential_given_now_or_the_one_given_at_creation() -> None:
    draft = parse_payment_intent_create(
        form("amount=500&currency=usd&shared_payment_granted_token=spt_1")
    )
    assert confirmation_of(draft, PaymentIntentConfirm(None, None)).spt == "spt_1"
    now = confirmation_of(draft, parse_payment_intent_confirm(form(CARD)))
    assert now.spt is None and now.card is not None and now.card.last4 == "4242"
    assert now.amount == 500 and now.confirm
    later = confirmation_of(
        draft, parse_payment_intent_confirm(form("shared_payment_granted_token=spt_2"))
    )
    assert later.spt == "spt_2"


def test_confirm_without_any_credential_is_an_unexpected_state() -> None:
    draft = parse_payment_intent_create(form("amount=500&currency=usd"))
    error = refusal(confirmation_of, draft, PaymentIntentConfirm(None, None))
    assert (error.status, error.code) == (400, "payment_intent_unexpected_state")


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("amount=5", "parameter_unknown", "amount"),
        (
            "shared_payment_granted_token=s&" + CARD,
            "parameter_missing",
            "shared_payment_granted_token",
        ),
        (
            "shared_payment_granted_token=",
            "parameter_invalid_string",
            "shared_payment_granted_token",
        ),
        (
            "payment_method_types[0]=sepa_debit",
            "payment_method_type_unsupported",
            "payment_method_types",
        ),
    ],
)
def test_bad_confirm_parameters(query: str, code: str, param: str) -> None:
    error = refusal(parse_payment_intent_confirm, form(query))
    assert (error.status, error.code, error.param) == (400, code, param)


def test_a_malformed_card_at_confirm_is_a_card_error_like_at_creation() -> None:
    error = refusal(parse_payment_intent_confirm, form(CARD.replace("4242424242424242", "4242")))
    assert (error.status, error.type, error.code) == (402, "card_error", "incorrect_number")


def test_cancellation_reasons() -> None:
    assert parse_cancel({}) is None
    assert parse_cancel(form("cancellation_reason=abandoned")) == "abandoned"
    assert refusal(parse_cancel, form("cancellation_reason=bored")).param == "cancellation_reason"
    assert refusal(parse_cancel, form("amount=1")).code == "parameter_unknown"


def test_a_payment_method_shows_only_what_the_presenter_typed() -> None:
    method = payment_method_object(
        id="pm_1",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2031,
        livemode=False,
    )
    assert method["object"] == "payment_method" and method["type"] == "card"
    assert method["card"]["last4"] == "4242" and method["card"]["brand"] == "visa"
    assert set(method["card"]) >= {"brand", "last4", "exp_month", "exp_year"}
    assert "number" not in method["card"] and "cvc" not in method["card"]
