"""Sign-in page, sign-out, session checks and CSRF protection of every form."""

from __future__ import annotations

import httpx2
import pytest
from tests.support.person import Person
from tests.support.wallet import WalletProcess

from link_cli.demo.pages import parse_forms


def _signin(person: Person, password: str, next_path: str = "") -> httpx2.Response:
    url = "/signin" + (f"?next={next_path}" if next_path else "")
    return person.submit_form(url, {"email": person.email, "password": password}, action="/signin")


def test_sign_in_and_out(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    home = person.sign_in()
    assert home.url.path == "/wallet"
    assert person.email in home.text
    assert "4242" in home.text
    assert "Visa" in home.text

    signed_out = person.submit_form("/wallet", {}, action="/signout")
    assert signed_out.url.path == "/signin"
    assert not person.is_signed_in()


def test_a_copied_cookie_stops_working_after_sign_out(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    person.sign_in()
    stolen = httpx2.Client(base_url=wallet.url, cookies=dict(person.client.cookies), timeout=10)
    assert stolen.get("/wallet", follow_redirects=False).status_code == 200
    person.submit_form("/wallet", {}, action="/signout")
    assert stolen.get("/wallet", follow_redirects=False).status_code == 303
    stolen.close()


def test_wrong_password_is_refused_with_a_clear_message(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    response = _signin(person, "not my password")
    assert response.status_code == 401
    assert "match" in response.text
    assert not person.is_signed_in()


def test_unknown_email_gets_the_same_answer(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    person.email = "nobody-here@example.com"
    response = _signin(person, "whatever-password")
    assert response.status_code == 401
    assert "match" in response.text


def test_sign_in_is_throttled_after_five_failures(wallet: WalletProcess) -> None:
    person = wallet.create_person()
    for _ in range(5):
        assert _signin(person, "wrong-password").status_code == 401
    locked = _signin(person, person.password)  # even the right password waits now
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text
    assert not person.is_signed_in()


def test_throttle_window_passes(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet = make_wallet()
    person = wallet.create_person()
    for _ in range(5):
        _signin(person, "wrong-password")
    assert _signin(person, person.password).status_code == 429
    wallet.advance_clock(15 * 60 + 1)
    assert _signin(person, person.password).url.path == "/wallet"


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/wallet/cards/new", "/wallet/cards/new"),
        ("https://evil.example/", "/wallet"),
        ("//evil.example/x", "/wallet"),
        ("/\\evil.example", "/wallet"),
    ],
)
def test_next_only_goes_to_local_paths(wallet: WalletProcess, next_path: str, landing: str) -> None:
    person = wallet.create_person()
    response = _signin(person, person.password, next_path)
    assert response.url.host == "127.0.0.1"
    assert response.url.path == landing


def test_pages_redirect_to_sign_in(wallet: WalletProcess) -> None:
    client = httpx2.Client(base_url=wallet.url, timeout=10)
    for path in ("/wallet", "/wallet/cards/new", "/device/setup"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next={path}"
    client.close()


def test_session_cookie_is_httponly_and_samesite(wallet: WalletProcess) -> None:
    response = httpx2.get(f"{wallet.url}/signin", timeout=10)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert response.headers["x-frame-options"] == "DENY"


class TestCsrf:
    def test_post_without_token_is_refused(self, wallet: WalletProcess) -> None:
        person = wallet.create_person()
        person.client.get("/signin")
        response = person.client.post(
            "/signin", data={"email": person.email, "password": person.password}
        )
        assert response.status_code == 403
        assert not person.is_signed_in()

    def test_token_from_another_session_is_refused(self, wallet: WalletProcess) -> None:
        person = wallet.create_person()
        attacker = wallet.create_person()
        _page, form = attacker.get_form("/signin", action="/signin")
        person.client.get("/signin")
        response = person.client.post(
            "/signin",
            data={
                "csrf_token": form.fields["csrf_token"],
                "email": person.email,
                "password": person.password,
            },
        )
        assert response.status_code == 403

    def test_forged_token_is_refused(self, wallet: WalletProcess) -> None:
        person = wallet.create_person()
        response = person.submit_form(
            "/signin",
            {"csrf_token": "forged.token", "email": person.email, "password": person.password},
            action="/signin",
        )
        assert response.status_code == 403

    @pytest.mark.parametrize(
        "headers",
        [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
    )
    def test_cross_site_posts_are_refused(
        self, wallet: WalletProcess, headers: dict[str, str]
    ) -> None:
        person = wallet.create_person()
        person.sign_in()
        _page, form = person.get_form("/wallet", action="/signout")
        response = person.client.post("/signout", data=form.fields, headers=headers)
        assert response.status_code == 403
        assert person.is_signed_in()

    def test_same_origin_header_is_accepted(self, wallet: WalletProcess) -> None:
        person = wallet.create_person()
        _page, form = person.get_form("/signin", action="/signin")
        response = person.client.post(
            "/signin",
            data={**form.fields, "email": person.email, "password": person.password},
            headers={"Origin": wallet.url, "Sec-Fetch-Site": "same-origin"},
        )
        assert response.url.path == "/wallet"

    def test_every_post_form_carries_a_token(self, wallet: WalletProcess) -> None:
        person = wallet.create_person()
        person.sign_in()
        for path in ("/wallet", "/wallet/cards/new", "/signin"):
            for form in parse_forms(person.client.get(path).text):
                if form.method == "post":
                    assert form.fields.get("csrf_token"), (path, form.action)
