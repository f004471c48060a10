"""The person's notification settings: e-mail, Web Push subscriptions, a webhook.

``GET /wallet/notifications`` shows each channel with its last delivery result (a channel
whose last attempt failed shows as broken, with the reason). Every change is a CSRF-checked
POST. A webhook's signing secret is shown once, on the answer to the POST that created it,
and stored encrypted. ``/sw.js`` is the service worker that shows a push and opens the
approval page; it is served from the root so its scope covers ``/approve/…``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ..deps import Cipher, DbSession, Form, Now
from ..domain.notifications import WebhookUrlError, check_webhook_url
from ..domain.text import CONTROL_SINGLE_LINE, clean_label
from ..notify.vapid import application_server_key, b64url_decode
from ..store import notifications as channels_store
from ..store.models.accounts import User
from ..store.models.notify import NotificationChannel
from .csrf import verify_csrf
from .session import PersonSession
from .templating import STATIC_DIR, render


def notifications_home_section(db: Session, person: User, now: datetime) -> tuple[str, Any]:
    """The home page's link to the settings, saying whether a channel is broken."""
    channels = channels_store.channels_for_user(db, person.id)
    broken = sum(1 for c in channels if c.failures)
    return "notifications_home.html", {"count": len(channels), "broken": broken}


@asynccontextmanager
async def _contribute_home_section(app: FastAPI) -> AsyncIterator[None]:
    app.state.home_sections.append(notifications_home_section)
    yield


router = APIRouter(tags=["pages"], include_in_schema=False, lifespan=_contribute_home_section)

PAGE = "/wallet/notifications"
MAX_EMAIL_LENGTH = 254
MAX_ENDPOINT_LENGTH = 2048
MAX_LABEL_LENGTH = 200
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,200}={0,2}")
_CHANNEL_ID = re.compile(r"nch_[A-Za-z0-9]{1,40}")


def _email_problem(address: str) -> str | None:
    if not address:
        return "Enter an e-mail address."
    if len(address) > MAX_EMAIL_LENGTH:
        return "This address is too long."
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local:
        return "Enter one e-mail address, like you@example.com."
    if CONTROL_SINGLE_LINE.search(address) or any(ch.isspace() or ch in '<>,;"' for ch in address):
        return "An e-mail address has no spaces, commas or angle brackets."
    return None


def _channel_view(channel: NotificationChannel) -> dict[str, Any]:
    if channel.last_attempt_at is None:
        state = "unused"
    elif channel.failures:
        state = "broken"
    else:
        state = "ok"
    return {
        "id": channel.id,
        "kind": channel.kind,
        "target": channel.target,
        "label": channel.label,
        "state": state,
        "failures": channel.failures,
        "last_error": channel.last_error,
        "last_attempt_at": channel.last_attempt_at,
        "last_success_at": channel.last_success_at,
    }


def _page(
    request: Request,
    person: User,
    db: DbSession,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    new_secret: str | None = None,
    saved: str | None = None,
) -> Response:
    settings = request.app.state.settings
    views = [_channel_view(c) for c in channels_store.channels_for_user(db, person.id)]
    by_kind: dict[str, list[dict[str, Any]]] = {"email": [], "webpush": [], "webhook": []}
    for view in views:
        by_kind[view["kind"]].append(view)
    return render(
        request,
        "notifications.html",
        {
            "person": person,
            "channels": by_kind,
            "errors": errors or {},
            "values": values or {},
            "new_secret": new_secret,
            "saved": saved or request.query_params.get("saved"),
            "smtp_enabled": settings.notify.smtp.enabled,
            "vapid_key": application_server_key(settings.secret_key),
        },
        status=status,
    )


@router.get(PAGE)
def notifications_page(request: Request, person: PersonSession, db: DbSession) -> Response:
    """Every channel with its last result, and the forms to change them."""
    return _page(request, person, db)


def _room_for_one_more(db: DbSession, person: User) -> bool:
    count = len(channels_store.channels_for_user(db, person.id))
    return count < channels_store.MAX_CHANNELS_PER_PERSON


