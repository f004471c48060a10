"""A simulated person who uses the wallet's real pages over HTTP, as a browser would.

``get_form``/``submit_form`` fetch a page, read the form (including its ``csrf_token``) from the
HTML with the demo's form reader and post it, so every test goes through the same CSRF and
session checks as a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2

from link_cli.demo.pages import Form, parse_forms

if TYPE_CHECKING:
    from .wallet import WalletProcess

CLIENT_ID = "lwlpk_U7Qy7ThG69STZk"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class FormNotFound(AssertionError):
    """The page had no form matching the request (the body is in the message)."""


@dataclass
class Person:
    """Someone with an account in ``wallet``; ``client`` keeps their browser cookies."""

    wallet: WalletProcess
    email: str
    password: str
    user_id: str
    payment_method_id: str | None
    client: httpx2.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = httpx2.Client(base_url=self.wallet.url, timeout=15, follow_redirects=True)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    # -- generic page helpers ------------------------------------------------------------

    def get_form(self, url: str, action: str | None = None) -> tuple[httpx2.Response, Form]:
        """GET ``url`` and return the response with its form posting to ``action``.

        Without ``action``, the first POST form that is not the sign-out form.
        """
        response = self.client.get(url)
        for form in parse_forms(response.text):
            if action is not None and form.action == action:
                return response, form
            if action is None and form.method == "post" and form.action != "/signout":
                return response, form
        raise FormNotFound(
            f"no form {action or ''} on {url} (status {response.status_code}):\n{response.text}"
        )

    def submit_form(
        self, url: str, fields: dict[str, str], action: str | None = None
    ) -> httpx2.Response:
        """Fill the page's form with ``fields`` (over its own values) and post it."""
        page, form = self.get_form(url, action)
        target = form.action or urlsplit(str(page.url)).path
        return self.client.post(target, data={**form.fields, **fields})

    # -- what a person does ---------------------------------------------------------------

    def sign_in(self) -> httpx2.Response:
        """Sign in through the real form; raises if the wallet refuses."""
        response = self.submit_form(
            "/signin", {"email": self.email, "password": self.password}, action="/signin"
        )
        if urlsplit(str(response.url)).path == "/signin":
            raise AssertionError(f"sign-in refused ({response.status_code}): {response.text}")
        return response

    def is_signed_in(self) -> bool:
        """True when ``/wallet`` shows the person's page rather than a sign-in redirect."""
        response = self.client.get("/wallet")
        return urlsplit(str(response.url)).path == "/wallet"

    def _device_page(self, verification_url_or_phrase: str) -> str:
        value = verification_url_or_phrase
        if value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return "/device/setup?code=" + value

    def _answer_device(
        self, verification_url_or_phrase: str, action: str, extra: dict[str, str]
    ) -> httpx2.Response:
        if not self.is_signed_in():
            self.sign_in()
        page = self._device_page(verification_url_or_phrase)
        response = self.submit_form(page, {"action": action, **extra}, action="/device/setup")
        if response.status_code != 200:
            raise AssertionError(
                f"device {action} failed ({response.status_code}): {response.text}"
            )
        return response

    def approve_device(
        self, verification_url_or_phrase: str, grant_approve_scope: bool = False
    ) -> httpx2.Response:
        """Approve an agent login from its verification URL (or bare phrase)."""
        extra = {"allow_approve_scope": "1"} if grant_approve_scope else {}
        return self._answer_device(verification_url_or_phrase, "approve", extra)

    def deny_device(self, verification_url_or_phrase: str) -> httpx2.Response:
        """Deny an agent login."""
        return self._answer_device(verification_url_or_phrase, "deny", {})


def start_device_login(
    wallet: WalletProcess, scope: str | None = None, connection_label: str = "Test Agent on ci"
) -> dict[str, Any]:
    """``POST /device/code`` as the official client does; returns the JSON answer."""
    data = {
        "client_id": CLIENT_ID,
        "connection_label": connection_label,
        "client_hint": "Test Agent",
    }
    if scope is not None:
        data["scope"] = scope
    response = httpx2.post(f"{wallet.url}/device/code", data=data, timeout=10)
    response.raise_for_status()
    return response.json()


def poll_device_token(wallet: WalletProcess, device_code: str) -> httpx2.Response:
    """One ``POST /device/token`` poll (device-code grant)."""
    return httpx2.post(
        f"{wallet.url}/device/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLIENT_ID},
        timeout=10,
    )


def wallet_tokens(
    wallet: WalletProcess,
    person: Person,
    scope: str | None = None,
    grant_approve_scope: bool = False,
) -> dict[str, Any]:
    """A full device login over HTTP: code → the person approves → token. Returns the tokens."""
    started = start_device_login(wallet, scope)
    person.approve_device(started["verification_uri_complete"], grant_approve_scope)
    response = poll_device_token(wallet, started["device_code"])
    if response.status_code != 200:
        raise AssertionError(f"token poll failed ({response.status_code}): {response.text}")
    return response.json()


def refresh_tokens(wallet: WalletProcess, tokens: dict[str, Any]) -> dict[str, Any]:
    """Rotate ``tokens`` with their refresh token, as the official client does; the new pair
    belongs to the same grant (connection). Returns the new tokens."""
    response = httpx2.post(
        f"{wallet.url}/device/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
        },
        timeout=10,
    )
    if response.status_code != 200:
        raise AssertionError(f"token refresh failed ({response.status_code}): {response.text}")
    return response.json()


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    """``Authorization`` header for an access token (or a token response)."""
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}
