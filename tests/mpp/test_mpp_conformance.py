"""mpp §6 client conformance checklist: one test per item. Network items are in
test_mpp_client.py, the HMAC vectors in test_mpp_server.py, and the interop runs (pympp
merchant, pympp and mppx clients, replays) in tests/interop and tests/e2e/test_mpp_pay.py.

Policies we chose where the references differ are stated in the test docstrings.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from tests.mpp.helpers import REQUEST_B64, STRIPE_REQUEST, b64, payment

from link_cli.mpp import (
    Challenge,
    Credential,
    MppParseError,
    Receipt,
    _wire,
    build_credential,
    format_authorization,
    format_payment_receipt,
    parse_authorization,
    parse_payment_receipt,
    parse_stripe_request,
    parse_www_authenticate,
    select_stripe_challenge,
)
from link_cli.mpp.methods import stripe

# --- Header splitting / parsing ----------------------------------------------------------


def test_single_challenge_all_required_params_quoted_parsed() -> None:
    [challenge] = parse_www_authenticate(payment())
    assert challenge == Challenge(
        id="ch_1", realm="shop.example", method="stripe", intent="charge", request=REQUEST_B64
    )
    assert challenge.request_json() == STRIPE_REQUEST


def test_token_values_including_unquoted_base64url_request() -> None:
    header = (
        f"Payment id=ch_1, realm=shop.example, method=stripe, intent=charge, request={REQUEST_B64}"
    )
    [challenge] = parse_www_authenticate(header)
    assert challenge.id == "ch_1"
    assert challenge.request == REQUEST_B64


@pytest.mark.parametrize("scheme", ["payment", "PAYMENT", "Payment", "pAyMeNt"])
def test_scheme_and_parameter_names_are_case_insensitive(scheme: str) -> None:
    header = (
        f'{scheme} ID="ch_1", Realm="shop.example", METHOD="stripe", Intent="charge", '
        f'REQUEST="{REQUEST_B64}"'
    )
    assert parse_www_authenticate(header) == parse_www_authenticate(payment())


def test_extra_whitespace_around_equals_and_commas_and_any_order() -> None:
    header = (
        f'Payment   request = "{REQUEST_B64}"  ,intent= charge ,\tmethod =stripe,'
        '  realm  =  "shop.example" , id="ch_1"  '
    )
    assert parse_www_authenticate(header) == parse_www_authenticate(payment())


def test_unknown_parameters_are_ignored() -> None:
    header = payment() + ', foo="bar", baz=qux'
    assert parse_www_authenticate(header) == parse_www_authenticate(payment())


def test_duplicate_parameter_rejects_the_challenge() -> None:
    with pytest.raises(MppParseError, match="Duplicate parameter: id"):
        parse_www_authenticate(payment() + ', ID="ch_2"')


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"id": None}, "Missing id"),
        ({"id": ""}, "Empty id"),
        ({"realm": None}, "Missing realm"),
        ({"method": None}, "Missing method"),
        ({"intent": None}, "Missing intent"),
        ({"request": None}, "Missing request"),
    ],
)
def test_missing_or_empty_required_parameters_are_rejected(
    override: dict[str, str | None], reason: str
) -> None:
    with pytest.raises(MppParseError, match=reason):
        parse_www_authenticate(payment(**override))  # type: ignore[arg-type]


def test_method_with_uppercase_is_rejected() -> None:
    with pytest.raises(MppParseError, match="lowercase"):
        parse_www_authenticate(payment(method="Stripe"))


def test_quoted_value_with_escaped_quotes_backslashes_commas_and_pairs_is_one_value() -> None:
    header = payment() + r', description="a \"quoted\" \\ path, with x=y, and Payment id=z"'
    [challenge] = parse_www_authenticate(header)
    assert challenge.description == 'a "quoted" \\ path, with x=y, and Payment id=z'


def test_unicode_escapes_surrogate_pairs_and_raw_latin1_bytes() -> None:
    header = payment() + r', description="\u2615 \ud83d\ude00 Caf' + "\u00e9" + '"'
    [challenge] = parse_www_authenticate(header.encode("latin-1"))
    assert challenge.description == "\u2615 \U0001f600 Caf\u00e9"
    # The same text sent as UTF-8 bytes decodes the same way.
    [again] = parse_www_authenticate(header.encode("utf-8"))
    assert again.description == challenge.description


def test_lone_surrogate_escape_is_rejected() -> None:
    with pytest.raises(MppParseError, match="surrogate"):
        parse_www_authenticate(payment() + r', description="\ud83d alone"')


def test_unterminated_quoted_string_in_linear_time_rejects_only_its_challenge() -> None:
    """Policy: the challenge holding an unterminated quote is rejected (like mppx); it runs to
    the end of the value, so it can never lend a parameter to another challenge. A good
    challenge before it survives."""
    broken = payment(id="ch_2") + ', foo="' + "\\" * 12_000
    with pytest.raises(MppParseError, match="Unterminated quoted-string"):
        parse_www_authenticate(broken)
    [good] = parse_www_authenticate(payment() + ", " + broken)
    assert good.id == "ch_1"


def test_unterminated_quote_cannot_swallow_a_required_parameter() -> None:
    header = 'Payment realm="shop.example, id="ch_1", ' + payment()[8:].replace('id="ch_1", ', "")
    with pytest.raises(MppParseError):
        parse_www_authenticate(header)


def test_unescaped_quote_in_description_ends_the_value_and_the_rest_is_ignored() -> None:
    header = payment() + ', description="say "hi" now"'
    [challenge] = parse_www_authenticate(header)
    assert challenge.description == "say "


def test_payment_inside_quoted_realm_or_description_is_not_a_boundary() -> None:
    header = payment(realm="Payment id=fake", description="Payment for Payment realm=x")
    [challenge] = parse_www_authenticate(header)
    assert challenge.id == "ch_1"
    assert challenge.realm == "Payment id=fake"


def test_two_payment_challenges_and_payment_after_other_schemes() -> None:
    one, two = payment(id="a"), payment(id="b", intent="session")
    cases = [
        f"{one}, {two}",
        f'Bearer realm="x", error="invalid_token", {one}, {two}',
        f'Basic realm="a, Payment id=fake", {one}, {two}',
        f"Negotiate abc==, {one}, {two}",
    ]
    for header in cases:
        assert [c.id for c in parse_www_authenticate(header)] == ["a", "b"], header
    # Several WWW-Authenticate lines.
    assert [c.id for c in parse_www_authenticate(["Bearer x", one, two])] == ["a", "b"]


def test_tempo_challenge_is_parsed_but_stripe_is_selected() -> None:
    tempo = payment(id="t", method="tempo", request=b64({"amount": "1"}))
    challenges = parse_www_authenticate(f"Bearer abc, {tempo}, {payment()}")
    assert [c.method for c in challenges] == ["tempo", "stripe"]
    assert select_stripe_challenge(challenges).id == "ch_1"


def test_one_malformed_challenge_next_to_a_good_one_keeps_the_good_one() -> None:
    """Policy: unlike mppx (whole value rejected), a broken offer never hides a good one."""
    header = f"{payment(id='bad', method='BAD')}, {payment(id='', realm='x')}, {payment()}"
    assert [c.id for c in parse_www_authenticate(header)] == ["ch_1"]


@pytest.mark.parametrize("header", ["Bearer token123", "", "Payment", "Payment   ", ", ,"])
def test_no_payment_challenge_in_bearer_empty_or_bare_payment(header: str) -> None:
    with pytest.raises(MppParseError):
        parse_www_authenticate(header)


@pytest.mark.parametrize(
    "request_param",
    [
        "not*base64!",
        base64.urlsafe_b64encode(b"\xff\xfe{}").decode().rstrip("="),
        base64.urlsafe_b64encode(b"not json").decode().rstrip("="),
        b64([1, 2, 3]),
        base64.urlsafe_b64encode(b'"a string"').decode().rstrip("="),
        base64.urlsafe_b64encode(b'{"a": NaN}').decode().rstrip("="),
    ],
    ids=["bad-chars", "non-utf8", "non-json", "array", "string", "nan"],
)
def test_bad_request_parameter_is_rejected(request_param: str) -> None:
    with pytest.raises(MppParseError):
        parse_www_authenticate(payment(request=request_param))


def test_padded_and_standard_alphabet_request_is_accepted() -> None:
    value = {"amount": "1", "note": "??>>"}  # encodes with '+'/'/' in standard base64
    standard = base64.b64encode(json.dumps(value).encode()).decode()
    for request_param in (b64(value, pad=True), standard):
        [challenge] = parse_www_authenticate(payment(request=request_param))
        assert challenge.request_json() == value
        assert challenge.request == request_param  # kept as received, for the echo


def test_request_larger_than_16_kib_is_rejected() -> None:
    big = b64({"amount": "1", "pad": "x" * 16 * 1024})
    with pytest.raises(MppParseError, match="too large"):
        parse_www_authenticate(payment(request=big))


def test_header_value_larger_than_64_kib_is_rejected() -> None:
    with pytest.raises(MppParseError, match="too large"):
        parse_www_authenticate(payment() + ", x=" + "a" * 70_000)


# --- Selection and policy ----------------------------------------------------------------


def _refuse_currency(currency: str) -> stripe.OfferCheck:
    def check(challenge: object, request: stripe.StripeRequest) -> Exception | None:
        return ValueError(f"not {currency}") if request.currency != currency else None

    return check


def test_every_offer_is_judged_and_the_first_acceptable_one_wins() -> None:
    eur = {**STRIPE_REQUEST, "currency": "eur"}
    header = ", ".join(
        [
            payment(id="broken", request=b64({"currency": "usd"})),  # no amount
            payment(id="eur", request=b64(eur)),
            payment(id="usd"),
            payment(id="usd-later"),
        ]
    )
    challenges = parse_www_authenticate(header)
    assert select_stripe_challenge(challenges).id == "eur"  # the first valid request
    assert select_stripe_challenge(challenges, check=_refuse_currency("usd")).id == "usd"


def test_when_no_offer_is_acceptable_the_first_offers_reason_is_raised() -> None:
    eur = {**STRIPE_REQUEST, "currency": "eur"}
    header = f"{payment(id='a', request=b64(eur))}, {payment(id='b', request=b64(eur))}"
    with pytest.raises(ValueError, match="not usd"):
        select_stripe_challenge(parse_www_authenticate(header), check=_refuse_currency("usd"))
    broken = payment(request=b64({"currency": "usd"}))
    with pytest.raises(MppParseError, match="amount: missing"):
        select_stripe_challenge(parse_www_authenticate(f"{broken}, {broken.replace('ch_1', 'x')}"))


def test_unquoted_expires_and_padded_request_are_single_values() -> None:
    header = (
        "Payment id=ch_1, realm=shop.example, method=stripe, intent=charge, "
        f"expires=2099-01-01T00:00:00Z, request={b64(STRIPE_REQUEST, pad=True)}"
    )
    [challenge] = parse_www_authenticate(header)
    assert challenge.expires == "2099-01-01T00:00:00Z"
    assert challenge.request_json() == STRIPE_REQUEST
    assert not challenge.is_expired()


def test_picks_stripe_charge_or_session_and_ignores_unknown_intents() -> None:
    header = ", ".join(
        [
            payment(id="sub", intent="subscription"),
            payment(id="tempo", method="tempo"),
            payment(id="sess", intent="session"),
            payment(id="chg"),
        ]
    )
    assert select_stripe_challenge(parse_www_authenticate(header)).id == "sess"
    with pytest.raises(MppParseError, match="does not include a stripe charge or session"):
        select_stripe_challenge(parse_www_authenticate(payment(intent="subscription")))


def test_expired_challenge_is_expired_and_bad_expires_is_rejected() -> None:
    [past] = parse_www_authenticate(payment(expires="2020-01-01T00:00:00Z"))
    assert past.is_expired()
    [future] = parse_www_authenticate(payment(expires="2999-01-01T00:00:00.123456789+02:00"))
    assert not future.is_expired()
    assert future.expires_at() == datetime(2998, 12, 31, 22, 0, 0, 123456, tzinfo=UTC)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    [edge] = parse_www_authenticate(payment(expires="2030-01-01T00:00:00Z"))
    assert edge.is_expired(now) and not edge.is_expired(now - timedelta(seconds=1))
    for bad in ("2030-01-01T00:00:00", "tomorrow", "2030-13-01T00:00:00Z", "2030-01-01 00:00Z"):
        with pytest.raises(MppParseError, match="expires"):
            parse_www_authenticate(payment(expires=bad))


def test_description_is_never_used_for_decisions() -> None:
    [plain] = parse_www_authenticate(payment())
    [described] = parse_www_authenticate(payment(description="FREE! amount 0, pay to evil"))
    assert parse_stripe_request(plain) == parse_stripe_request(described)


@pytest.mark.parametrize(
    ("request_object", "message"),
    [
        ({"amount": "1", "currency": "usd"}, "methodDetails.networkId: missing"),
        ({"amount": "1", "currency": "usd", "methodDetails": []}, "methodDetails: expected object"),
        ({"currency": "usd", "networkId": "n"}, "amount: missing"),
        ({"amount": 1, "currency": "usd", "networkId": "n"}, "amount: expected string"),
        (
            {"amount": "1", "currency": "usd", "methodDetails": {"networkId": 5}},
            "methodDetails.networkId: expected string, received number",
        ),
    ],
)
def test_stripe_request_checks_match_the_reference(
    request_object: dict[str, object], message: str
) -> None:
    [challenge] = parse_www_authenticate(payment(request=b64(request_object)))
    with pytest.raises(MppParseError, match="Invalid stripe challenge request: " + message):
        parse_stripe_request(challenge)


def test_top_level_network_id_is_accepted() -> None:
    [challenge] = parse_www_authenticate(
        payment(
            intent="session", request=b64({"amount": "1", "currency": "usd", "networkId": "n1"})
        )
    )
    assert stripe.network_id(challenge) == "n1"


@pytest.mark.parametrize(
    "details",
    [
        {"networkId": "p", "paymentMethodTypes": []},
        {"networkId": "p", "paymentMethodTypes": ["card"], "metadata": {"externalId": "x"}},
    ],
    ids=["empty-payment-method-types", "metadata-external-id"],
)
def test_stripe_empty_payment_method_types_or_reserved_metadata_is_refused(
    details: dict[str, object],
) -> None:
    request_object = {"amount": "100", "currency": "usd", "methodDetails": details}
    [challenge] = parse_www_authenticate(payment(request=b64(request_object)))
    with pytest.raises(MppParseError):
        parse_stripe_request(challenge).check_payable()


# --- Credential building -----------------------------------------------------------------


def _decode_credential(header: str) -> dict[str, object]:
    scheme, _, token = header.partition(" ")
    assert scheme == "Payment" and "=" not in token
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def test_credential_is_json_challenge_payload_base64url_without_padding() -> None:
    [challenge] = parse_www_authenticate(payment(expires="2030-01-01T00:00:00Z"))
    header = format_authorization(build_credential(challenge, "spt_abc"))
    assert "\r" not in header and "\n" not in header
    decoded = _decode_credential(header)
    assert decoded == {
        "challenge": {
            "id": "ch_1",
            "realm": "shop.example",
            "method": "stripe",
            "intent": "charge",
            "request": REQUEST_B64,
            "expires": "2030-01-01T00:00:00Z",
        },
        "payload": {"spt": "spt_abc"},
    }


def test_echo_is_byte_for_byte_with_non_jcs_opaque_and_request_and_description() -> None:
    opaque = b64({"z": "1", "a": "2"}, sort_keys=False, pad=True)  # not JCS, padded
    request_param = b64(
        {"methodDetails": {"networkId": "p"}, "currency": "usd", "amount": "9"}, sort_keys=False
    )
    header = payment(
        request=request_param,
        opaque=opaque,
        description="Caf\\u00e9",
        digest="sha-256=abc=",
        header="Payment-Authorization",
        expires="2030-01-01T00:00:00.5+01:00",
    )
    [challenge] = parse_www_authenticate(header)
    echoed = _decode_credential(format_authorization(build_credential(challenge, "spt_x")))
    assert echoed["challenge"] == {
        "id": "ch_1",
        "realm": "shop.example",
        "method": "stripe",
        "intent": "charge",
        "request": request_param,
        "opaque": opaque,
        "description": "Café",
        "digest": "sha-256=abc=",
        "header": "Payment-Authorization",
        "expires": "2030-01-01T00:00:00.5+01:00",
    }


def test_session_payload_is_open_with_granted_token() -> None:
    [challenge] = parse_www_authenticate(payment(intent="session"))
    decoded = _decode_credential(format_authorization(build_credential(challenge, "spt_s")))
    assert decoded["payload"] == {"action": "open", "grantedToken": "spt_s"}
    assert decoded["challenge"]["intent"] == "session"  # type: ignore[index]


def test_stripe_payload_carries_external_id_iff_the_request_has_one() -> None:
    with_id = dict(STRIPE_REQUEST, externalId="order-9")
    [tagged] = parse_www_authenticate(payment(request=b64(with_id)))
    [plain] = parse_www_authenticate(payment())
    assert stripe.credential_payload(tagged, "spt_1") == {"spt": "spt_1", "externalId": "order-9"}
    assert stripe.credential_payload(plain, "spt_1") == {"spt": "spt_1"}


def test_authorization_round_trip_and_with_another_scheme() -> None:
    [challenge] = parse_www_authenticate(payment(description="d"))
    credential = Credential(challenge=challenge, payload={"spt": "x"}, source="did:example:1")
    header = format_authorization(credential)
    assert parse_authorization(header) == credential
    assert parse_authorization(f"Bearer abc, {header}") == credential


def test_two_payment_credentials_in_one_value_are_refused() -> None:
    [challenge] = parse_www_authenticate(payment())
    header = format_authorization(build_credential(challenge, "spt"))
    with pytest.raises(MppParseError, match="More than one"):
        parse_authorization(f"{header}, {header}")


def test_credential_errors_never_echo_credential_data() -> None:
    secret = "spt_secret_value_123"
    token = _wire.b64url_encode(json.dumps({"challenge": {"id": secret}, "payload": {}}).encode())
    for bad in (f"Payment {token}", f"Payment {secret}!", f'Payment x="{secret}"'):
        with pytest.raises(MppParseError) as info:
            parse_authorization(bad)
        assert secret not in str(info.value)


# --- Responses ---------------------------------------------------------------------------


def test_receipt_is_parsed_and_extras_kept() -> None:
    data = {
        "status": "success",
        "method": "stripe",
        "timestamp": "2026-11-25T13:00:00Z",
        "reference": "pi_123",
        "externalId": "order-9",
        "extra": {"nested": True},
    }
    receipt = parse_payment_receipt(b64(data))
    assert (receipt.method, receipt.reference, receipt.status) == ("stripe", "pi_123", "success")
    assert dict(receipt.extra) == {"externalId": "order-9", "extra": {"nested": True}}
    assert parse_payment_receipt(format_payment_receipt(receipt)) == receipt


def test_receipt_without_success_status_or_fields_is_refused() -> None:
    base = {"status": "success", "method": "stripe", "timestamp": "t", "reference": "pi"}
    for broken in (dict(base, status="failed"), {k: v for k, v in base.items() if k != "method"}):
        with pytest.raises(MppParseError):
            parse_payment_receipt(b64(broken))


def test_receipt_format_twin() -> None:
    receipt = Receipt(method="stripe", reference="pi_1", timestamp="2030-01-01T00:00:00Z")
    assert parse_payment_receipt(format_payment_receipt(receipt)) == receipt


# --- MCP (mpp §3.1) -------------------------------------------------------------------


def _mcp_challenge(**changes: object) -> dict[str, object]:
    challenge: dict[str, object] = {
        "id": "ch_m",
        "realm": "tools.example",
        "method": "stripe",
        "intent": "charge",
        "request": STRIPE_REQUEST,
        "expires": "2099-01-01T00:00:00Z",
    }
    challenge.update(changes)
    return challenge


def _payment_error(code: int, *challenges: dict[str, object]) -> dict[str, object]:
    data = {"httpStatus": 402, "challenges": list(challenges)}
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": code, "message": "Payment Required", "data": data},
    }


@pytest.mark.parametrize(
    "opaque",
    [None, {"_mpp_nonce": "ab" * 32}, "eyJvcmRlciI6Im8tNzcifQ"],
    ids=["none", "object", "string"],
)
def test_mcp_32042_challenges_with_object_request_and_either_opaque_are_paid_with_an_exact_echo(
    opaque: object,
) -> None:
    from link_cli.mpp import mcp

    sent = _mcp_challenge(**({"opaque": opaque} if opaque is not None else {}))
    tempo = _mcp_challenge(id="t", method="tempo", request={"amount": "1"})
    [first, second] = mcp.parse_mcp_challenges(_payment_error(-32042, tempo, sent))
    chosen = mcp.select_stripe([first, second])
    assert chosen is second and chosen.challenge.request_json() == STRIPE_REQUEST
    assert parse_stripe_request(chosen.challenge).network_id == "profile_test_123"
    meta = mcp.build_credential_meta(chosen, stripe.credential_payload(chosen.challenge, "spt_1"))
    assert meta == {"org.paymentauth/credential": {"challenge": sent, "payload": {"spt": "spt_1"}}}
    assert meta["org.paymentauth/credential"]["challenge"] is not sent  # a copy, never shared


def test_mcp_32043_is_a_new_attempt_and_tool_results_can_carry_challenges() -> None:
    from link_cli.mpp import mcp

    [again] = mcp.parse_mcp_challenges(_payment_error(-32043, _mcp_challenge(id="ch_2")))
    assert again.challenge.id == "ch_2"
    result = {
        "result": {
            "content": [],
            "_meta": {
                "org.paymentauth/payment-required": {"challenges": [_mcp_challenge(id="ch_3")]}
            },
        }
    }
    assert [c.challenge.id for c in mcp.parse_mcp_challenges(result)] == ["ch_3"]


@pytest.mark.parametrize(
    "message",
    [
        {"error": {"code": -32042, "message": "Rate limited", "data": {"retryAfter": 3}}},
        {"error": {"code": -32042, "message": "Payment Required"}},
        {"error": {"code": -32602, "message": "Invalid params", "data": {"challenges": [{}]}}},
        {"result": {"content": []}},
    ],
    ids=["32042-other-use", "32042-no-data", "other-code", "plain-result"],
)
def test_mcp_error_without_challenges_is_not_a_payment(message: dict[str, object]) -> None:
    from link_cli.mpp import mcp

    assert mcp.parse_mcp_challenges(message) == []


def test_mcp_malformed_challenges_are_skipped_and_all_bad_is_an_error() -> None:
    from link_cli.mpp import mcp

    bad = _mcp_challenge(request="eyJhIjoxfQ")  # HTTP-style string request: not for MCP
    [good] = mcp.parse_mcp_challenges(_payment_error(-32042, bad, _mcp_challenge()))
    assert good.challenge.id == "ch_m"
    with pytest.raises(MppParseError, match="request must be an object"):
        mcp.parse_mcp_challenges(_payment_error(-32042, bad))


def test_mcp_receipt_is_read_from_result_meta_or_the_message_root() -> None:
    from link_cli.mpp import mcp

    receipt = {
        "status": "success",
        "method": "stripe",
        "timestamp": "2030-01-01T00:00:00Z",
        "challengeId": "ch_m",
        "reference": "pi_1",
    }
    for message in (
        {"result": {"content": [], "_meta": {"org.paymentauth/receipt": receipt}}},
        {"result": "ok", "_meta": {"org.paymentauth/receipt": receipt}},
    ):
        parsed = mcp.parse_mcp_receipt(message)
        assert parsed is not None and parsed.reference == "pi_1"
        assert parsed.extra["challengeId"] == "ch_m"
    assert mcp.parse_mcp_receipt({"result": {"content": []}}) is None
    with pytest.raises(MppParseError, match="challengeId"):
        mcp.parse_mcp_receipt({"_meta": {"org.paymentauth/receipt": receipt | {"challengeId": 1}}})
