"""The demo shop on its own (no wallet behind it): discovery files, 402 challenges and
the refusals the codec decides, and the checkout form's safety rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from tests.merchant.shop_process import CHALLENGE_SECRET, ShopProcess
from tests.support.ports import free_port

from link_cli.mpp.challenge import parse_www_authenticate
from link_cli.mpp.credential import format_authorization
from link_cli.mpp.methods.stripe import build_credential, parse_stripe_request
from link_cli.mpp.problems import parse_problem
from link_cli.mpp.server import PaymentServer

pytestmark = pytest.mark.server  # starts server processes itself

NETWORK_ID = "profile_shop_test"
# Not a published test number: those the shop refuses before asking the wallet.
CARD = "4000000000003386"


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopProcess]:
    # Nothing listens on this port: settlement attempts fail as "wallet unavailable".
    with ShopProcess(
        wallet_url=f"http://127.0.0.1:{free_port()}",
        secret_key="sk_test_unused",
        network_id=NETWORK_ID,
    ) as process:
        yield process


def probe(shop: ShopProcess, **kwargs) -> httpx2.Response:
    return httpx2.get(shop.url + "/api/forecast?city=Oslo", timeout=10, **kwargs)


def test_agents_txt_and_llms_txt_invite_agents_to_buy(shop: ShopProcess) -> None:
    agents = httpx2.get(shop.url + "/agents.txt").text
    assert "Agents-may-purchase: yes" in agents
    assert f"{shop.url}/checkout" in agents and f"{shop.url}/api/forecast" in agents
    assert NETWORK_ID in agents
    llms = httpx2.get(shop.url + "/llms.txt").text
    assert "agents may buy" in llms.lower()
    assert "402" in llms and "/checkout?item=" in llms and NETWORK_ID in llms


def test_unpaid_call_gets_a_stripe_charge_challenge_for_the_shop(shop: ShopProcess) -> None:
    response = probe(shop)
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    assert parse_problem(response.content).type.endswith("/payment-required")
    (challenge,) = parse_www_authenticate(response.headers["www-authenticate"])
    assert (challenge.method, challenge.intent) == ("stripe", "charge")
    request = parse_stripe_request(challenge)
    assert (request.amount, request.currency, request.network_id) == ("250", "usd", NETWORK_ID)
    assert challenge.expires_at() > datetime.now(UTC)


def refused(shop: ShopProcess, authorization: str) -> tuple[str, httpx2.Response]:
    response = probe(shop, headers={"Authorization": authorization})
    assert response.status_code == 402
    # Every refusal carries a fresh challenge to pay again.
    assert parse_www_authenticate(response.headers["www-authenticate"])
    return parse_problem(response.content).type.rsplit("/", 1)[-1], response


def a_challenge(shop: ShopProcess):
    (challenge,) = parse_www_authenticate(probe(shop).headers["www-authenticate"])
    return challenge


def test_a_tampered_credential_is_an_invalid_challenge(shop: ShopProcess) -> None:
    challenge = a_challenge(shop)
    cheaper = challenge.request_json() | {"amount": "1"}
    from link_cli.mpp import _wire, replace

    forged = replace(challenge, request=_wire.encode_b64_json(cheaper))
    kind, _ = refused(shop, format_authorization(build_credential(forged, "spt_x")))
    assert kind == "invalid-challenge"


def test_an_expired_challenge_is_refused_as_expired(shop: ShopProcess) -> None:
    challenge = a_challenge(shop)
    # The same server secret, an hour in the past: a genuine but stale challenge.
    past = PaymentServer(
        secret=CHALLENGE_SECRET.encode(),
        realm=challenge.realm,
        clock=lambda: datetime.now(UTC) - timedelta(hours=1),
    )
    stale = past.issue(
        method="stripe",
        intent="charge",
        request=challenge.request_json(),
        description=challenge.description,
    )
    kind, _ = refused(shop, format_authorization(build_credential(stale, "spt_x")))
    assert kind == "payment-expired"


def test_garbage_credentials_are_malformed(shop: ShopProcess) -> None:
    kind, _ = refused(shop, "Payment not-base64!!")
    assert kind == "malformed-credential"


def bad_request(shop: ShopProcess, headers: list[tuple[str, str]]) -> str:
    response = probe(shop, headers=headers)
    assert response.status_code == 400, response.text
    assert "www-authenticate" not in response.headers  # a client error, not "pay again"
    return parse_problem(response.content).type.rsplit("/", 1)[-1]


def test_two_credentials_in_one_request_are_a_bad_request(shop: ShopProcess) -> None:
    credential = format_authorization(build_credential(a_challenge(shop), "spt_x"))
    assert bad_request(shop, [("Authorization", f"{credential}, {credential}")]) == "bad-request"
    two_lines = [("Authorization", credential), ("Authorization", credential)]
    assert bad_request(shop, two_lines) == "bad-request"


@pytest.mark.parametrize(("method", "intent"), [("tempo", "charge"), ("stripe", "session")])
def test_a_credential_for_a_method_or_intent_not_offered_is_unsupported(
    shop: ShopProcess, method: str, intent: str
) -> None:
    from link_cli.mpp import replace

    other = replace(a_challenge(shop), method=method, intent=intent)
    authorization = format_authorization(build_credential(other, "spt_x"))
    assert bad_request(shop, [("Authorization", authorization)]) == "method-unsupported"


def test_a_valid_credential_is_settled_at_the_wallet_and_fails_cleanly_without_one(
    shop: ShopProcess,
) -> None:
    challenge = a_challenge(shop)
    response = probe(
        shop, headers={"Authorization": format_authorization(build_credential(challenge, "spt_x"))}
    )
    # The wallet is down: a retryable internal payment error, and no resource.
    assert response.status_code == 503
    assert parse_problem(response.content).type.endswith("/internal-payment-error")
    assert "paid" not in response.text


def test_checkout_renders_a_protected_card_form(shop: ShopProcess) -> None:
    page = httpx2.get(shop.url + "/checkout?item=coffee")
    assert page.status_code == 200
    html = page.text
    for name in ("number", "expiry", "cvc", "name", "line1", "city", "postal_code", "country"):
        assert f'name="{name}"' in html
    assert 'name="csrf_token"' in html and "$18.50" in html
    assert page.headers["x-frame-options"] == "DENY"
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert httpx2.get(shop.url + "/checkout?item=nope").status_code == 404


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf_token|order_ref|item)" value="([^"]*)"', html))


def card_form(fields: dict[str, str], **changes: str) -> dict[str, str]:
    return (
        fields
        | {
            "number": CARD,
            "expiry": "12/31",
            "cvc": "123",
            "name": "Ada Lovelace",
            "line1": "1 Analytical Way",
            "city": "London",
            "country": "GB",
        }
        | changes
    )


def test_a_post_without_the_csrf_token_is_refused_and_charges_nothing(shop: ShopProcess) -> None:
    with httpx2.Client(base_url=shop.url) as browser:
        fields = form_fields(browser.get("/checkout?item=coffee").text)
        response = browser.post("/checkout", data=card_form(fields, csrf_token="forged"))
    assert response.status_code == 403
    assert CARD not in response.text


def test_errors_never_echo_the_card_number(shop: ShopProcess) -> None:
    with httpx2.Client(base_url=shop.url) as browser:
        fields = form_fields(browser.get("/checkout?item=coffee").text)
        invalid = browser.post("/checkout", data=card_form(fields, expiry="13/99"))
        assert invalid.status_code == 422 and "MM/YY" in invalid.text
        assert CARD not in invalid.text
        down = browser.post("/checkout", data=card_form(fields))
    assert down.status_code == 503
    assert "not charged" in down.text and CARD not in down.text and "Ada Lovelace" in down.text
    # The form keeps its order reference: paying again can never charge twice.
    assert form_fields(down.text)["order_ref"] == fields["order_ref"]
