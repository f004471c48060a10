"""The wallet's one exception edge: every error becomes the contract's body.

* :class:`WalletError` → its status and its body: ``{"error": {"code", "message", ...}}``, the
  RFC 6749 shape for :class:`OAuthError`, Stripe's shape for ``StripeError``; pages get a
  small HTML error page instead.
* request validation errors and malformed JSON → 400 ``invalid_request`` in the same shape.
* the database too busy (SQLite's busy timeout, a PostgreSQL lock conflict) → 503
  ``database_busy`` with ``Retry-After``: nothing was changed, trying again is safe.
* anything unexpected → 500 ``api_error`` without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from ..access_log import redact_path
from ..domain.errors import WalletError
from ..domain.stripe_errors import invalid_request
from ..store.engine import is_contention

BUSY_RETRY_AFTER_SECONDS = 1

log = logging.getLogger("link_wallet.errors")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(WalletError, _wallet_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


def wants_html(request: Request) -> bool:
    """True for a browser navigating to a page (not for API clients or fetch())."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(("/device/", "/__test__"))


OAUTH_PATHS = frozenset({"/device/code", "/device/token", "/device/revoke"})


def error_response(request: Request, error: WalletError) -> Response:
    """Render ``error`` as JSON for clients or as an HTML page for browsers.

    OAuth endpoints always answer in the RFC 6749 shape, whatever raised.
    """
    if request.url.path in OAUTH_PATHS:
        body = {"error": error.code, "error_description": error.message}
        return JSONResponse(body, status_code=error.status, headers=error.headers or None)
    if error.shown_as_page and wants_html(request) and error.status != 401:
        templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": error.status, "message": error.message},
            status_code=error.status,
            headers=error.headers or None,
        )
    return JSONResponse(error.to_body(), status_code=error.status, headers=error.headers or None)


async def _wallet_error(request: Request, exc: WalletError) -> Response:
    return error_response(request, exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems: list[dict[str, Any]] = []
    for item in exc.errors()[:20]:
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        problems.append({"path": location, "message": str(item.get("msg", "invalid"))})
    if any(item.get("type") == "json_invalid" for item in exc.errors()):
        error = WalletError("The request body is not valid JSON.", code="invalid_json", status=400)
    else:
        summary = "; ".join(f"{p['path'] or 'body'}: {p['message']}" for p in problems)
        error = WalletError(
            f"Invalid request: {summary}" if summary else "Invalid request.",
            code="invalid_request",
            status=400,
            extra={"errors": problems},
        )
    return error_response(request, error)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    path = request.url.path
    if exc.status_code in (404, 405) and (path == "/v1" or path.startswith("/v1/")):
        # Stripe answers an unknown URL and an unsupported method alike, so its SDKs raise
        # InvalidRequestError rather than a bare APIError.
        shown = path[:200]
        return error_response(
            request,
            invalid_request(
                f"Unrecognized request URL ({request.method[:10]}: {shown}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            ),
        )
    codes = {404: "not_found", 405: "method_not_allowed"}
    error = WalletError(
        str(exc.detail) if exc.detail else "Error",
        code=codes.get(exc.status_code, "http_error"),
        status=exc.status_code,
        headers=dict(exc.headers or {}),
    )
    return error_response(request, error)


async def _database_error(request: Request, exc: DBAPIError) -> Response:
    if not is_contention(exc):
        return await _unexpected_error(request, exc)
    log.warning("database busy on %s %s", request.method, request.url.path)
    error = WalletError(
        "The wallet is busy; nothing was changed. Try again in a moment.",
        code="database_busy",
        status=503,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )
    return error_response(request, error)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    path = redact_path(request.url.path)
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, path)
    error = WalletError("Something went wrong on the wallet's side.", code="api_error", status=500)
    return JSONResponse(error.to_body(), status_code=500)
