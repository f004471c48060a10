"""The pay client against a real loopback merchant (our server half): mpp §6 network items
and contract §8.2–8.3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.mpp.stub_merchant import (
    NETWORK_ID,
    Answer,
    StubMerchant,
    challenge_then,
    expired_challenge,
    fixed,
    paid_route,
    running,
)

from link_cli.mpp import MppParseError, parse_authorization, parse_payment_receipt
from link_cli.mpp.client import (
    ApprovedTerms,
    ChallengeExpired,
    ChallengeMismatch,
    MerchantRequest,
    MerchantRequestFailed,
    PaymentOutcomeUnknown,
    pay,
    read_stripe_challenge,
    send,
)
from link_cli.mpp.problems import ProblemType, parse_problem

SPT = "spt_test_123"


@pytest.fixture
def merchant() -> Iterator[StubMerchant]:
    routes = {
        "/paid": paid_route(),
        "/paid-body": paid_route(bind_body=True),
        "/paid-header": paid_route(header="Payment-Authorization"),
        "/free": fixed(200, [("Content-Type", "text/plain"), ("X-Evil", "a\x1bb")], b"hello"),
        "/bearer-only": fixed(402, [("WWW-Authenticate", 'Bearer realm="x"')], b"pay?"),
        "/no-header": fixed(402, [], b"pay?"),
        "/expired": expired_challenge,
        "/forbidden-after-pay": challenge_then(403, b"policy says no"),
        "/error-after-pay": challenge_then(500, b"boom"),
        "/refused-after-pay": challenge_then(402, problem=ProblemType.VERIFICATION_FAILED),
        "/drop-after-pay": challenge_then(0),
        "/to-paid": fixed(302, [("Location", "/paid")]),
    }
    with running(StubMerchant(routes)) as stub:
        yield stub


def test_probe_without_payment_passes_the_response_through(merchant: StubMerchant) -> None:
    response = send(MerchantRequest.from_options(merchant.url + "/free"))
    result = response.pay_result()
    assert result["status"] == 200 and result["body"] == "hello"
    assert result["headers"]["content-type"] == "text/plain"  # type: ignore[index]
    assert len(merchant.seen) == 1


def test_merchant_requests_carry_no_user_agent(merchant: StubMerchant) -> None:
    send(MerchantRequest.from_options(merchant.url + "/free"))
    assert "user-agent" not in merchant.seen[0].headers


def test_pay_sends_one_credential_and_gets_a_receipt(merchant: StubMerchant) -> None:
    probe = send(MerchantRequest.from_options(merchant.url + "/paid"))
    assert probe.status == 402
    paid = pay(probe, SPT)
    assert paid.status == 200
    receipt = parse_payment_receipt(paid.header_values("payment-receipt")[0])
    assert (receipt.status, receipt.method, receipt.reference) == ("success", "stripe", "pi_" + SPT)
    assert [seen.method for seen in merchant.seen] == ["GET", "GET"]
    credential = parse_authorization(merchant.seen[1].headers["authorization"])
    assert credential.payload == {"spt": SPT}
    assert credential.challenge == read_stripe_challenge(probe)


def test_402_without_a_payment_challenge_is_an_error_and_never_paid(merchant: StubMerchant) -> None:
    for path, message in (("/bearer-only", "No Payment schemes"), ("/no-header", "Missing WWW")):
        probe = send(MerchantRequest.from_options(merchant.url + path))
        with pytest.raises(MppParseError, match=message):
            pay(probe, SPT)
    assert len(merchant.seen) == 2  # the two probes, no paid attempt


def test_expired_challenge_is_not_paid(merchant: StubMerchant) -> None:
    probe = send(MerchantRequest.from_options(merchant.url + "/expired"))
    with pytest.raises(ChallengeExpired, match="Payment expired at"):
        pay(probe, SPT)
    assert len(merchant.seen) == 1


@pytest.mark.parametrize(
    ("terms", "pays"),
    [
        (ApprovedTerms(network_id=NETWORK_ID, max_amount=250, currency="usd"), True),
        (ApprovedTerms(network_id="profile_other"), False),
        (ApprovedTerms(max_amount=249), False),
        (ApprovedTerms(currency="eur"), False),
    ],
    ids=["within", "other-seller", "above-approval", "other-currency"],
)
def test_challenge_outside_the_approved_terms_is_not_paid(
    merchant: StubMerchant, terms: ApprovedTerms, pays: bool
) -> None:
    probe = send(MerchantRequest.from_options(merchant.url + "/paid"))
    if pays:
        assert pay(probe, SPT, terms=terms).status == 200
    else:
        with pytest.raises(ChallengeMismatch):
            pay(probe, SPT, terms=terms)
        assert len(merchant.seen) == 1  # the token never left


def test_digest_bound_body_is_resent_byte_identical(merchant: StubMerchant) -> None:
    data = '{"qty": 1, "note": "caf\u00e9"}'
    probe = send(MerchantRequest.from_options(merchant.url + "/paid-body", data=data))
    assert read_stripe_challenge(probe).digest is not None
    assert pay(probe, SPT).status == 200
    first, second = merchant.seen
    assert first.method == second.method == "POST"
    assert first.body == second.body == data.encode()
    assert second.headers["content-type"] == "application/json"


def test_payment_authorization_header_keeps_the_apps_authorization(merchant: StubMerchant) -> None:
    request = MerchantRequest.from_options(
        merchant.url + "/paid-header", header_lines=["Authorization: Bearer app-token"]
    )
    paid = pay(send(request), SPT)
    assert paid.status == 200
    seen = merchant.seen[1]
    assert seen.headers["authorization"] == "Bearer app-token"
    assert parse_authorization(seen.headers["payment-authorization"]).challenge.header == (
        "Payment-Authorization"
    )


def test_user_authorization_header_is_replaced_not_duplicated(merchant: StubMerchant) -> None:
    request = MerchantRequest.from_options(
        merchant.url + "/paid", header_lines=["authorization: Bearer mine"]
    )
    assert pay(send(request), SPT).status == 200
    names = [name.lower() for name, _ in merchant.seen[1].header_list]
    assert names.count("authorization") == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [("/forbidden-after-pay", 403), ("/error-after-pay", 500), ("/refused-after-pay", 402)],
)
def test_answer_to_the_paid_retry_is_returned_and_never_paid_again(
    merchant: StubMerchant, path: str, status: int
) -> None:
    paid = pay(send(MerchantRequest.from_options(merchant.url + path)), SPT)
    assert paid.status == status
    assert len(merchant.seen) == 2
    if status == 402:
        assert parse_problem(paid.body).kind is ProblemType.VERIFICATION_FAILED


def test_network_error_on_the_paid_retry_is_reported_not_retried(merchant: StubMerchant) -> None:
    probe = send(MerchantRequest.from_options(merchant.url + "/drop-after-pay"))
    with pytest.raises(PaymentOutcomeUnknown, match="outcome is unknown") as info:
        pay(probe, SPT)
    assert SPT not in str(info.value) and "Payment " not in str(info.value)
    assert len(merchant.seen) == 2


def test_probe_redirect_is_followed_and_the_credential_goes_where_the_402_came_from(
    merchant: StubMerchant,
) -> None:
    probe = send(MerchantRequest.from_options(merchant.url + "/to-paid"))
    assert probe.status == 402 and probe.request.url == merchant.url + "/paid"
    assert pay(probe, SPT).status == 200
    assert [seen.path for seen in merchant.seen] == ["/to-paid", "/paid", "/paid"]


def test_paid_retry_never_follows_a_redirect_to_another_origin() -> None:
    """The credential is sent only to the URL that issued the challenge (mpp §6)."""
    with running(StubMerchant({"/grab": fixed(200, body=b"stolen")})) as thief:

        def redirect_paid_retry(merchant: StubMerchant, seen: object) -> Answer:
            if "authorization" not in seen.headers:  # type: ignore[attr-defined]
                return merchant.challenge_answer()
            return Answer(307, [("Location", thief.url + "/grab")])

        with running(StubMerchant({"/paid": redirect_paid_retry})) as shop:
            paid = pay(send(MerchantRequest.from_options(shop.url + "/paid")), SPT)
            assert paid.status == 307
            assert thief.seen == []


def test_cross_origin_probe_redirect_drops_the_users_credentials() -> None:
    with running(StubMerchant({"/x": fixed(200)})) as other:
        redirect = fixed(302, [("Location", other.url + "/x")])
        with running(StubMerchant({"/go": redirect})) as shop:
            request = MerchantRequest.from_options(
                shop.url + "/go",
                header_lines=["Authorization: Bearer mine", "Cookie: a=b", "X-K: v"],
            )
            assert send(request).status == 200
    headers = other.seen[0].headers
    assert "authorization" not in headers and "cookie" not in headers
    assert headers["x-k"] == "v"


def test_request_options_follow_the_reference() -> None:
    """contract §8.2: method default GET / POST with data, JSON content type, header line rules."""
    assert MerchantRequest.from_options("http://h/").method == "GET"
    with_data = MerchantRequest.from_options(
        "http://h/",
        data="{}",
        header_lines=["X-A: 1", "bad line", ": no name", "Content-Type: text/plain", "X-A:  2 "],
    )
    assert with_data.method == "POST" and with_data.body == b"{}"
    assert with_data.headers == (("Content-Type", "text/plain"), ("X-A", "2"))
    assert MerchantRequest.from_options("http://h/", method="put", data="x").method == "PUT"
    # Deliberate difference: names match in any case, so the later line wins outright
    # (the official CLI would send both differently-cased headers combined).
    mixed = MerchantRequest.from_options("http://h/", header_lines=["x-a: 1", "X-A: 2"])
    assert mixed.headers == (("X-A", "2"),)


@pytest.mark.parametrize("url", ["ftp://h/x", "file:///etc/passwd", "http://", "nonsense"])
def test_only_http_urls_are_requested(url: str) -> None:
    with pytest.raises(MerchantRequestFailed):
        send(MerchantRequest.from_options(url))


def test_unreachable_merchant_is_a_clear_error() -> None:
    with running(StubMerchant({})) as gone:
        url = gone.url
    with pytest.raises(MerchantRequestFailed, match="Request failed: GET"):
        send(MerchantRequest.from_options(url + "/paid"), timeout=5)


def test_header_injection_in_user_headers_is_refused(merchant: StubMerchant) -> None:
    request = MerchantRequest(url=merchant.url + "/free", headers=(("X-A", "v\r\nX-B: 1"),))
    with pytest.raises(MerchantRequestFailed):
        send(request)
