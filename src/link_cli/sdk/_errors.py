"""SDK errors and the per-endpoint-family error-message table (contract §5.3, §5.4).

Hierarchy::

    LinkSdkError                       code "sdk_error"
    ├── LinkConfigurationError         code "configuration_error"
    ├── LinkAuthenticationError        code "not_authenticated"
    ├── LinkTransportError             code "transport_error"   (no HTTP response)
    └── LinkApiError                   code "api_error" or the OAuth ``error`` string
        └── LinkAuthorizationDeclinedError   code "authorization_declined"

Every message that quotes server text is sanitised (contract §10.1): the server is not trusted to
keep escape sequences out of what an agent or a terminal will read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from link_cli._sanitize import sanitize_deep, sanitize_text

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ErrorFamily",
    "LinkApiError",
    "LinkAuthenticationError",
    "LinkAuthorizationDeclinedError",
    "LinkConfigurationError",
    "LinkSdkError",
    "LinkTransportError",
    "api_error",
    "extract_error_message",
    "parse_json_or_none",
]

NOT_AUTHENTICATED_MESSAGE = 'Not authenticated. Run "link-cli auth login" first.'
STORED_TOKEN_EXPIRED_MESSAGE = 'Access token expired. Re-authenticate with "link-cli auth login".'
ENV_TOKEN_EXPIRED_MESSAGE = "Access token expired. Update LINK_ACCESS_TOKEN and retry."


class LinkSdkError(Exception):
    """Base class of every error the SDK raises; ``code`` is a stable machine string."""

    code: str = "sdk_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class LinkConfigurationError(LinkSdkError):
    """Bad local configuration: a base URL, the credentials file, a proxy setting."""

    code = "configuration_error"


class LinkAuthenticationError(LinkSdkError):
    """No usable access token (never logged in, expired with refresh disabled, …)."""

    code = "not_authenticated"


class LinkTransportError(LinkSdkError):
    """The request got no HTTP response (refused, DNS, TLS, timeout).

    ``message`` starts with ``Request failed: <METHOD> <url>`` and ends with a hint naming
    the unreachable server; ``method``, ``url`` and ``reason`` are also available.
    """

    code = "transport_error"

    def __init__(self, method: str, url: str, reason: str, hint: str) -> None:
        super().__init__(f"Request failed: {method} {url} ({reason}). {hint}")
        self.method = method
        self.url = url
        self.reason = reason
        self.hint = hint


class LinkApiError(LinkSdkError):
    """The server answered with an error status.

    Attributes: ``status`` (HTTP status), ``code`` (``"api_error"``, or the OAuth
    ``error`` string for auth-server errors), ``message``, ``raw_body`` (the response text,
    unsanitised) and ``details`` (the parsed JSON body, sanitised, or ``None``).
    """

    code = "api_error"

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        raw_body: str = "",
        details: Any = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.raw_body = raw_body
        self.details = details

    @property
    def body_error(self) -> dict[str, Any]:
        """The body's ``error`` object (``{message, code, verification_url, …}``) or ``{}``."""
        error = self.details.get("error") if isinstance(self.details, dict) else None
        return error if isinstance(error, dict) else {}


class LinkAuthorizationDeclinedError(LinkApiError):
    """The auth server refused the requested scopes (``authorization_failed``, contract §6.1).

    ``scope_eligibility`` maps each scope to ``{eligible, ineligibility_reasons,
    description?}``.
    """

    code = "authorization_declined"

    def __init__(
        self,
        status: int,
        scope_eligibility: dict[str, Any],
        *,
        raw_body: str = "",
        details: Any = None,
    ) -> None:
        super().__init__(
            status,
            "Authorization declined: account is not eligible for requested scopes",
            code=self.code,
            raw_body=raw_body,
            details=details,
        )
        self.scope_eligibility = scope_eligibility


