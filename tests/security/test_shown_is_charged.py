"""What the person is shown is what is charged (issue 10, class 9), against real wallet
processes on SQLite and PostgreSQL (``any_wallet``).

A ``total`` that contradicts the amount, a currency outside ISO 4217, invisible or
text-direction characters in anything a person reads, NUL bytes and non-ASCII digits in ids,
amounts and forms, deeply nested form names: each is a clean 4xx, never a 5xx. Spend limits
hold per currency. Shared payment token ids never reach the access log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from tests.redemption.delegated import (
    DelegatedAgent,
    Merchant,
    confirm,
    delegated_agent,
    register_merchant,
    spt_form,
)
from tests.support.approvals import (
    ApiAgent,
    approval_path,
    approve_spend_request,
    card_body,
    new_agent,
)
from tests.support.person import CLIENT_ID
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.postgres

# Invisible or direction-changing characters (and a C0 and a C1 control), each of which
# would let text read differently from what it is.
UNSAFE = {
    "U+200B zero width space": "\u200b",
    "U+200C zero width non-joiner": "\u200c",
    "U+200D zero width joiner": "\u200d",
    "U+200E left-to-right mark": "\u200e",
    "U+200F right-to-left mark": "\u200f",
    "U+061C arabic letter mark": "\u061c",
    "U+FEFF byte order mark": "\ufeff",
    "U+2028 line separator": "\u2028",
    "U+2029 paragraph separator": "\u2029",
    "U+202A left-to-right embedding": "\u202a",
    "U+202E right-to-left override": "\u202e",
    "U+2066 left-to-right isolate": "\u2066",
    "U+2069 pop directional isolate": "\u2069",
    "U+2060 word joiner": "\u2060",
    "U+00AD soft hyphen": "\u00ad",
    "U+0085 next line (C1)": "\x85",
    "U+001B escape (C0)": "\x1b",
}

UNICODE_DIGITS = {
    "arabic-indic": "١٠٠",
    "fullwidth": "１００",
    "superscript": "²",
    "devanagari": "१०",
}

_agents: dict[str, ApiAgent] = {}


@pytest.fixture
def agent(any_wallet: WalletProcess) -> ApiAgent:
    """One logged-in agent per wallet, for the refusals (they create nothing)."""
    if any_wallet.url not in _agents:
        _agents[any_wallet.url] = new_agent(any_wallet)
    return _agents[any_wallet.url]


@pytest.fixture
def fresh_agent(any_wallet: WalletProcess) -> Iterator[ApiAgent]:
    """A new person and agent: nothing they spent before counts against a limit."""
    made = new_agent(any_wallet)
    yield made
    made.close()


@pytest.fixture
def merchant(any_wallet: WalletProcess) -> Merchant:
    return register_merchant(any_wallet)


def refused(response: httpx2.Response, status: int, param_prefix: str | None = None) -> Any:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if param_prefix is not None:
        assert str(error.get("param", "")).startswith(param_prefix), error
    return error


# -- totals ---------------------------------------------------------------------------------


def test_a_total_that_contradicts_the_amount_is_refused(agent: ApiAgent) -> None:
    body = card_body(amount=50000)
    body["totals"] = [{"type": "total", "display_text": "Total", "amount": 100}]
    error = refused(agent.create(body), 422, "totals")
    assert error["param"] == "totals[0][amount]"
    assert "50000" in error["message"] and "100" in error["message"]


def test_an_update_cannot_make_the_total_contradict_the_amount(fresh_agent: ApiAgent) -> None:
    created = fresh_agent.create_ok(card_body(amount=5000))
    refused(fresh_agent.update(created["id"], {"amount": 4000}), 422, "totals")
    refused(
        fresh_agent.update(
            created["id"], {"totals": [{"type": "total", "display_text": "T", "amount": 1}]}
        ),
        422,
        "totals",
    )
    assert fresh_agent.retrieve(created["id"]).json()["amount"] == 5000
    both = {"amount": 4000, "totals": [{"type": "total", "display_text": "T", "amount": 4000}]}
    assert fresh_agent.update(created["id"], both).status_code == 200


# -- currencies -----------------------------------------------------------------------------


def test_kwd_is_shown_with_three_decimals_on_the_approval_page(fresh_agent: ApiAgent) -> None:
    body = card_body(
        amount=1500,
        currency="KWD",
        line_items=[{"name": "Charger", "quantity": 1, "unit_amount": 1500}],
        totals=[{"type": "total", "display_text": "Total", "amount": 1500}],
    )
    created = fresh_agent.create_ok(body)
    assert created["currency"] == "kwd"
    person = fresh_agent.person
    if not person.is_signed_in():
        person.sign_in()
    page = person.client.get(approval_path(created["approval_url"]))
    assert page.status_code == 200
    assert "1.500 KWD" in page.text
    assert "15.00 KWD" not in page.text


@pytest.mark.parametrize("currency", ["xyz", "usx", "xts", "xau", "btc", "us$", "ｕｓｄ"])
def test_a_currency_outside_iso_4217_is_refused(agent: ApiAgent, currency: str) -> None:
    error = refused(agent.create(card_body(currency=currency)), 422, "currency")
    assert error["code"] == "parameter_invalid"


def test_a_payment_intent_in_an_unknown_currency_is_refused(
    any_wallet: WalletProcess, merchant: Merchant
) -> None:
    form = spt_form("spt_unused", currency="xyz")
    error = refused(confirm(any_wallet, merchant, form), 400, "currency")
    assert error["type"] == "invalid_request_error"


def test_daily_spend_is_per_currency(fresh_agent: ApiAgent) -> None:
    """The default daily limit is 50000 minor units: a full USD day leaves EUR untouched."""
    usd = fresh_agent.create_ok(card_body(amount=50000, totals=[]))
    approve_spend_request(fresh_agent.person, usd["approval_url"])

    eur = fresh_agent.create_ok(card_body(amount=50000, currency="eur", totals=[]))
    approve_spend_request(fresh_agent.person, eur["approval_url"])
    assert fresh_agent.status_of(eur["id"]) == "approved"

    error = refused(fresh_agent.create(card_body(amount=1, totals=[])), 429)
    assert (error["code"], error["limit"]) == ("spend_limit_exceeded", "daily_spend")
    assert "USD" in error["message"]


# -- invisible and direction characters, one rule everywhere --------------------------------

_SPEND_TEXT_FIELDS = (
    "merchant_name",
    "context",
    "line_items[0][name]",
    "line_items[0][description]",
    "totals[0][display_text]",
)


def _with_text(field: str, text: str) -> dict[str, Any]:
    body = card_body()
    if field == "merchant_name":
        body["merchant_name"] = f"Shop{text} 10$"
    elif field == "context":
        body["context"] = body["context"] + text + " ok"
    elif field.startswith("line_items"):
        key = field.split("[")[-1].rstrip("]")
        body["line_items"] = [{"name": "Charger", "quantity": 2, "unit_amount": 2500}]
        body["line_items"][0][key] = f"Charger{text} x2"
    else:
        body["totals"] = [{"type": "total", "display_text": f"Total{text}", "amount": 5000}]
    return body


@pytest.mark.parametrize("char", UNSAFE.values(), ids=UNSAFE.keys())
def test_spend_request_text_with_an_unsafe_character_is_refused(agent: ApiAgent, char: str) -> None:
    for field in _SPEND_TEXT_FIELDS:
        error = refused(agent.create(_with_text(field, char)), 422, field)
        assert "control or text-direction" in error["message"], (field, error)
    items = [{"name": f"Charger{char}", "quantity": 1, "unit_amount": 5000}]
    created = agent.create_ok(card_body())
    refused(agent.update(created["id"], {"line_items": items}), 422, "line_items[0][name]")


@pytest.mark.parametrize("char", UNSAFE.values(), ids=UNSAFE.keys())
def test_card_nickname_and_name_with_an_unsafe_character_are_refused(
    any_wallet: WalletProcess, agent: ApiAgent, char: str
) -> None:
    person = agent.person
    if not person.is_signed_in():
        person.sign_in()
    card = {
        "number": "4000056655665556",
        "exp_month": "12",
        "exp_year": "2034",
        "cvc": "123",
        "name": "Jenny Rosen",
        "line1": "1 Main St",
        "country": "US",
    }
    for field in ("nickname", "name", "line1"):
        page = person.submit_form(
            "/wallet/cards/new", {**card, field: f"Card{char}1"}, action="/wallet/cards/new"
        )
        assert page.status_code == 400, (field, page.status_code)
        assert "Remove control characters." in page.text


@pytest.mark.parametrize("char", UNSAFE.values(), ids=UNSAFE.keys())
def test_a_person_name_with_an_unsafe_character_is_refused(
    any_wallet: WalletProcess, char: str
) -> None:
    email = f"person-{secrets.token_hex(6)}@example.com"
    with pytest.raises(Exception, match="control characters"):
        any_wallet.store().create_user(email, "a long enough password 1", f"Jenny{char} Rosen")


def test_connection_labels_are_cleaned_of_every_unsafe_character(
    any_wallet: WalletProcess,
) -> None:
    label = "Agent" + "".join(UNSAFE.values()) + " on host"
    response = httpx2.post(
        f"{any_wallet.url}/device/code",
        data={"client_id": CLIENT_ID, "connection_label": label, "client_hint": label},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    stored = any_wallet.stored_values()
    assert "Agent on host" in stored
    assert not any(char in value for value in stored for char in UNSAFE.values())


# -- NUL bytes ------------------------------------------------------------------------------


def test_nul_in_ids_and_query_strings_is_a_clean_400(
    any_wallet: WalletProcess, agent: ApiAgent, merchant: Merchant
) -> None:
    for path in (
        "/spend_requests/lsrq_%00abc",
        "/spend_requests/%00",
        "/spend_requests?include_history=%00",
        "/spend_requests/lsrq_abc?include=card%00",
    ):
        refused(agent.client.get(path), 400)
    for path in ("/v1/payment_intents/pi_%00x", "/v1/shared_payment/granted_tokens/spt_%00x"):
        response = httpx2.get(f"{any_wallet.url}{path}", headers=merchant.auth, timeout=10)
        assert refused(response, 400)["type"] == "invalid_request_error"
    page = agent.person.client.get("/approve/lsrq_%00x")
    assert page.status_code == 400
    assert httpx2.get(f"{any_wallet.url}/device/setup?code=AB%00CD", timeout=10).status_code == 400


def test_nul_in_json_strings_is_a_clean_4xx(agent: ApiAgent) -> None:
    for change in (
        {"payment_details": "csmrpd_\x00"},
        {"merchant_name": "Shop\x00"},
        {"merchant_url": "https://shop.example/\x00"},
        {"metadata": {"order": "1\x00"}},
        {"metadata": {"or\x00der": "1"}},
    ):
        response = agent.create({**card_body(), **change})
        assert 400 <= response.status_code < 500, (change, response.text)
    created = agent.create_ok(card_body())
    response = agent.update(created["id"], {"payment_details": "csmrpd_\x00"})
    assert 400 <= response.status_code < 500, response.text


def test_nul_in_form_values_is_a_clean_400(any_wallet: WalletProcess, merchant: Merchant) -> None:
    device = httpx2.post(
        f"{any_wallet.url}/device/code",
        data={"client_id": CLIENT_ID + "\x00", "connection_label": "x"},
        timeout=10,
    )
    assert device.status_code == 400 and device.json()["error"] == "invalid_request"
    token = httpx2.post(
        f"{any_wallet.url}/device/token",
        data={"grant_type": "x", "device_code": "dc_\x00", "client_id": CLIENT_ID},
        timeout=10,
    )
    assert token.status_code == 400
    signin = httpx2.post(
        f"{any_wallet.url}/signin",
        data={"email": "a\x00@example.com", "password": "x"},
        timeout=10,
    )
    assert 400 <= signin.status_code < 500
    error = refused(confirm(any_wallet, merchant, spt_form("spt_\x00abc")), 400)
    assert error["type"] == "invalid_request_error"


# -- digits and form nesting ----------------------------------------------------------------


@pytest.mark.parametrize("digits", UNICODE_DIGITS.values(), ids=UNICODE_DIGITS.keys())
def test_unicode_digits_are_not_amounts_or_card_numbers(
    any_wallet: WalletProcess, merchant: Merchant, agent: ApiAgent, digits: str
) -> None:
    form = {**spt_form("spt_unused"), "amount": digits}
    assert refused(confirm(any_wallet, merchant, form), 400, "amount")["code"] == (
        "parameter_invalid_integer"
    )
    # A list index in Unicode digits is a hash key, not an index: a clean 400.
    listed = {**spt_form("spt_unused"), f"payment_method_types[{digits}]": "card"}
    del listed["payment_method_types[0]"]
    assert confirm(any_wallet, merchant, listed).status_code == 400
    card = {
        "amount": "1000",
        "currency": "usd",
        "confirm": "true",
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4242424242424242",
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2034",
        "payment_method_data[card][cvc]": digits + "1" * (3 - len(digits)),
    }
    assert 400 <= confirm(any_wallet, merchant, card).status_code < 500
    person = agent.person
    if not person.is_signed_in():
        person.sign_in()
    page = person.submit_form(
        "/wallet/cards/new",
        {
            "number": "4000056655665556",
            "exp_month": digits,
            "exp_year": "2034",
            "cvc": "123",
            "name": "Jenny Rosen",
            "line1": "1 Main St",
            "country": "US",
        },
        action="/wallet/cards/new",
    )
    assert page.status_code == 400


def test_a_deeply_nested_form_name_is_a_400(any_wallet: WalletProcess, merchant: Merchant) -> None:
    for depth in (9, 100, 5000):
        form = {**spt_form("spt_unused"), "metadata" + "[a]" * depth: "x"}
        error = refused(confirm(any_wallet, merchant, form), 400)
        assert error["type"] == "invalid_request_error"


# -- the access log -------------------------------------------------------------------------


def test_a_token_id_never_reaches_the_access_log(
    any_wallet: WalletProcess, merchant: Merchant
) -> None:
    spender: DelegatedAgent = delegated_agent(any_wallet)
    _, spt = spender.approved_spt(merchant.network_id)
    looked_up = httpx2.get(
        f"{any_wallet.url}/v1/shared_payment/granted_tokens/{spt}",
        headers=merchant.auth,
        timeout=10,
    )
    assert looked_up.status_code == 200
    assert confirm(any_wallet, merchant, spt_form(spt)).status_code == 200

    def logged() -> list[dict[str, Any]]:
        lines = (line for line in any_wallet.log_text().splitlines() if line.startswith("{"))
        return [entry for entry in map(json.loads, lines) if entry.get("event") == "request"]

    # Each request is logged once it is answered; another round trip lets the line land.
    for _ in range(50):
        if any(e["path"] == "/v1/shared_payment/granted_tokens/spt_[redacted]" for e in logged()):
            break
        httpx2.get(f"{any_wallet.url}/healthz", timeout=10)
    else:
        raise AssertionError("the lookup was never logged")
    assert spt not in any_wallet.log_text()
    assert spt.removeprefix("spt_") not in any_wallet.log_text()
