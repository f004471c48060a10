"""Resources: exact paths, queries and bodies of contract §7.1, and result normalisation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.sdk.stub import RecordedRequest, StubResponse, StubServer

from link_cli.sdk import LinkApiError, LinkClient, LinkSdkError

StartStub = Callable[[Callable[[RecordedRequest], StubResponse]], StubServer]

SPEND_REQUEST = {
    "id": "lsrq_1",
    "status": "pending_approval",
    "approval_url": "http://w/approve/lsrq_1",
}


def client_for(
    stub: StartStub, payload: object, status: int = 200
) -> tuple[LinkClient, StubServer]:
    server = stub(lambda r: StubResponse.json(payload, status))
    return LinkClient(api_base_url=server.url, access_token="t"), server


def test_list_returns_data_and_sends_include_history_only_when_asked(stub: StartStub) -> None:
    client, server = client_for(stub, {"data": [SPEND_REQUEST], "has_more": False})
    assert client.spend_requests.list() == [SPEND_REQUEST]
    client.spend_requests.list(include_history=True)
    assert [r.target for r in server.requests] == [
        "/spend_requests",
        "/spend_requests?include_history=true",
    ]


def test_list_without_data_is_empty(stub: StartStub) -> None:
    client, _ = client_for(stub, {})
    assert client.spend_requests.list() == []


def test_list_with_a_non_array_data_is_an_invalid_shape(stub: StartStub) -> None:
    client, _ = client_for(stub, {"data": {"id": "x"}})
    with pytest.raises(LinkSdkError, match=r"invalid response shape: Expected data to be an array"):
        client.spend_requests.list()


def test_create_posts_the_body_without_approve(stub: StartStub) -> None:
    client, server = client_for(stub, SPEND_REQUEST)
    body = {"credential_type": "card", "amount": 5000, "request_approval": True, "approve": True}
    assert client.spend_requests.create(body) == SPEND_REQUEST
    client.spend_requests.create(body, delegated=True)
    plain, delegated = server.requests
    assert (plain.method, plain.path) == ("POST", "/spend_requests")
    assert (delegated.method, delegated.path) == ("POST", "/spend_requests/create_delegated")
    for request in (plain, delegated):
        assert request.json() == {
            "credential_type": "card",
            "amount": 5000,
            "request_approval": True,
        }
    assert body["approve"] is True  # the caller's dict is untouched


def test_create_keeps_key_order_of_the_body(stub: StartStub) -> None:
    client, server = client_for(stub, SPEND_REQUEST)
    client.spend_requests.create(
        {"payment_details": "csmrpd_1", "credential_type": "card", "amount": 1}
    )
    assert list(server.requests[0].json()) == ["payment_details", "credential_type", "amount"]


def test_update_request_approval_and_cancel_paths(stub: StartStub) -> None:
    client, server = client_for(stub, SPEND_REQUEST)
    client.spend_requests.update("lsrq_1", {"amount": 10})
    client.spend_requests.request_approval("lsrq_1")
    client.spend_requests.cancel("lsrq_1")
    assert [(r.method, r.path, r.body) for r in server.requests] == [
        ("POST", "/spend_requests/lsrq_1", b'{"amount": 10}'),
        ("POST", "/spend_requests/lsrq_1/request_approval", b""),
        ("POST", "/spend_requests/lsrq_1/cancel", b""),
    ]


def test_retrieve_joins_include_with_an_encoded_comma(stub: StartStub) -> None:
    client, server = client_for(stub, SPEND_REQUEST)
    client.spend_requests.retrieve("lsrq_1", include=["card", "shared_payment_token"])
    client.spend_requests.retrieve("lsrq_1")
    assert [r.target for r in server.requests] == [
        "/spend_requests/lsrq_1?include=card%2Cshared_payment_token",
        "/spend_requests/lsrq_1",
    ]


def test_ids_cannot_escape_their_path_segment(stub: StartStub) -> None:
    client, server = client_for(stub, SPEND_REQUEST)
    client.spend_requests.retrieve("../payment-details?x=1")
    assert server.requests[0].target == "/spend_requests/..%2Fpayment-details%3Fx%3D1"


def test_legacy_string_spt_is_normalised_and_text_sanitised(stub: StartStub) -> None:
    payload = {
        **SPEND_REQUEST,
        "status": "approved",
        "shared_payment_token": "spt_legacy",
        "merchant_name": "\x1b[2JEvil\rShop",
        "line_items": [{"name": "\x07Widget", "quantity": 1}],
    }
    client, _ = client_for(stub, payload)
    result = client.spend_requests.retrieve("lsrq_1", include=["shared_payment_token"])
    assert result is not None
    assert result["shared_payment_token"] == {"id": "spt_legacy"}
    assert result["merchant_name"] == "EvilShop"
    assert result["line_items"] == [{"name": "Widget", "quantity": 1}]


def test_object_spt_passes_through(stub: StartStub) -> None:
    spt = {"id": "spt_1", "valid_until": "2030-01-01T00:00:00Z"}
    client, _ = client_for(stub, {**SPEND_REQUEST, "shared_payment_token": spt})
    assert client.spend_requests.retrieve("lsrq_1")["shared_payment_token"] == spt  # type: ignore[index]


def test_request_approval_returns_whatever_object_the_server_sends(stub: StartStub) -> None:
    client, _ = client_for(stub, {"id": "lsrq_1", "approval_link": "http://w/a", "extra": 1})
    assert client.spend_requests.request_approval("lsrq_1") == {
        "id": "lsrq_1",
        "approval_link": "http://w/a",
        "extra": 1,
    }


def test_payment_methods_use_the_hyphenated_path(stub: StartStub) -> None:
    method = {"id": "csmrpd_1", "type": "card", "is_default": True, "nickname": "\x1b[1mMain"}
    client, server = client_for(stub, {"payment_details": [method]})
    assert client.payment_methods.list() == [{**method, "nickname": "Main"}]
    assert server.requests[0].path == "/payment-details"


def test_shipping_addresses_keep_nulls(stub: StartStub) -> None:
    record = {"id": "shpadr_1", "is_default": False, "nickname": None, "address": None}
    client, server = client_for(stub, {"shipping_addresses": [record]})
    assert client.shipping_addresses.list() == [record]
    assert server.requests[0].path == "/shipping_addresses"


def test_user_info(stub: StartStub) -> None:
    info = {
        "email": "jenny@example.com",
        "name": None,
        "first_name": "Jenny",
        "last_name": None,
        "phone": None,
    }
    client, server = client_for(stub, info)
    assert client.user_info.retrieve() == info
    assert server.requests[0].path == "/userinfo"


def test_account_family_error_message(stub: StartStub) -> None:
    client, _ = client_for(stub, {"error": "insufficient_scope", "message": "ignored"}, 403)
    with pytest.raises(LinkApiError) as caught:
        client.payment_methods.list()
    assert str(caught.value) == "Failed to list payment methods (403): insufficient_scope"


def test_transactions_query_order_and_renames(stub: StartStub) -> None:
    transaction = {
        "id": "txn_1",
        "source_id": None,
        "amount": -1250,
        "currency": "usd",
        "created_date": "2026-11-01",
        "description": "Coffee",
        "origin": "link",
        "category": None,
        "status": "succeeded",
        "unknown_field": "dropped",
    }
    client, server = client_for(stub, {"object": "list", "data": [transaction], "has_more": True})
    page = client.transactions.list(
        limit=10,
        date_start="2026-11-01",
        date_end="2026-11-30",
        origin="link",
        sources=["src_1", "src_2"],
    )
    assert server.requests[0].target == (
        "/transactions?limit=10&date_start=2026-11-01&date_end=2026-11-30&origin=link"
        "&sources%5B%5D=src_1&sources%5B%5D=src_2"
    )
    expected_item = {k: v for k, v in transaction.items() if k != "unknown_field"}
    assert page == {"object": "list", "data": [expected_item], "has_more": True}
    assert list(page) == ["object", "data", "has_more"]


def test_transactions_accept_a_bare_array_and_validate_fields(stub: StartStub) -> None:
    client, _ = client_for(stub, [{"id": "txn_1", "amount": "12"}])
    with pytest.raises(LinkSdkError, match=r"Expected transactions\[0\]\.source_id"):
        client.transactions.list()


def test_balances_put_sources_first_and_check_has_more(stub: StartStub) -> None:
    client, server = client_for(stub, {"data": [], "has_more": "no"})
    with pytest.raises(LinkSdkError, match="Expected has_more to be a boolean"):
        client.balances.list(sources=["src_1"], limit=5)
    assert server.requests[0].target == "/balances?sources%5B%5D=src_1&limit=5"


def test_sources_page_must_be_an_object(stub: StartStub) -> None:
    client, server = client_for(stub, [1, 2])
    with pytest.raises(
        LinkSdkError,
        match="Failed to list sources \\(200\\): invalid response shape: Expected response body to be an object",
    ):
        client.sources.list(starting_after="src_9")
    assert server.requests[0].target == "/sources?starting_after=src_9"


def test_report_error_uses_error_message_or_raw_body(stub: StartStub) -> None:
    client, server = client_for(stub, {"error": "flat"}, 400)
    with pytest.raises(LinkApiError) as caught:
        client.reports.create(
            {"domain": "shop.test", "outcome": "success", "spend_request_id": "lsrq_1"}
        )
    assert str(caught.value) == 'Failed to create report (400): {"error": "flat"}'
    assert server.requests[0].path == "/agent_observations"


def test_resources_are_created_once_and_cached() -> None:
    client = LinkClient(access_token="t", env={})
    assert client.spend_requests is client.spend_requests
    assert client.auth is client.auth
    assert client.payment_methods is client.payment_methods
