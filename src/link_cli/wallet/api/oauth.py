"""OAuth 2.0 device authorization grant endpoints (RFC 8628; contract §6.1–6.3).

All three take ``application/x-www-form-urlencoded`` bodies and answer errors in the RFC 6749
shape ``{"error", "error_description"}`` with HTTP 400. ``/device/code`` is rate limited per
client address (429 ``slow_down`` with ``Retry-After``) and purges long-expired device
authorizations, a bounded batch per call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import ClientAddress, DbSession, Form, Now, Settings
from ..domain import oauth as rules
from ..domain.errors import OAuthError
from ..domain.text import clean_label
from ..domain.throttle import device_code_budgets
from ..store import oauth as store
from ..store import throttle

router = APIRouter(tags=["oauth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _check_client(form_client_id: str | None) -> str:
    if not form_client_id:
        raise OAuthError("client_id is required", code="invalid_request")
    if form_client_id != rules.PUBLIC_CLIENT_ID:
        raise OAuthError("unknown client_id", code="invalid_client")
    return form_client_id


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@router.post("/device/code")
def device_code(
    form: Form, db: DbSession, now: Now, settings: Settings, address: ClientAddress
) -> JSONResponse:
    """Start a device login: returns the device code, the phrase and where to enter it."""
    client_id = _check_client(_field(form, "client_id"))
    reserved = throttle.reserve(
        db, device_code_budgets(settings.throttles, address=address), now=now
    )
    if isinstance(reserved, throttle.Refusal):
        raise OAuthError(
            f"too many device logins from this address; retry in {reserved.retry_after} seconds",
            code="slow_down",
            status=429,
            headers={"Retry-After": str(reserved.retry_after), **_NO_STORE},
        )
    store.purge_expired_device_authorizations(db, now=now)
    scopes = rules.parse_scope(_field(form, "scope"))
    details = rules.parse_authorization_details(
        (k, v) for k, v in form.multi_items() if isinstance(v, str)
    )
    label = clean_label(_field(form, "connection_label"))
    hint = clean_label(_field(form, "client_hint"))
    started = store.start_device_authorization(
        db,
        client_id=client_id,
        scopes=scopes,
        connection_label=label,
        client_hint=hint,
        authorization_details=details,
        now=now,
    )
    verification_uri = f"{settings.public_url}/device/setup"
    body = {
        "device_code": started.device_code,
        "user_code": started.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?code={quote(started.user_code)}",
        "expires_in": started.expires_in,
        "interval": started.interval,
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.post("/device/token")
def device_token(form: Form, db: DbSession, now: Now) -> JSONResponse:
    """Exchange an approved device code, or rotate a refresh token, for a token pair."""
    client_id = _check_client(_field(form, "client_id"))
    grant_type = _field(form, "grant_type")
    try:
        if grant_type == rules.DEVICE_CODE_GRANT:
            code = _field(form, "device_code")
            if not code:
                raise OAuthError("device_code is required", code="invalid_request")
            body = store.poll_device_token(db, device_code=code, client_id=client_id, now=now)
        elif grant_type == rules.REFRESH_GRANT:
            token = _field(form, "refresh_token")
            if not token:
                raise OAuthError("refresh_token is required", code="invalid_request")
            body = store.refresh_tokens(db, refresh_token=token, client_id=client_id, now=now)
        else:
            raise OAuthError("unsupported grant_type", code="unsupported_grant_type")
    except OAuthError:
        # Poll bookkeeping (slow_down) and reuse revocation must survive the error answer.
        db.commit()
        raise
    return JSONResponse(body, headers=_NO_STORE)


@router.post("/device/revoke")
def device_revoke(form: Form, db: DbSession, now: Now) -> JSONResponse:
    """RFC 7009: revoke the grant behind a refresh or access token (200 even if unknown)."""
    _check_client(_field(form, "client_id"))
    token = _field(form, "token")
    if not token:
        raise OAuthError("token is required", code="invalid_request")
    store.revoke_token(db, token=token, now=now)
    return JSONResponse({}, headers=_NO_STORE)
