"""Validation of create and update bodies: one clear error per kind of bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spend_builders import CONTEXT, T0

from link_cli.money import CURRENCY_DECIMALS
from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.spend_request import CredentialType
from link_cli.wallet.domain.validation import (
    TOTAL_TYPES,
    parse_approval_details,
    parse_create_body,
    parse_update_body,
)

CARD_BODY: dict[str, Any] = {
    "credential_type": "card",
    "amount": 5000,
    "currency": "usd",
    "merchant_name": "Test Merchant",
    "merchant_url": "https://example.com",
    "context": CONTEXT,
    "line_items": [{"name": "Widget", "quantity": 1, "unit_amount": 5000}],
    "totals": [{"type": "total", "display_text": "Total", "amount": 5000}],
    "request_approval": True,
}
SPT_BODY: dict[str, Any] = {
    "payment_details": "csmrpd_abc",
    "credential_type": "shared_payment_token",
    "network_id": "profile_seller_1",
    "amount": 500,
    "currency": "usd",
    "context": CONTEXT,
    "request_approval": True,
    "test": True,
}
APPROVAL = {
    "approved_at": int(T0.timestamp()),
    "approval_method": "click",
    "app_name": "Shopping Assistant",
    "external_user_id": "user-42",
}


def create(body: object, max_amount: int = 50000) -> Any:
    return parse_create_body(body, max_amount=max_amount, now=T0)


def error_of(body: object, **kwargs: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        create(body, **kwargs)
    return caught.value


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def test_the_official_clients_card_body_is_accepted() -> None:
    draft = create(CARD_BODY)
    assert draft.credential_type is CredentialType.CARD
    assert (draft.amount, draft.currency, draft.merchant_name) == (5000, "usd", "Test Merchant")
    assert draft.line_items == [{"name": "Widget", "quantity": 1, "unit_amount": 5000}]
    assert draft.totals == CARD_BODY["totals"]
    assert draft.request_approval is True
    assert draft.test is False
    assert draft.payment_method_id is None


def test_mpp_pays_spt_body_is_accepted() -> None:
    draft = create(SPT_BODY)
    assert draft.credential_type is CredentialType.SHARED_PAYMENT_TOKEN
    assert draft.network_id == "profile_seller_1"
    assert draft.payment_method_id == "csmrpd_abc"
    assert draft.test is True
    assert draft.merchant_name is None


def test_defaults_card_and_usd() -> None:
    draft = create(with_(CARD_BODY, credential_type=..., currency=...))
    assert (draft.credential_type, draft.currency) == (CredentialType.CARD, "usd")


def test_currency_is_normalised_to_lowercase() -> None:
    assert create(with_(CARD_BODY, currency="EUR")).currency == "eur"


def test_null_optional_fields_count_as_absent() -> None:
    draft = create(with_(CARD_BODY, line_items=None, metadata=None, test=None))
    assert (draft.line_items, draft.metadata, draft.test) == ([], {}, False)


@pytest.mark.parametrize(
    ("body", "code", "status", "param", "message"),
    [
        (["not", "an", "object"], "body_invalid", 400, "body", "JSON object"),
        (with_(CARD_BODY, context=...), "parameter_missing", 400, "context", "context"),
        (
            with_(CARD_BODY, context="too short"),
            "parameter_invalid",
            422,
            "context",
            "at least 100 characters long (got 9)",
        ),
        (with_(CARD_BODY, context=" " * 150), "parameter_invalid", 422, "context", "at least 100"),
        (with_(CARD_BODY, context=123), "parameter_invalid_type", 400, "context", "a string"),
        (with_(CARD_BODY, amount=...), "parameter_missing", 400, "amount", "amount"),
        (with_(CARD_BODY, amount=0), "parameter_invalid", 422, "amount", "positive integer"),
        (with_(CARD_BODY, amount=-5), "parameter_invalid", 422, "amount", "positive integer"),
        (with_(CARD_BODY, amount=50001), "parameter_invalid", 422, "amount", "at most 50000"),
        (with_(CARD_BODY, amount=12.5), "parameter_invalid_type", 400, "amount", "an integer"),
        (with_(CARD_BODY, amount=100.0), "parameter_invalid_type", 400, "amount", "minor units"),
        (with_(CARD_BODY, amount="5000"), "parameter_invalid_type", 400, "amount", "a string"),
        (with_(CARD_BODY, amount=True), "parameter_invalid_type", 400, "amount", "a boolean"),
        (with_(CARD_BODY, currency="us"), "parameter_invalid", 422, "currency", "three-letter"),
        (with_(CARD_BODY, currency="usdx"), "parameter_invalid", 422, "currency", "three-letter"),
        (with_(CARD_BODY, currency="u$d"), "parameter_invalid", 422, "currency", "three-letter"),
        (with_(CARD_BODY, currency="ü≈d"), "parameter_invalid", 422, "currency", "three-letter"),
        (
            with_(CARD_BODY, credential_type="bank"),
            "parameter_invalid",
            422,
            "credential_type",
            "card, shared_payment_token",
        ),
        (
            with_(CARD_BODY, merchant_name=...),
            "parameter_missing",
            400,
            "merchant_name",
            "merchant_name is required when credential_type is card",
        ),
        (
            with_(CARD_BODY, merchant_url=...),
            "parameter_missing",
            400,
            "merchant_url",
            "merchant_url is required when credential_type is card",
        ),
        (
            with_(CARD_BODY, merchant_url="javascript:alert(1)"),
            "parameter_invalid",
            422,
            "merchant_url",
            "http or https URL",
        ),
        (
            with_(CARD_BODY, merchant_url="https://"),
            "parameter_invalid",
            422,
            "merchant_url",
            "http or https URL",
        ),
        (
            with_(CARD_BODY, merchant_name=""),
            "parameter_invalid",
            422,
            "merchant_name",
            "must not be empty",
        ),
        (
            with_(CARD_BODY, merchant_name="Legit\u202eerots"),
            "parameter_invalid",
            422,
            "merchant_name",
            "control or text-direction",
        ),
        (
            with_(CARD_BODY, merchant_name="Shop\x1b[2J"),
            "parameter_invalid",
            422,
            "merchant_name",
            "control",
        ),
        (
            with_(CARD_BODY, network_id="profile_x"),
            "parameter_not_allowed",
            400,
            "network_id",
            "only be used when credential_type is shared_payment_token",
        ),
        (
            with_(SPT_BODY, network_id=...),
            "parameter_missing",
            400,
            "network_id",
            "network_id is required when credential_type is shared_payment_token",
        ),
        (
            with_(SPT_BODY, merchant_name="Shop"),
            "parameter_not_allowed",
            400,
            "merchant_name",
            "cannot be used when credential_type is shared_payment_token",
        ),
        (
            with_(SPT_BODY, merchant_url="https://shop.example"),
            "parameter_not_allowed",
            400,
            "merchant_url",
            "cannot be used",
        ),
        (
            with_(SPT_BODY, network_id="has space"),
            "parameter_invalid",
            422,
            "network_id",
            "identifier",
        ),
        (
            with_(CARD_BODY, expires_at=1720100000),
            "parameter_unsupported",
            400,
            "expires_at",
            "expires_at is not supported for this client",
        ),
        (
            with_(CARD_BODY, execution_method="link_pay_token"),
            "parameter_missing",
            400,
            "merchant_account_id",
            "merchant_account_id is required when execution_method is link_pay_token",
        ),
        (
            with_(CARD_BODY, merchant_account_id="acct_1"),
            "parameter_missing",
            400,
            "execution_method",
            "execution_method link_pay_token is required when merchant_account_id",
        ),
        (with_(CARD_BODY, approve=True), "parameter_unknown", 400, "approve", "unknown parameter"),
        (
            with_(CARD_BODY, request_approval="yes"),
            "parameter_invalid_type",
            400,
            "request_approval",
            "a boolean",
        ),
        (with_(CARD_BODY, test=1), "parameter_invalid_type", 400, "test", "a boolean"),
        (
            with_(CARD_BODY, payment_details=42),
            "parameter_invalid_type",
            400,
            "payment_details",
            "a string",
        ),
    ],
)
def test_bad_create_bodies(body: object, code: str, status: int, param: str, message: str) -> None:
    error = error_of(body)
    assert (error.code, error.status, error.extra["param"]) == (code, status, param)
    assert message in error.message


def test_operator_cap_is_used_for_the_amount() -> None:
    error = error_of(with_(CARD_BODY, amount=2000), max_amount=1000)
    assert error.message == "amount must be at most 1000 (got 2000)."


# -- line items and totals -----------------------------------------------------------------


def item(**fields: Any) -> dict[str, Any]:
    return with_(CARD_BODY, line_items=[{"name": "Widget", **fields}])


def test_full_line_item_is_kept_in_schema_order() -> None:
    full = {
        "name": "Widget",
        "url": "https://shop.example/w",
        "image_url": "https://shop.example/w.png",
        "description": "A blue widget.\nSecond line.",
        "sku": "W-1",
        "quantity": 2,
        "unit_amount": 2500,
        "product_url": "http://shop.example/p/w",
        "totals": [{"type": "tax", "display_text": "Tax", "amount": 10}],
    }
    assert create(with_(CARD_BODY, line_items=[full])).line_items == [full]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (with_(CARD_BODY, line_items={"name": "x"}), "parameter_invalid_type", "line_items"),
        (with_(CARD_BODY, line_items=["Widget"]), "parameter_invalid_type", "line_items[0]"),
        (
            with_(CARD_BODY, line_items=[{"quantity": 1}]),
            "parameter_missing",
            "line_items[0][name]",
        ),
        (item(name=""), "parameter_invalid", "line_items[0][name]"),
        (item(quantity=-1), "parameter_invalid", "line_items[0][quantity]"),
        (item(quantity=1.5), "parameter_invalid_type", "line_items[0][quantity]"),
        (item(unit_amount="5"), "parameter_invalid_type", "line_items[0][unit_amount]"),
        (item(sku=7), "parameter_invalid_type", "line_items[0][sku]"),
        (item(url="ftp://x.example"), "parameter_invalid", "line_items[0][url]"),
        (item(colour="blue"), "parameter_unknown", "line_items[0][colour]"),
        (
            with_(CARD_BODY, line_items=[{"name": "a"}] * 101),
            "parameter_invalid",
            "line_items",
        ),
        (
            with_(CARD_BODY, totals=[{"type": "vat", "display_text": "VAT", "amount": 1}]),
            "parameter_invalid",
            "totals[0][type]",
        ),
        (
            with_(CARD_BODY, totals=[{"type": "tax", "display_text": "Tax"}]),
            "parameter_missing",
            "totals[0][amount]",
        ),
        (
            with_(CARD_BODY, totals=[{"type": "tax", "display_text": 5, "amount": 1}]),
            "parameter_invalid_type",
            "totals[0][display_text]",
        ),
        (
            with_(CARD_BODY, totals=[{"type": "tax", "display_text": "T", "amount": "1"}]),
            "parameter_invalid_type",
            "totals[0][amount]",
        ),
        (
            with_(CARD_BODY, totals=[{"type": "tax", "display_text": "T", "amount": 1, "x": 1}]),
            "parameter_unknown",
            "totals[0][x]",
        ),
        (
            item(totals=[{"type": "nope", "display_text": "T", "amount": 1}]),
            "parameter_invalid",
            "line_items[0][totals][0][type]",
        ),
    ],
)
def test_bad_line_items_and_totals(body: dict[str, Any], code: str, param: str) -> None:
    error = error_of(body)
    assert (error.code, error.extra["param"]) == (code, param)


@pytest.mark.parametrize("total_type", TOTAL_TYPES)
def test_every_documented_total_type_is_accepted(total_type: str) -> None:
    # A `total` must be the amount charged; the other types may be anything (even negative).
    amount = CARD_BODY["amount"] if total_type == "total" else -100
    totals = [{"type": total_type, "display_text": total_type, "amount": amount}]
    assert create(with_(CARD_BODY, totals=totals)).totals == totals


# -- metadata -------------------------------------------------------------------------------


def test_metadata_at_its_limits_is_accepted() -> None:
    metadata = {f"{i:02d}".ljust(40, "k"): "v" * 500 for i in range(50)}
    assert create(with_(CARD_BODY, metadata=metadata)).metadata == metadata


@pytest.mark.parametrize(
    ("metadata", "code", "message"),
    [
        ({f"k{i}": "v" for i in range(51)}, "parameter_invalid", "at most 50 keys"),
        ({"k" * 41: "v"}, "parameter_invalid", "1 to 40 characters"),
        ({"": "v"}, "parameter_invalid", "1 to 40 characters"),
        ({"order": "v" * 501}, "parameter_invalid", "at most 500 characters"),
        ({"order": 12}, "parameter_invalid_type", "a string"),
        ({"order": None}, "parameter_invalid_type", "a string"),
        ({"order": {"nested": "x"}}, "parameter_invalid_type", "a string"),
        (["order:1"], "parameter_invalid_type", "an object"),
    ],
)
def test_bad_metadata(metadata: object, code: str, message: str) -> None:
    error = error_of(with_(CARD_BODY, metadata=metadata))
    assert error.code == code
    assert message in error.message
    assert error.extra["param"].startswith("metadata")


# -- approval details -----------------------------------------------------------------------


def test_approval_details_required_and_optional_fields() -> None:
    details = {
        **APPROVAL,
        "ip_address": "203.0.113.5",
        "user_agent": "Agent/1.0",
        "device_type": "mobile",
        "agent_log_id": "log_1",
        "external_user_name": "Ada",
        "external_session_id": "sess_1",
        "authentication_method": "passkey",
    }
    assert parse_approval_details(details, now=T0) == details
    assert create(with_(CARD_BODY, approval_details=APPROVAL)).approval_details == APPROVAL


@pytest.mark.parametrize(
    "missing", ["approved_at", "approval_method", "app_name", "external_user_id"]
)
def test_approval_details_missing_a_required_field(missing: str) -> None:
    details = with_(APPROVAL, **{missing: ...})
    with pytest.raises(InvalidRequest) as caught:
        parse_approval_details(details, now=T0)
    assert caught.value.code == "parameter_missing"
    assert caught.value.extra["param"] == f"approval_details[{missing}]"


@pytest.mark.parametrize(
    ("changes", "code", "param"),
    [
        ({"approval_method": "telepathy"}, "parameter_invalid", "approval_method"),
        ({"approved_at": "yesterday"}, "parameter_invalid_type", "approved_at"),
        ({"approved_at": int(T0.timestamp()) + 3600}, "parameter_invalid", "approved_at"),
        ({"device_type": "watch"}, "parameter_invalid", "device_type"),
        ({"authentication_method": "pin"}, "parameter_invalid", "authentication_method"),
        ({"app_name": ""}, "parameter_invalid", "app_name"),
        ({"favourite_colour": "blue"}, "parameter_unknown", "favourite_colour"),
    ],
)
def test_bad_approval_details(changes: dict[str, Any], code: str, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_approval_details({**APPROVAL, **changes}, now=T0)
    assert (caught.value.code, caught.value.extra["param"]) == (code, f"approval_details[{param}]")


def test_approval_details_must_be_an_object() -> None:
    error = error_of(with_(CARD_BODY, approval_details="approved"))
    assert (error.code, error.extra["param"]) == ("parameter_invalid_type", "approval_details")


# -- update ---------------------------------------------------------------------------------


def test_update_takes_any_subset() -> None:
    assert parse_update_body({}, max_amount=50000) == parse_update_body({}, max_amount=50000)
    changes = parse_update_body(
        {
            "payment_details": "csmrpd_2",
            "amount": 4000,
            "merchant_url": "https://b.example",
            "profile_id": "profile_2",
            "currency": "GBP",
            "line_items": [{"name": "Gadget"}],
            "totals": [],
        },
        max_amount=50000,
    )
    assert changes.payment_method_id == "csmrpd_2"
    assert (changes.amount, changes.currency) == (4000, "gbp")
    assert changes.network_id == "profile_2"
    assert changes.line_items == [{"name": "Gadget"}]
    assert changes.totals == []


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ("amount=5", "body_invalid", "body"),
        ({"merchant_name": "New"}, "parameter_unknown", "merchant_name"),
        ({"credential_type": "card"}, "parameter_unknown", "credential_type"),
        ({"context": CONTEXT}, "parameter_unknown", "context"),
        ({"merchant_id": "m_1"}, "parameter_not_allowed", "merchant_id"),
        ({"expires_at": 5}, "parameter_unsupported", "expires_at"),
        ({"amount": 0}, "parameter_invalid", "amount"),
        ({"amount": 60000}, "parameter_invalid", "amount"),
        ({"currency": "dollars"}, "parameter_invalid", "currency"),
        ({"merchant_url": "not a url"}, "parameter_invalid", "merchant_url"),
        ({"line_items": [{}]}, "parameter_missing", "line_items[0][name]"),
    ],
)
def test_bad_update_bodies(body: object, code: str, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_update_body(body, max_amount=50000)
    assert (caught.value.code, caught.value.extra["param"]) == (code, param)


# -- properties -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [*sorted(CARD_BODY), "metadata", "approval_details", "network_id", "payment_details", "x"]
)


@settings(deadline=None)
@given(changes=st.dictionaries(field_names, json_values, max_size=4))
def test_any_json_either_validates_or_raises_a_4xx_naming_a_field(
    changes: dict[str, Any],
) -> None:
    body = {**CARD_BODY, **changes}
    try:
        draft = create(body)
    except InvalidRequest as error:
        assert error.status in (400, 422)
        assert error.extra["param"]
        assert error.message.endswith((".", "client"))
    else:
        assert 1 <= draft.amount <= 50000
        assert len(draft.currency) == 3 and draft.currency.islower()
        assert len(draft.context.strip()) >= 100


@settings(deadline=None)
@given(amount=st.integers(min_value=-(10**12), max_value=10**12))
def test_amount_bounds(amount: int) -> None:
    body = with_(CARD_BODY, amount=amount, totals=...)
    if 1 <= amount <= 50000:
        assert create(body).amount == amount
    else:
        assert error_of(body).status == 422


@settings(deadline=None)
@given(
    currency=st.one_of(
        st.text(max_size=5),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzKWDUS", min_size=3, max_size=3),
        st.sampled_from(sorted(CURRENCY_DECIMALS)).map(str.upper),
    )
)
def test_currency_is_an_iso_4217_code(currency: str) -> None:
    body = with_(CARD_BODY, currency=currency)
    if currency.isascii() and currency.lower() in CURRENCY_DECIMALS:
        assert create(body).currency == currency.lower()
    else:
        assert error_of(body).code == "parameter_invalid"


# -- Link Pay Tokens (contract §3.5 rules a–g, as the wallet words them) -------------------

LPT_BODY: dict[str, Any] = with_(
    CARD_BODY,
    merchant_name=...,
    merchant_url=...,
    execution_method="link_pay_token",
    merchant_account_id="acct_1234567890abcdef",
)


def test_a_link_pay_token_body_is_accepted_without_merchant_name_or_url() -> None:
    draft = create(LPT_BODY)
    assert (draft.execution_method, draft.merchant_account_id) == (
        "link_pay_token",
        "acct_1234567890abcdef",
    )
    assert (draft.merchant_name, draft.merchant_url) == (None, None)
    assert create(with_(LPT_BODY, merchant_account_id="  acct_x  ")).merchant_account_id == (
        "acct_x"
    )


@pytest.mark.parametrize(
    ("changes", "code", "param", "message"),
    [
        (  # a
            {"execution_method": ...},
            "parameter_missing",
            "execution_method",
            "execution_method link_pay_token is required when merchant_account_id is provided.",
        ),
        (  # a: the only execution method
            {"execution_method": "card"},
            "parameter_invalid",
            "execution_method",
            "link_pay_token",
        ),
        (  # b
            {"merchant_account_id": "   "},
            "parameter_missing",
            "merchant_account_id",
            "merchant_account_id is required when execution_method is link_pay_token.",
        ),
        (  # c
            {"credential_type": "shared_payment_token"},
            "parameter_not_allowed",
            "credential_type",
            "credential_type must be card when execution_method is link_pay_token.",
        ),
        (  # d
            {"network_id": "profile_1"},
            "parameter_not_allowed",
            "network_id",
            "network_id cannot be used when execution_method is link_pay_token.",
        ),
        (  # e
            {"test": True},
            "parameter_not_allowed",
            "test",
            "test cannot be used when execution_method is link_pay_token.",
        ),
        (  # g
            {"merchant_name": "Shop"},
            "parameter_not_allowed",
            "merchant_name",
            "merchant_name and merchant_url cannot be used when execution_method is link_pay_token",
        ),
        (  # g
            {"merchant_url": "https://shop.example"},
            "parameter_not_allowed",
            "merchant_url",
            "the merchant is resolved from merchant_account_id",
        ),
    ],
)
def test_link_pay_token_rules(changes: dict[str, Any], code: str, param: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        create(with_(LPT_BODY, **changes))
    assert (caught.value.code, caught.value.extra["param"]) == (code, param)
    assert message in caught.value.message