class ErrorFamily:
    """Endpoint families whose error bodies the official client reads differently (contract §5.4).

    Plain string constants: an ``Enum`` would cost a millisecond of start-up for nothing.
    """

    SPEND_REQUEST = "spend_request"
    ACCOUNT = "account"  # payment-details, shipping, userinfo, transactions, sources, balances
    REPORT = "report"
    OAUTH = "oauth"


# --- message extraction rules: each returns a message or None to fall through ---------------

if TYPE_CHECKING:
    _Rule = Callable[[Mapping[str, Any]], str | None]


def _nonempty(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_object_message(body: Mapping[str, Any]) -> str | None:
    error = body.get("error")
    return _nonempty(error.get("message")) if isinstance(error, dict) else None


def _error_object_code(body: Mapping[str, Any]) -> str | None:
    error = body.get("error")
    return _nonempty(error.get("code")) if isinstance(error, dict) else None


def _error_string(body: Mapping[str, Any]) -> str | None:
    return _nonempty(body.get("error"))


def _top_level_message(body: Mapping[str, Any]) -> str | None:
    return _nonempty(body.get("message"))


def _error_description_even_if_empty(body: Mapping[str, Any]) -> str | None:
    description = body.get("error_description")
    return description if isinstance(description, str) else None


def _error_object_message_or_json(body: Mapping[str, Any]) -> str | None:
    # Upstream's OAuth path stringifies a nested error object instead of printing
    # "[object Object]"; JSON keeps it readable.
    error = body.get("error")
    if not isinstance(error, dict):
        return None
    return _nonempty(error.get("message")) or json.dumps(error, separators=(",", ":"))


# family -> (rules tried in order on a JSON object body, fall back to "unknown error"?)
# When every rule falls through, the raw body is used; if that is empty too, families
# marked True say "unknown error" (the report family keeps the empty raw body, as upstream).
MESSAGE_RULES: dict[str, tuple[tuple[_Rule, ...], bool]] = {
    ErrorFamily.SPEND_REQUEST: (
        (_error_object_message, _error_string, _top_level_message),
        True,
    ),
    ErrorFamily.ACCOUNT: (
        (_error_string, _error_object_message, _error_object_code, _top_level_message),
        True,
    ),
    ErrorFamily.REPORT: ((_error_object_message,), False),
    ErrorFamily.OAUTH: (
        (_error_description_even_if_empty, _error_string, _error_object_message_or_json),
        True,
    ),
}


MAX_JSON_DEPTH = 100
"""Deeper answers are treated as not JSON: every walk over parsed answers (sanitising,
redacting, rendering) recurses, and a hostile server could otherwise crash the client."""


def parse_json_or_none(text: str) -> Any:
    """``json.loads(text)``, or ``None`` when the text is empty, not JSON or nested deeper
    than :data:`MAX_JSON_DEPTH`."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurd nesting
        return None
    return value if json_depth(value) <= MAX_JSON_DEPTH else None


def json_depth(value: Any) -> int:
    """How deeply ``value``'s lists and objects nest (a scalar is 0); iterative."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def extract_error_message(family: str, raw_body: str, parsed: Any) -> str:
    """Pick the human message out of an error response, per the contract §5.4 table (sanitised)."""
    rules, unknown_fallback = MESSAGE_RULES[family]
    if isinstance(parsed, dict):
        for rule in rules:
            message = rule(parsed)
            if message is not None:
                return sanitize_text(message)
    if raw_body or not unknown_fallback:
        return sanitize_text(raw_body)
    return "unknown error"


def api_error(
    family: str,
    prefix: str,
    status: int,
    raw_body: str,
    *,
    code: str | None = None,
) -> LinkApiError:
    """Build ``LinkApiError("<prefix> (<status>): <message>")`` from an error response.

    ``prefix`` is e.g. ``"Failed to list payment methods"`` or ``"Token poll failed"``.
    """
    parsed = parse_json_or_none(raw_body)
    message = extract_error_message(family, raw_body, parsed)
    return LinkApiError(
        status,
        f"{prefix} ({status}): {message}",
        code=code,
        raw_body=raw_body,
        details=sanitize_deep(parsed),
    )
