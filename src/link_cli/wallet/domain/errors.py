"""The wallet's error hierarchy: one stable ``code`` and one HTTP status per class.

Pure on purpose (no FastAPI import): domain rules raise these, and ``api/errors.py`` is the
single place that turns them into responses.

    WalletError
    ├── InvalidRequest   400 (or 422 for well-formed but unacceptable values)
    ├── Unauthorized     401
    ├── Forbidden        403
    ├── NotFound         404
    ├── Conflict         409
    ├── RateLimited      429
    ├── OAuthError       400, rendered in RFC 6749 shape ``{"error", "error_description"}``
    └── StripeError      (stripe_errors.py) Stripe's shape ``{"error": {type, code, ...}}``
"""

from __future__ import annotations

from typing import Any, ClassVar


class WalletError(Exception):
    """Base of every error the wallet reports to a client.

    ``extra`` is merged into the JSON error object (e.g. ``duplicate_spend_request``);
    ``headers`` are added to the HTTP response (e.g. ``WWW-Authenticate``).
    """

    default_code: ClassVar[str] = "api_error"
    default_status: ClassVar[int] = 500
    shown_as_page: ClassVar[bool] = True
    """Whether a browser navigating to a page gets it as an HTML error page."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status or self.default_status
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})

    def to_body(self) -> dict[str, Any]:
        """The contract's error body: ``{"error": {"code", "message", ...extra}}`` (contract §7.1)."""
        return {"error": {**self.extra, "code": self.code, "message": self.message}}


class InvalidRequest(WalletError):
    """The request is malformed or a value is unacceptable (400, or 422 when asked)."""

    default_code = "invalid_request"
    default_status = 400


class Unauthorized(WalletError):
    """No valid credentials (missing, expired or revoked access token)."""

    default_code = "invalid_token"
    default_status = 401


class Forbidden(WalletError):
    """Authenticated, but not allowed (missing scope, failed CSRF check)."""

    default_code = "forbidden"
    default_status = 403


class NotFound(WalletError):
    """Unknown id, or an id that belongs to another person (never distinguish the two)."""

    default_code = "resource_missing"
    default_status = 404


class Conflict(WalletError):
    """The resource is in a state that does not allow the operation."""

    default_code = "conflict"
    default_status = 409


class RateLimited(WalletError):
    """Too many requests or attempts; ``retry_after`` seconds may be given in ``extra``."""

    default_code = "rate_limited"
    default_status = 429


class OAuthError(WalletError):
    """An RFC 6749 / RFC 8628 error; ``code`` is the RFC ``error`` string."""

    default_code = "invalid_request"
    default_status = 400

    def to_body(self) -> dict[str, Any]:
        """RFC 6749 §5.2 shape: ``{"error": code, "error_description": message}``."""
        return {"error": self.code, "error_description": self.message}
