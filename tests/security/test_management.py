"""The management pages (docs/security.md, "Management"): sign-in required, CSRF on every
change, one person can never see or act on another's agents, cards or addresses (404, as an
unknown id), revocation is immediate for both tokens, and the password change is throttled
like sign-in. Over real HTTP against the session wallet."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import httpx2
import pytest
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.person import CLIENT_ID, Person, bearer
from tests.support.wallet import WalletProcess

pytestmark = pytest.mark.server


def _csrf(person: Person) -> str:
    """A valid CSRF token of ``person``'s own session (from their profile page)."""
    if not person.is_signed_in():
        person.sign_in()
    _, form = person.get_form("/wallet/profile", action="/wallet/profile")
    return form.fields["csrf_token"]


@pytest.fixture(scope="module")
def two(wallet: WalletProcess) -> Iterator[tuple[ApiAgent, ApiAgent]]:
    """Two people, each with a card, a shipping address, a connected agent and a request."""
    first, second = new_agent(wallet), new_agent(wallet)
    for api in (first, second):
        api.create_ok(card_body(merchant_name=f"Shop of {api.person.email}"))
    yield first, second
    first.close()
    second.close()


def test_pages_need_sign_in(wallet: WalletProcess) -> None:
    with httpx2.Client(base_url=wallet.url, follow_redirects=False, timeout=15) as anonymous:
        for path in ("/wallet/agents", "/wallet/cards", "/wallet/addresses", "/wallet/profile",
                     "/wallet/history", "/wallet/history.csv"):  # fmt: skip
            response = anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/signin?next=")


def test_changes_without_the_csrf_token_are_refused(
    wallet: WalletProcess, two: tuple[ApiAgent, ApiAgent]
) -> None:
    person = two[0].person
    _csrf(person)
    card = person.payment_method_id
    for path in (f"/wallet/cards/{card}/default", f"/wallet/cards/{card}/remove",
                 "/wallet/profile", "/wallet/agents/grt_x/revoke"):  # fmt: skip
        response = person.client.post(path, data={"confirm": "1", "name": "Mallory"})
        assert response.status_code == 403, path
        assert "did not come from this wallet" in response.text
    # A valid token from another session does not pass either.
    other_token = _csrf(two[1].person)
    response = person.client.post("/wallet/profile", data={"csrf_token": other_token})
    assert response.status_code == 403


def test_one_person_cannot_touch_anothers_things(
    wallet: WalletProcess, two: tuple[ApiAgent, ApiAgent]
) -> None:
    mine, theirs = two
    token = _csrf(mine.person)
    their_card = theirs.person.payment_method_id
    shipping = theirs.client.get("/shipping_addresses").json()
    address_id = re.findall(r"shpadr_\w+", json.dumps(shipping))[0]
    _csrf(theirs.person)
    their_agent = re.findall(
        r"/wallet/agents/(grt_\w+)/revoke", theirs.person.client.get("/wallet/agents").text
    )[0]

    posts = {
        f"/wallet/agents/{their_agent}/revoke": {},
        f"/wallet/cards/{their_card}/remove": {"confirm": "1"},
        f"/wallet/cards/{their_card}/default": {},
        f"/wallet/cards/{their_card}/nickname": {"nickname": "mine now"},
        f"/wallet/addresses/{address_id}/edit": {"name": "X", "line_1": "1", "country_code": "US"},
        f"/wallet/addresses/{address_id}/remove": {},
        f"/wallet/addresses/{address_id}/default": {},
    }
    for path, fields in posts.items():
        response = mine.person.client.post(path, data={"csrf_token": token, **fields})
        assert response.status_code == 404, (path, response.status_code)
    for path in (f"/wallet/cards/{their_card}/remove", f"/wallet/addresses/{address_id}/edit"):
        assert mine.person.client.get(path).status_code == 404, path

    # Nothing of theirs shows on my pages, and their agent still works.
    for path in ("/wallet/agents", "/wallet/cards", "/wallet/addresses", "/wallet/history"):
        page = mine.person.client.get(path).text
        assert their_card not in page and address_id not in page and their_agent not in page
        assert theirs.person.email not in page.replace(mine.person.email, "")
    exported = mine.person.client.get("/wallet/history.csv").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows and all(row["merchant_name"] == f"Shop of {mine.person.email}" for row in rows)
    assert theirs.client.get("/userinfo").status_code == 200


