"""OAuth 2.0 device authorization grant endpoints (RFC 8628; contract §6.1–6.3).

All three take ``application/x-www-form-urlencoded`` bodies and answer errors in the RFC 6749
shape ``{"error", "error_description"}`` with HTTP 400. ``/device/code`` is rate limited per
client address (429 ``slow_down`` with ``Retry-After``) and purges long-expired device
authorizations, a bounded batch per call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..deps import ClientAddress, DbSession, Form, Now, Settings
from ..domain import oauth as rules
from ..domain.errors import OAuthError
from ..domain.text import clean_label
from ..domain.throttle import device_code_budgets
from ..long_poll import TOO_MANY_WAITING, Seen, hold_until_changed
from ..store import oauth as store
from ..store import throttle
from ..store.changes import device_key
from ..store.crypto import sha256_hex

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
async def device_token(request: Request, form: Form, db: DbSession) -> JSONResponse:
    """Exchange an approved device code, or rotate a refresh token, for a token pair.

    With ``Prefer: wait=N`` a poll of a login still waiting for the person is held until the
    person answers, the code expires or ``N`` seconds pass (docs/long-poll.md); the session
    is first used after the wait, so no database connection is held meanwhile."""
    headers = dict(_NO_STORE)
    code = _field(form, "device_code")
    if _field(form, "grant_type") == rules.DEVICE_CODE_GRANT and code:
        headers.update(await _hold_while_pending(request, code))
    now = request.app.state.clock.now()
    body = await run_in_threadpool(_exchange, form, db, now)
    return JSONResponse(body, headers=headers)


async def _hold_while_pending(request: Request, device_code: str) -> dict[str, str]:
    key_hash = sha256_hex(device_code)

    def read() -> Seen:
        now = request.app.state.clock.now()
        with request.app.state.db.read_scope() as db:
            record = store.peek_device_authorization(db, key_hash)
            if record is None:
                return Seen(None, None, waitable=False)
            pending = record.status == store.PENDING and record.expires_at > now
            return Seen(None, str(record.status), pending, record.expires_at)

    def refusal(message: str) -> OAuthError:
        return OAuthError(message, code=TOO_MANY_WAITING, status=429, headers={"Retry-After": "1"})

    _, headers = await hold_until_changed(
        request, key=device_key(key_hash), agent=device_key(key_hash), read=read, refusal=refusal
    )
    return headers


def _exchange(form: Any, db: Session, now: datetime) -> dict[str, Any]:
    client_id = _check_client(_field(form, "client_id"))
    grant_type = _field(form, "grant_type")
    try:
        if grant_type == rules.DEVICE_CODE_GRANT:
            code = _field(form, "device_code")
            if not code:
                raise OAuthError("device_code is required", code="invalid_request")
            return store.poll_device_token(db, device_code=code, client_id=client_id, now=now)
        if grant_type == rules.REFRESH_GRANT:
            token = _field(form, "refresh_token")
            if not token:
                raise OAuthError("refresh_token is required", code="invalid_request")
            return store.refresh_tokens(db, refresh_token=token, client_id=client_id, now=now)
        raise OAuthError("unsupported grant_type", code="unsupported_grant_type")
    except OAuthError:
        # Poll bookkeeping (slow_down) and reuse revocation must survive the error answer.
        db.commit()
        raise


@router.post("/device/revoke")
def device_revoke(form: Form, db: DbSession, now: Now) -> JSONResponse:
    """RFC 7009: revoke the grant behind a refresh or access token (200 even if unknown)."""
    _check_client(_field(form, "client_id"))
    token = _field(form, "token")
    if not token:
        raise OAuthError("token is required", code="invalid_request")
    store.revoke_token(db, token=token, now=now)
    return JSONResponse({}, headers=_NO_STORE)
