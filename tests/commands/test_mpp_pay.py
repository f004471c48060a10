"""`link-cli mpp pay <url>` (contract §3.15, §8.2–8.4), run as the real CLI against a
loopback merchant built on our server half."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.commands.mpp_fixtures import CONTEXT, TOKEN, LinkApi, cli_env, link_api, run_json
from tests.mpp.helpers import b64, payment
from tests.mpp.stub_merchant import (
    Answer,
    StubMerchant,
    expired_challenge,
    fixed,
    paid_route,
    running,
)

from link_cli.commands._context import Context
from link_cli.commands.mpp import pay as pay_handler
from link_cli.mpp import parse_authorization, parse_payment_receipt
from link_cli.mpp.server import payment_required_response


def session_route(merchant: StubMerchant, seen: Any) -> Answer:
    """402 with a stripe `session` challenge; 200 once any Payment credential arrives."""
    if "authorization" not in seen.headers:
        return merchant.challenge_answer(intent="session")
    return Answer(200, [("Content-Type", "application/json")], b'{"session":"open"}')


def tempo_only(merchant: StubMerchant, seen: Any) -> Answer:
    header = payment(method="tempo", request=b64({"amount": "1"}))
    return Answer(402, [("WWW-Authenticate", header)], b"")


def refuse_paid(merchant: StubMerchant, seen: Any) -> Answer:
    if "authorization" not in seen.headers:
        return merchant.challenge_answer()
    return Answer(402, [("Content-Type", "application/problem+json")], b'{"type":"consumed"}')


def hostile(merchant: StubMerchant, seen: Any) -> Answer:
    return Answer(200, [("X-Note", "a\x1b[2Jb")], b"\x1b]0;PWNED\x07Normal Store\r")


def no_method_types(merchant: StubMerchant, seen: Any) -> Answer:
    details = {"networkId": "profile_x", "paymentMethodTypes": []}
    return merchant.challenge_answer(
        request={"amount": "250", "currency": "usd", "methodDetails": details}
    )


def zero_price(merchant: StubMerchant, seen: Any) -> Answer:
    return merchant.challenge_answer(
        request={"amount": "0", "currency": "usd", "methodDetails": {"networkId": "profile_x"}}
    )


def several_offers(merchant: StubMerchant, seen: Any) -> Answer:
    """402 listing, in this order, a stale offer, another currency, another seller, and the
    one that fits the approval; the paid retry is verified against that last one."""
    if "authorization" in seen.headers:
        return paid_route()(merchant, seen)
    now = datetime.now(UTC)
    good = merchant.request_object()
    details = good["methodDetails"]
    offers = [
        merchant.payments.issue(
            method="stripe", intent="charge", request=good, expires=now - timedelta(minutes=1)
        ),
        merchant.payments.issue(
            method="stripe", intent="charge", request={**good, "currency": "eur"}
        ),
        merchant.payments.issue(
            method="stripe",
            intent="charge",
            request={**good, "methodDetails": {**details, "networkId": "profile_other"}},
        ),
        merchant.payments.issue(method="stripe", intent="charge", request=good),
    ]
    response = payment_required_response(offers)
    return Answer(response.status, list(response.headers), response.body)


@pytest.fixture
def shop() -> Iterator[StubMerchant]:
    routes = {
        "/paid": paid_route(),
        "/paid-body": paid_route(bind_body=True),
        "/session": session_route,
        "/free": fixed(200, [("Content-Type", "text/plain")], b"free lunch"),
        "/tempo": tempo_only,
        "/no-header": fixed(402, [], b"pay up"),
        "/expired": expired_challenge,
        "/refuse": refuse_paid,
        "/hostile": hostile,
        "/zero": zero_price,
        "/no-types": no_method_types,
        "/offers": several_offers,
    }
    with running(StubMerchant(routes)) as stub:
        yield stub


@pytest.fixture
def api() -> Iterator[LinkApi]:
    with link_api() as stand_in:
        yield stand_in


def _pay(api: LinkApi, *args: str) -> tuple[int, Any]:
    return run_json("mpp", "pay", *args, api=api)


def _credential(seen: Any) -> dict[str, Any]:
    token = seen.headers["authorization"].split(" ", 1)[1]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


# --- pay-only (contract §8.3) ---------------------------------------------------------------------


def test_pay_only_answers_the_402_once_and_returns_the_pay_result(
    shop: StubMerchant, api: LinkApi
) -> None:
    spend_request_id = api.approved_spt()
    code, out = _pay(api, shop.url + "/paid", "--spend-request-id", spend_request_id)
    assert code == 0, out
    [result] = out
    assert result["status"] == 200
    assert json.loads(result["body"]) == {"resource": "paid content"}
    assert parse_payment_receipt(result["headers"]["payment-receipt"]).reference == "pi_spt_live_1"
    assert [seen.method for seen in shop.seen] == ["GET", "GET"]
    assert "authorization" not in shop.seen[0].headers
    credential = parse_authorization(shop.seen[1].headers["authorization"])
    assert credential.payload == {"spt": "spt_live_1"}
    assert "user-agent" not in shop.seen[1].headers
    [lookup] = api.requests
    assert (lookup.path, lookup.query) == (
        f"/spend_requests/{spend_request_id}",
        "include=shared_payment_token",
    )


def test_pay_only_session_challenge_opens_with_the_granted_token(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/session", "--spend-request-id", api.approved_spt())
    assert code == 0 and out[0]["status"] == 200
    decoded = _credential(shop.seen[1])
    assert decoded["payload"] == {"action": "open", "grantedToken": "spt_live_1"}
    assert decoded["challenge"]["intent"] == "session"


def test_pay_only_without_a_402_passes_the_answer_through(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/free", "--spend-request-id", api.approved_spt())
    assert code == 0
    assert out == [
        {"status": 200, "headers": out[0]["headers"], "body": "free lunch"},
    ]
    assert out[0]["headers"]["content-type"] == "text/plain"
    assert len(shop.seen) == 1


def test_pay_only_with_data_posts_the_exact_body_and_headers(
    shop: StubMerchant, api: LinkApi
) -> None:
    data = '{"city": "Boulder"}'
    code, out = _pay(
        api,
        shop.url + "/paid-body",
        "--spend-request-id",
        api.approved_spt(),
        "-d",
        data,
        "-H",
        "X-Trace: abc",
        "--header",
        "Content-Type: application/vnd.test+json",
    )
    assert code == 0 and out[0]["status"] == 200, out
    for seen in shop.seen:
        assert seen.method == "POST"
        assert seen.body == data.encode()
        assert seen.headers["x-trace"] == "abc"
        assert seen.headers["content-type"] == "application/vnd.test+json"


def test_failed_paid_retry_still_exits_zero_with_the_merchant_answer(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/refuse", "--spend-request-id", api.approved_spt())
    assert code == 0
    assert (out[0]["status"], out[0]["body"]) == (402, '{"type":"consumed"}')
    assert len(shop.seen) == 2


def test_legacy_string_token_works(shop: StubMerchant, api: LinkApi) -> None:
    spend_request_id = api.approved_spt(shared_payment_token="spt_legacy")
    code, out = _pay(api, shop.url + "/paid", "--spend-request-id", spend_request_id)
    assert code == 0 and out[0]["status"] == 200
    assert parse_authorization(shop.seen[1].headers["authorization"]).payload == {
        "spt": "spt_legacy"
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"status": "pending_approval"},
            "Spend request must be approved (current status: pending_approval)",
        ),
        (
            {"credential_type": "card"},
            "Spend request lsrq_paid must have credential_type 'shared_payment_token' (current: 'card')",
        ),
        ({"shared_payment_token": None}, "Spend request does not have a shared payment token"),
    ],
    ids=["unapproved", "card", "no-token"],
)
def test_pay_only_refuses_unusable_spend_requests_before_any_merchant_call(
    shop: StubMerchant, api: LinkApi, fields: dict[str, Any], message: str
) -> None:
    code, out = _pay(api, shop.url + "/paid", "--spend-request-id", api.approved_spt(**fields))
    assert (code, out) == (1, {"code": "UNKNOWN", "message": message})
    assert shop.seen == []


def test_pay_only_unknown_spend_request_is_not_found(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/paid", "--spend-request-id", "lsrq_nope")
    assert (code, out["message"]) == (1, "Spend request lsrq_nope not found")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/tempo", "does not include a stripe charge or session challenge"),
        ("/no-header", "Missing WWW-Authenticate header."),
        ("/expired", "Payment expired at "),
    ],
)
def test_pay_only_unpayable_challenges_fail_without_sending_the_token(
    shop: StubMerchant, api: LinkApi, path: str, message: str
) -> None:
    code, out = _pay(api, shop.url + path, "--spend-request-id", api.approved_spt())
    assert code == 1 and message in out["message"]
    assert len(shop.seen) == 1


@pytest.mark.parametrize(
    "fields",
    [{"network_id": "profile_someone_else"}, {"amount": 100}, {"currency": "eur"}],
    ids=["other-seller", "above-approval", "other-currency"],
)
def test_pay_only_challenge_outside_the_approval_keeps_the_token(
    shop: StubMerchant, api: LinkApi, fields: dict[str, Any]
) -> None:
    code, out = _pay(api, shop.url + "/paid", "--spend-request-id", api.approved_spt(**fields))
    assert code == 1 and out["code"] == "UNKNOWN"
    assert len(shop.seen) == 1


def test_pay_only_pays_the_offer_that_fits_the_approval_among_several(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/offers", "--spend-request-id", api.approved_spt())
    assert code == 0, out
    assert out[0]["status"] == 200
    credential = _credential(shop.seen[-1])
    request = json.loads(base64.urlsafe_b64decode(credential["challenge"]["request"] + "=="))
    assert request["currency"] == "usd"
    assert request["methodDetails"]["networkId"] == "profile_stub_1"
    assert datetime.fromisoformat(credential["challenge"]["expires"]) > datetime.now(UTC)
    assert len(shop.seen) == 2  # probe, one paid retry


def test_full_flow_asks_approval_for_the_first_payable_offer(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/offers", "--context", CONTEXT)
    assert code == 0, out
    created = api.requests[-1].json()
    assert (created["currency"], created["network_id"]) == ("eur", "profile_stub_1")


def test_merchant_answers_are_sanitised(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/hostile", "--spend-request-id", api.approved_spt())
    assert code == 0
    assert out[0]["body"] == "Normal Store"
    assert out[0]["headers"]["x-note"] == "ab"


def test_pay_without_login_is_not_authenticated_and_calls_nobody(shop: StubMerchant) -> None:
    code, out = run_json("mpp", "pay", shop.url + "/paid", "--spend-request-id", "lsrq_x")
    assert code == 1 and out["code"] == "NOT_AUTHENTICATED"
    assert shop.seen == []


def test_unreachable_merchant_is_an_error(api: LinkApi) -> None:
    with running(StubMerchant({})) as gone:
        url = gone.url
    code, out = _pay(api, url + "/paid", "--spend-request-id", api.approved_spt())
    assert code == 1 and out["message"].startswith("Request failed: GET")


# --- full flow (contract §8.4) --------------------------------------------------------------------


def test_full_flow_creates_the_spend_request_and_hands_back_the_hints(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(
        api,
        shop.url + "/paid",
        "--context",
        CONTEXT,
        "--test",
        "-X",
        "GET",
        "-H",
        "X-A: 1",
    )
    assert code == 0, out
    [chunk] = out
    created = api.requests[-1]
    assert (created.method, created.path) == ("POST", "/spend_requests")
    assert created.json() == {
        "payment_details": "csmrpd_first",
        "credential_type": "shared_payment_token",
        "network_id": "profile_stub_1",
        "amount": 250,
        "currency": "usd",
        "context": CONTEXT,
        "request_approval": True,
        "test": True,
    }
    assert chunk["id"] == "lsrq_1" and chunk["status"] == "pending_approval"
    assert "approval_url" in chunk["instruction"]
    assert chunk["_next"] == {
        "poll_command": "spend-request retrieve lsrq_1 --interval 2 --max-attempts 300",
        "pay_command": f"mpp pay {shop.url}/paid --spend-request-id lsrq_1 -X GET -H 'X-A: 1'",
        "until": "status changes from pending_approval, then run pay_command",
    }
    assert len(shop.seen) == 1  # probed, not paid


def test_full_flow_hint_quotes_data_and_uses_the_chosen_method_and_amount(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(
        api,
        shop.url + "/paid-body",
        "--context",
        CONTEXT,
        "-d",
        '{"a": 1}',
        "--amount",
        "199",
        "--payment-method-id",
        "csmrpd_chosen",
    )
    assert code == 0, out
    body = api.requests[-1].json()
    assert (body["amount"], body["payment_details"]) == (199, "csmrpd_chosen")
    assert "test" not in body
    assert out[0]["_next"]["pay_command"] == (
        f"mpp pay {shop.url}/paid-body --spend-request-id lsrq_1 -d '{{\"a\": 1}}'"
    )
    assert [r.path for r in api.requests] == ["/spend_requests"]  # no payment-method lookup


def test_full_flow_then_pay_command_pays(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/paid", "--context", CONTEXT)
    assert code == 0
    spend_request = api.spend_requests[out[0]["id"]]
    spend_request.update(status="approved", shared_payment_token={"id": "spt_from_flow"})
    args = out[0]["_next"]["pay_command"].split()[2:]
    code, paid = _pay(api, *args)
    assert code == 0 and paid[0]["status"] == 200
    assert [seen.method for seen in shop.seen] == ["GET", "GET", "GET"]  # probe, probe, paid


def test_full_flow_without_a_402_passes_through(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/free", "--context", CONTEXT)
    assert code == 0 and out[0]["body"] == "free lunch"
    assert api.requests == []


def test_full_flow_needs_context_checked_after_the_probe(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/paid")
    assert code == 1
    assert out == {
        "code": "INVALID_INPUT",
        "message": "--context is required for the full MPP flow (min 100 chars). "
        "Describe the purchase and rationale.",
    }
    assert len(shop.seen) == 1 and api.requests == []


def test_full_flow_402_without_challenge_header_is_an_invalid_response(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/no-header", "--context", CONTEXT)
    assert (code, out) == (
        1,
        {"code": "INVALID_RESPONSE", "message": "URL returned 402 but no WWW-Authenticate header"},
    )


def test_full_flow_without_amount_asks_for_one(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/zero", "--context", CONTEXT)
    assert code == 1 and out["code"] == "INVALID_INPUT"
    assert (
        out["message"] == "Could not determine amount from 402 challenge. Pass --amount explicitly."
    )


def test_full_flow_refuses_an_unpayable_challenge_before_asking_for_approval(
    shop: StubMerchant, api: LinkApi
) -> None:
    code, out = _pay(api, shop.url + "/no-types", "--context", CONTEXT)
    assert code == 1 and out["code"] == "UNKNOWN"
    assert "paymentMethodTypes: expected a non-empty array" in out["message"]
    assert api.spend_requests == {} and len(shop.seen) == 1


def test_full_flow_without_payment_methods(shop: StubMerchant, api: LinkApi) -> None:
    api.payment_methods = []
    code, out = _pay(api, shop.url + "/paid", "--context", CONTEXT)
    assert (code, out["code"]) == (1, "NO_PAYMENT_METHOD")
    assert (
        out["message"] == "No payment methods found. Add one with `link-cli payment-methods add`."
    )


def test_full_flow_tempo_only_fails_mentioning_stripe(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/tempo", "--context", CONTEXT)
    assert code == 1 and "stripe" in out["message"]
    assert api.requests == []


def test_short_context_is_a_validation_error(shop: StubMerchant, api: LinkApi) -> None:
    code, out = _pay(api, shop.url + "/paid", "--context", "too short")
    assert code == 1 and out["code"] == "VALIDATION_ERROR"
    assert shop.seen == []


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _human_context(api: LinkApi, clock: _Clock) -> Context:
    return Context(
        agent=False,
        env=cli_env(api),
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )


def _full_params(url: str) -> dict[str, Any]:
    from link_cli.commands import find_command, validate

    command = find_command(("mpp", "pay"))
    assert command is not None
    return validate(command, {"url": url, "context": CONTEXT})


def test_human_full_flow_waits_for_approval_then_pays(shop: StubMerchant, api: LinkApi) -> None:
    clock = _Clock()
    api.status_script["lsrq_1"] = ["pending_approval", "pending_approval", "approved"]

    chunks = pay_handler(_full_params(shop.url + "/paid"), _human_context(api, clock))
    first = next(chunks)
    assert first["_next"]["pay_command"].endswith("--spend-request-id lsrq_1")
    api.spend_requests["lsrq_1"]["shared_payment_token"] = {"id": "spt_human"}
    [result] = list(chunks)
    assert result["status"] == 200
    assert parse_authorization(shop.seen[-1].headers["authorization"]).payload == {
        "spt": "spt_human"
    }
    assert clock.sleeps == [2.0, 2.0]


def test_human_full_flow_denied_stops_without_paying(shop: StubMerchant, api: LinkApi) -> None:
    from link_cli.errors import Unknown

    clock = _Clock()
    api.status_script["lsrq_1"] = ["denied"]
    chunks = pay_handler(_full_params(shop.url + "/paid"), _human_context(api, clock))
    next(chunks)
    with pytest.raises(Unknown, match=r"not approved \(status: denied\)"):
        next(chunks)
    assert len(shop.seen) == 1


def test_human_full_flow_gives_up_when_the_token_never_comes(
    shop: StubMerchant, api: LinkApi
) -> None:
    from link_cli.errors import Unknown

    clock = _Clock()
    api.status_script["lsrq_1"] = ["approved"]
    chunks = pay_handler(_full_params(shop.url + "/paid"), _human_context(api, clock))
    next(chunks)
    with pytest.raises(Unknown, match="Failed to retrieve shared payment token"):
        next(chunks)
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert len(shop.seen) == 1
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in api.requests)


# --- human output (contract §8.4) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "colour"), [(200, "\x1b[32m"), (302, "\x1b[33m"), (402, "\x1b[31m")]
)
def test_human_pay_result_is_http_status_in_colour_then_the_body(status: int, colour: str) -> None:
    import io

    from link_cli.cli import tty
    from link_cli.commands import mpp

    command = next(c for c in mpp.COMMANDS if c.path == ("mpp", "pay"))
    out = io.StringIO()
    chunk = {"status": status, "headers": {"x-a": "b"}, "body": '{"ok":1}\x1b[2J'}
    assert tty.present(command, iter([chunk]), out) == 0
    assert out.getvalue() == f"{colour}HTTP {status}\x1b[0m\n" + '{"ok":1}\n'
