"""OAuth 2.0 device authorization against the auth server (contract §6.1, §6.2).

:class:`AuthResource` speaks ``POST /device/code``, ``/device/token`` and
``/device/revoke`` with form-encoded bodies (spaces as ``+``) and the official public
client id. It never applies ``LINK_HTTP_PROXY`` (auth calls go direct, as upstream) and
never sends a bearer token. Every returned value is sanitised (contract §10.1).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._config import (
    AUTH_BASE_URL_ENV,
    CLIENT_ID,
    DEFAULT_CLIENT_NAME,
    DEFAULT_SCOPE,
    DEFAULT_TIMEOUT_SECONDS,
    resolve_base_url,
)
from link_cli.sdk._errors import (
    ErrorFamily,
    LinkApiError,
    LinkAuthorizationDeclinedError,
    LinkSdkError,
    api_error,
)
from link_cli.sdk._http import (
    PREFER,
    HttpClient,
    HttpResponse,
    Log,
    StdlibTransport,
    Transport,
    applied_wait,
    connection_hint,
)

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.types import DeviceAuthorization, TokenResponse

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_NOT_YET = frozenset({"authorization_pending", "slow_down"})


class AuthResource:
    """Device login, token refresh and revocation.

    ``auth_base_url``: explicit option → ``LINK_AUTH_BASE_URL`` → the local wallet.
    Raises :class:`LinkApiError` (``code`` = the OAuth ``error`` string when there is one),
    :class:`LinkAuthorizationDeclinedError`, :class:`LinkTransportError`.
    """

    def __init__(
        self,
        auth_base_url: str | None = None,
        *,
        verbose: bool = False,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        env: Mapping[str, str] | None = None,
        log: Log | None = None,
        transport: Transport | None = None,
        hostname: str | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.base_url = resolve_base_url(auth_base_url, env, AUTH_BASE_URL_ENV)
        if transport is None:
            transport = StdlibTransport(
                timeout=timeout, hint=connection_hint(self.base_url, AUTH_BASE_URL_ENV)
            )
        if verbose:
            from link_cli.sdk._verbose import LoggingTransport, VerboseLogger

            transport = LoggingTransport(transport, VerboseLogger(log))
        self._http = HttpClient(self.base_url, transport)
        self._hostname = hostname

    def initiate_device_auth(
        self,
        client_name: str = DEFAULT_CLIENT_NAME,
        scope: str | None = None,
        authorization_details: Sequence[Any] = (),
        source_actions: Sequence[str] = (),
    ) -> DeviceAuthorization:
        """Start a device login (``POST /device/code``).

        ``scope`` defaults to ``userinfo:read payment_methods.agentic``. ``source_actions``
        become a leading ``{"type": "source", "actions": [...]}`` detail (deduplicated, in
        first-seen order), followed by ``authorization_details`` as given. Returns
        ``{device_code, user_code, verification_url, verification_url_complete,
        expires_in, interval}``; the person opens ``verification_url_complete`` and
        confirms ``user_code``.
        """
        details: list[Any] = []
        if source_actions:
            details.append({"type": "source", "actions": list(dict.fromkeys(source_actions))})
        details.extend(authorization_details)
        form: list[tuple[str, str]] = [
            ("client_id", CLIENT_ID),
            ("scope", scope if scope is not None else DEFAULT_SCOPE),
            ("connection_label", f"{client_name} on {self._get_hostname()}"),
            ("client_hint", client_name),
        ]
        for detail in details:
            form.extend(flatten_form_value("authorization_details[]", detail))
        response = self._post("/device/code", form)
        if not response.ok:
            raise self._error("Device auth initiation failed", response)
        body = self._json_object(response, "Device auth initiation failed")
        result = {
            "device_code": body.get("device_code"),
            "user_code": body.get("user_code"),
            "verification_url": body.get("verification_uri"),
            "verification_url_complete": body.get("verification_uri_complete"),
            "expires_in": body.get("expires_in"),
            "interval": body.get("interval"),
        }
        if not isinstance(result["device_code"], str) or not result["device_code"]:
            raise LinkSdkError(
                f"Device auth initiation failed ({response.status}): "
                "invalid response shape: missing device_code"
            )
        authorization: DeviceAuthorization = sanitize_deep(result)
        return authorization

    def poll_device_auth(self, device_code: str) -> TokenResponse | None:
        """Ask once whether the person approved; tokens, or ``None`` while still pending.

        Raises ``LinkApiError`` with code ``expired_token`` (``Device code expired. Please
        restart the login flow.``) or ``access_denied`` (``Authorization denied by user.``),
        :class:`LinkAuthorizationDeclinedError` for ``authorization_failed``, and
        ``Token poll failed (<status>): …`` otherwise. ``slow_down`` counts as pending.
        """
        tokens, _ = self.poll_device_auth_waiting(device_code)
        return tokens

    def poll_device_auth_waiting(
        self, device_code: str, *, wait: int | None = None
    ) -> tuple[TokenResponse | None, int | None]:
        """:meth:`poll_device_auth`, asking the server to hold the answer up to ``wait``
        seconds while the person has not answered (``Prefer: wait``, docs/long-poll.md).
        Also returns the wait the server applied, or None when it answered at once."""
        request = self._http.build(
            "POST",
            "/device/token",
            form=[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", device_code),
                ("client_id", CLIENT_ID),
            ],
        )
        if wait:
            request = request.with_header(PREFER, f"wait={int(wait)}")
        response = self._http.send(request)
        applied = applied_wait(response) if wait else None
        if response.ok:
            return self._tokens(response, "Token poll failed"), applied
        body = response.json()
        oauth_error = body.get("error") if isinstance(body, dict) else None
        if response.status == 400 and isinstance(oauth_error, str):
            if oauth_error in _NOT_YET:
                return None, applied
            if oauth_error == "expired_token":
                raise self._plain_error(
                    response, "Device code expired. Please restart the login flow.", oauth_error
                )
            if oauth_error == "access_denied":
                raise self._plain_error(response, "Authorization denied by user.", oauth_error)
            if oauth_error == "authorization_failed":
                eligibility = body.get("scope_eligibility")
                raise LinkAuthorizationDeclinedError(
                    response.status,
                    sanitize_deep(eligibility) if isinstance(eligibility, dict) else {},
                    raw_body=response.text,
                    details=sanitize_deep(body),
                )
        raise self._error("Token poll failed", response)

    def refresh(self, refresh_token: str) -> TokenResponse:
        """Exchange a refresh token for new tokens (the refresh token rotates)."""
        response = self._post(
            "/device/token",
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", CLIENT_ID),
            ],
        )
        if not response.ok:
            raise self._error("Token refresh failed", response)
        return self._tokens(response, "Token refresh failed")

    def revoke(self, token: str) -> None:
        """Revoke a (refresh) token. Callers usually ignore failures (best effort)."""
        response = self._post("/device/revoke", [("client_id", CLIENT_ID), ("token", token)])
        if not response.ok:
            raise self._error("Token revocation failed", response)

    # --- helpers -------------------------------------------------------------------------

    def _post(self, path: str, form: Sequence[tuple[str, str]]) -> HttpResponse:
        return self._http.send(self._http.build("POST", path, form=form))

    def _get_hostname(self) -> str:
        if self._hostname is None:
            import socket

            self._hostname = socket.gethostname()
        return self._hostname

    @staticmethod
    def _error(prefix: str, response: HttpResponse) -> LinkApiError:
        body = response.json()
        oauth_error = body.get("error") if isinstance(body, dict) else None
        return api_error(
            ErrorFamily.OAUTH,
            prefix,
            response.status,
            response.text,
            code=oauth_error if isinstance(oauth_error, str) and oauth_error else None,
        )

    @staticmethod
    def _plain_error(response: HttpResponse, message: str, code: str) -> LinkApiError:
        return LinkApiError(
            response.status,
            message,
            code=code,
            raw_body=response.text,
            details=sanitize_deep(response.json()),
        )

    @staticmethod
    def _json_object(response: HttpResponse, prefix: str) -> dict[str, Any]:
        body = response.json()
        if not isinstance(body, dict):
            raise LinkSdkError(
                f"{prefix} ({response.status}): invalid response shape: "
                "Expected response body to be an object"
            )
        return body

    def _tokens(self, response: HttpResponse, prefix: str) -> TokenResponse:
        body = self._json_object(response, prefix)
        if not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise LinkSdkError(
                f"{prefix} ({response.status}): invalid response shape: missing access_token"
            )
        tokens: dict[str, Any] = {
            "access_token": body.get("access_token"),
            "refresh_token": body.get("refresh_token"),
            "token_type": body.get("token_type"),
            "expires_in": body.get("expires_in"),
        }
        if isinstance(body.get("scope"), str) and body["scope"]:
            tokens["scope"] = body["scope"]
        if "authorization_details" in body:
            tokens["authorization_details"] = body["authorization_details"]
        sanitized: TokenResponse = sanitize_deep(tokens)
        return sanitized


def flatten_form_value(key: str, value: object) -> Iterable[tuple[str, str]]:
    """PHP/Rails-style form pairs for ``value`` under ``key`` (contract §6.2).

    Objects recurse as ``key[name]``, arrays as ``key[]``, primitives become their
    JavaScript ``String()`` form; empty objects and arrays contribute nothing.
    """
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from flatten_form_value(f"{key}[{name}]", item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from flatten_form_value(f"{key}[]", item)
    else:
        yield key, _js_string(value)


def _js_string(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