@router.post(f"{PAGE}/email")
def save_email(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Send notices to this address (replacing the previous one)."""
    verify_csrf(request, form)
    address = str(form.get("email") or person.email).strip()
    problem = _email_problem(address)
    if problem:
        return _page(
            request, person, db, status=400, errors={"email": problem}, values={"email": address}
        )
    channels_store.add_channel(
        db, user_id=person.id, kind="email", target=address, data={}, now=now, replace_kind=True
    )
    return RedirectResponse(f"{PAGE}?saved=email", status_code=303)


@router.post(f"{PAGE}/webhook")
def save_webhook(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now, cipher: Cipher
) -> Response:
    """Post notices to this URL; answers with the new signing secret, shown this once."""
    verify_csrf(request, form)
    raw = str(form.get("url") or "")
    try:
        url = check_webhook_url(raw)
    except WebhookUrlError as exc:
        return _page(
            request, person, db, status=400, errors={"url": str(exc)}, values={"url": raw[:2048]}
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    channel_id = channels_store.new_channel_id()
    channels_store.add_channel(
        db,
        user_id=person.id,
        kind="webhook",
        target=url,
        data={"secret": cipher.encrypt(channel_id, "secret", secret)},
        now=now,
        replace_kind=True,
        channel_id=channel_id,
    )
    return _page(request, person, db, new_secret=secret, saved="webhook")


def _push_problem(endpoint: str, p256dh: str, auth: str, *, allow_http: bool) -> str | None:
    schemes = ("https://", "http://") if allow_http else ("https://",)
    if not endpoint.startswith(schemes) or len(endpoint) > MAX_ENDPOINT_LENGTH:
        return "The subscription's endpoint must be an https URL."
    if any(ord(ch) < 33 for ch in endpoint) or CONTROL_SINGLE_LINE.search(endpoint):
        return "The subscription's endpoint is not a valid URL."
    if not (_BASE64URL.fullmatch(p256dh) and _BASE64URL.fullmatch(auth)):
        return "The subscription's keys are not base64url."
    try:
        key = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except ValueError:
        return "The subscription's keys are not base64url."
    if len(key) != 65 or key[0] != 4 or len(secret) != 16:
        return "The subscription's keys have the wrong size."
    return None


@router.post(f"{PAGE}/push")
def save_push(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Store this browser's push subscription (sent by the page's script)."""
    verify_csrf(request, form)
    endpoint = str(form.get("endpoint") or "").strip()
    p256dh = str(form.get("p256dh") or "").strip()
    auth = str(form.get("auth") or "").strip()
    allow_http = request.app.state.settings.notify.webhook_allow_private
    problem = _push_problem(endpoint, p256dh, auth, allow_http=allow_http)
    if problem is None and not _room_for_one_more(db, person):
        problem = "Too many notification channels; remove one first."
    if problem:
        return JSONResponse({"error": {"message": problem}}, status_code=400)
    label = clean_label(str(form.get("label") or ""), MAX_LABEL_LENGTH)
    channel = channels_store.add_channel(
        db,
        user_id=person.id,
        kind="webpush",
        target=endpoint,
        data={"p256dh": p256dh, "auth": auth},
        now=now,
        label=label,
    )
    return JSONResponse({"id": channel.id})


@router.post(f"{PAGE}/remove")
def remove_channel(request: Request, person: PersonSession, form: Form, db: DbSession) -> Response:
    """Stop one channel (only the person's own)."""
    verify_csrf(request, form)
    channel_id = str(form.get("channel_id") or "")
    if _CHANNEL_ID.fullmatch(channel_id):
        channels_store.remove_channel(db, user_id=person.id, channel_id=channel_id)
    return RedirectResponse(f"{PAGE}?saved=removed", status_code=303)


@router.get("/sw.js")
def service_worker() -> Response:
    """The push service worker, at the root so its scope is the whole wallet."""
    body = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    return Response(
        body,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
