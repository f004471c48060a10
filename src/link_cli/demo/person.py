"""The wallet's owner, played by the demo through the wallet's real web pages.

With ``--auto-approve`` the demo does what the person would do in a browser: sign in at
``/signin``, open the device verification link and confirm the phrase, open a spend
request's approval page and press Approve. Every step is a GET of the page and a POST of
its form, CSRF token included (docs/internals.md "Form conventions"), so the demo walks
exactly the path a person's browser takes; nothing reaches into the wallet's database.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from link_cli.demo.pages import Form, FormBrowser, HttpPage

__all__ = ["PersonError", "WalletPerson"]


class PersonError(RuntimeError):
    """A wallet page did not behave as a person would expect (refused, error page)."""


@dataclass
class WalletPerson:
    """A signed-in browser session at one wallet, for one person."""

    wallet_url: str
    email: str
    password: str

    def __post_init__(self) -> None:
        self._browser = FormBrowser()

    def sign_in(self) -> None:
        """Sign in through ``/signin``; raises :class:`PersonError` when refused."""
        page = self._browser.get(f"{self.wallet_url}/signin")
        self._submit_sign_in(page)

    def approve_device(self, verification_url: str, phrase: str) -> None:
        """Open the device link, type the phrase the agent showed, and approve."""
        page = self._open(verification_url)
        form = _form_for_action(page, "approve", required=("user_code",))
        result = self._browser.submit(
            page, form, {"user_code": phrase}, button=_button(form, "approve")
        )
        _expect_ok(result, "approving the device")

    def approve_spend_request(self, approval_url: str) -> None:
        """Open a spend request's approval page and press Approve."""
        page = self._open(approval_url)
        form = _form_for_action(page, "approve")
        result = self._browser.submit(page, form, button=_button(form, "approve"))
        _expect_ok(result, "approving the spend request")

    def _open(self, url: str) -> HttpPage:
        """GET a wallet page, signing in first when the wallet asks for it."""
        if not url.startswith(self.wallet_url + "/"):
            # Only ever follow the wallet's own links with the person's session.
            raise PersonError(f"refusing to open {url!r}: it is not on {self.wallet_url}")
        page = self._browser.get(url)
        if _is_sign_in_page(page):
            page = self._submit_sign_in(page)
            if _path(page.url) != _path(url):
                page = self._browser.get(url)
        _expect_ok(page, f"opening {_path(url)}")
        return page

    def _submit_sign_in(self, page: HttpPage) -> HttpPage:
        try:
            form = page.form_with("email", "password")
        except LookupError as error:
            raise PersonError(f"the sign-in page has no sign-in form ({page.url})") from error
        result = self._browser.submit(page, form, {"email": self.email, "password": self.password})
        _expect_ok(result, "signing in")
        if _is_sign_in_page(result):
            raise PersonError("the wallet refused the demo person's password")
        return result


def _is_sign_in_page(page: HttpPage) -> bool:
    if _path(page.url) != "/signin":
        return False
    try:
        page.form_with("email", "password")
    except LookupError:
        return False
    return True


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _form_for_action(page: HttpPage, action: str, *, required: tuple[str, ...] = ()) -> Form:
    """The form whose ``action`` field or button carries ``action`` (approve / deny)."""
    for form in page.forms():
        if not all(form.has_field(name) for name in required):
            continue
        if form.fields.get("action") == action or ("action", action) in form.buttons:
            return form
    raise PersonError(f"no {action!r} button on {page.url}")


def _button(form: Form, action: str) -> tuple[str, str] | None:
    return ("action", action) if ("action", action) in form.buttons else None


def _expect_ok(page: HttpPage, doing: str) -> None:
    if page.status >= 400:
        raise PersonError(f"{doing} failed: the wallet answered HTTP {page.status} ({page.url})")