def test_revoking_on_the_page_kills_access_and_refresh_tokens_at_once(
    any_wallet: WalletProcess,
) -> None:
    wallet = any_wallet
    api = new_agent(wallet)
    assert api.client.get("/userinfo").status_code == 200
    page = api.person.client.get("/wallet/agents")
    assert "Last used" in page.text and "never" not in page.text.split("Last used", 1)[1][:30]
    _, form = api.person.get_form("/wallet/agents")
    response = api.person.client.post(form.action, data=form.fields)
    assert response.status_code == 200 and "Agent disconnected" in response.text

    refused = api.client.get("/userinfo")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    refresh = httpx2.post(
        f"{wallet.url}/device/token",
        data={"grant_type": "refresh_token", "refresh_token": api.tokens["refresh_token"],
              "client_id": CLIENT_ID},
        timeout=10,
    )  # fmt: skip
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert httpx2.get(f"{wallet.url}/userinfo", headers=bearer(api.tokens)).status_code == 401
    api.close()


def test_removing_a_card_with_an_approved_credential_asks_first(
    any_wallet: WalletProcess,
) -> None:
    api = new_agent(any_wallet)
    created = api.create_ok(card_body())
    approve_spend_request(api.person, created["approval_url"])
    card = api.person.payment_method_id
    token = _csrf(api.person)
    unconfirmed = api.person.client.post(f"/wallet/cards/{card}/remove", data={"csrf_token": token})
    assert unconfirmed.status_code == 409 and created["id"] in unconfirmed.text
    assert api.status_of(created["id"]) == "approved"
    _, form = api.person.get_form(f"/wallet/cards/{card}/remove")
    assert form.fields.get("confirm") == "1"
    done = api.person.client.post(form.action, data=form.fields)
    assert done.status_code == 200 and "Card removed" in done.text
    assert api.status_of(created["id"]) == "canceled"
    api.close()


def test_password_change_checks_the_current_one_and_is_throttled(wallet: WalletProcess) -> None:
    person = wallet.create_person(with_card=False)
    elsewhere = Person(wallet=wallet, email=person.email, password=person.password,
                       user_id=person.user_id, payment_method_id=None)  # fmt: skip
    elsewhere.sign_in()
    token = _csrf(person)

    def change(current: str, new: str = "a fresh passphrase") -> httpx2.Response:
        return person.client.post(
            "/wallet/profile/password",
            data={"csrf_token": token, "current_password": current, "new_password": new,
                  "repeat_password": new},
        )  # fmt: skip

    assert change(person.password, "short").status_code == 403  # too weak, nothing changed
    ok = change(person.password)
    assert ok.status_code == 200 and "Password changed" in ok.text
    # This browser stays signed in; every other session of the person ended.
    assert person.is_signed_in() and not elsewhere.is_signed_in()
    elsewhere.close()
    person.password = "a fresh passphrase"
    statuses = [change("not my password").status_code for _ in range(5)]
    assert statuses == [403] * 5
    throttled = change(person.password)  # even the right one waits now
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def test_bad_input_on_the_pages_is_a_clear_4xx(
    wallet: WalletProcess, two: tuple[ApiAgent, ApiAgent]
) -> None:
    person = two[0].person
    token = _csrf(person)
    long_id = "csmrpd_" + "x" * 5000
    gets = [
        "/wallet/history?status=weird",
        "/wallet/history?since=2026-13-40",
        "/wallet/history?since=2026-02-01&until=2026-01-01",
        "/wallet/history?merchant=" + "m" * 300,
        "/wallet/history.csv?status=weird",
        f"/wallet/cards/{long_id}/remove",
        "/wallet/cards/%E2%80%AE/remove",
        "/wallet/addresses/shpadr_nope/edit",
    ]
    for path in gets:
        response = person.client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert "x" * 100 not in response.text
    posts = {
        f"/wallet/cards/{person.payment_method_id}/nickname": {"nickname": "n" * 101},
        f"/wallet/cards/{person.payment_method_id}/nickname?x=1": {"nickname": "a\u202eb"},
        "/wallet/addresses/new": {"name": "x" * 300, "line_1": "", "country_code": "U\u0000"},
        "/wallet/profile": {"name": "n" * 201, "phone": "+1 555"},
        "/wallet/profile/password": {"current_password": "", "new_password": "a",
                                     "repeat_password": "b"},
        f"/wallet/agents/{long_id}/revoke": {},
    }  # fmt: skip
    for path, fields in posts.items():
        response = person.client.post(path, data={"csrf_token": token, **fields})
        assert 400 <= response.status_code < 500, (path, response.status_code)
    page = person.client.get("/wallet/cards").text
    assert "n" * 101 not in page and "a\u202eb" not in page
