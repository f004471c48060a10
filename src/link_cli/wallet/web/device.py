"""The device verification page (``verification_uri``): the person approves an agent login.

Flow: sign in → enter (or confirm the pre-filled) phrase → see which agent wants which access
→ Approve / Deny. ``spend_requests:approve`` is granted only when the agent asked for it and
the person ticks its separate, unticked box. Wrong phrases are throttled per person and
globally, so the phrase space cannot be searched: each typed phrase reserves an attempt
(store/throttle.py) before it is looked up, and a phrase that matches gives it back.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..deps import WRITES_ON_GET, DbSession, Form, Now
from ..domain import oauth as rules
from ..domain.throttle import phrase_budgets
from ..settings import WalletSettings
from ..store import oauth as store
from ..store import throttle
from ..store.models.accounts import DeviceAuthorization, User
from .csrf import verify_csrf
from .session import PersonSession
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

ALLOW_APPROVE_FIELD = "allow_approve_scope"


def _describe(authorization: DeviceAuthorization) -> dict[str, Any]:
    scopes = authorization.requested_scope.split()
    details = json.loads(authorization.authorization_details or "[]")
    return {
        "agent": authorization.connection_label or authorization.client_hint or "An agent",
        "access": [
            rules.KNOWN_SCOPES[s]
            for s in scopes
            if s in rules.KNOWN_SCOPES and s != rules.SCOPE_APPROVE
        ],
        "not_offered": rules.unknown_scopes(scopes),
        "asks_approve": rules.SCOPE_APPROVE in scopes,
        "approve_text": rules.KNOWN_SCOPES[rules.SCOPE_APPROVE],
        "details": [rules.describe_authorization_detail(d) for d in details],
    }


def _pending_or_error_page(
    request: Request, person: User, db: Session, now: datetime, phrase: str
) -> DeviceAuthorization | Response:
    """The live authorization behind ``phrase``, or the page refusing it (wrong or throttled)."""
    settings: WalletSettings = request.app.state.settings
    reserved = throttle.reserve(
        db, phrase_budgets(settings.throttles, person_id=person.id), now=now
    )
    # The attempt counts before the phrase is looked up, whatever happens next.
    db.commit()
    if isinstance(reserved, throttle.Refusal):
        minutes = math.ceil(reserved.retry_after / 60)
        error = _TOO_MANY.format(minutes=minutes, s="s" if minutes != 1 else "")
        page = _page(request, person, phrase=phrase, error=error, status=429)
        page.headers["Retry-After"] = str(reserved.retry_after)
        return page
    authorization = store.find_pending_by_phrase(db, phrase, now=now)
    if authorization is None:
        return _page(request, person, phrase=phrase, error=_WRONG, status=400)
    throttle.release(db, reserved)
    return authorization


def _page(request: Request, person: User, *, status: int = 200, **context: Any) -> Response:
    return render(request, "device.html", {"person": person, **context}, status=status)


_TOO_MANY = "Too many wrong phrases. Wait {minutes} minute{s}, then try again."
_WRONG = "That phrase doesn't match a pending sign-in. Check the words your agent showed you."


# Showing a phrase's request counts wrong phrases (the throttle), so this GET writes.
@router.get("/device/setup", dependencies=[WRITES_ON_GET])
def device_page(
    request: Request, person: PersonSession, db: DbSession, now: Now, code: str | None = None
) -> Response:
    """Enter the phrase, or, with ``?code=``, review the request it belongs to."""
    if not code:
        return _page(request, person, phrase="")
    phrase = code.strip()[:100]
    authorization = _pending_or_error_page(request, person, db, now, phrase)
    if isinstance(authorization, Response):
        return authorization
    return _page(
        request,
        person,
        phrase=rules.normalize_user_code(phrase),
        request_info=_describe(authorization),
    )


@router.post("/device/setup")
def device_decide(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Approve or deny the authorization named by ``user_code``."""
    verify_csrf(request, form)
    phrase = str(form.get("user_code") or "").strip()[:100]
    action = form.get("action")
    if action not in {"approve", "deny"}:
        return _page(request, person, phrase=phrase, error="Choose Approve or Deny.", status=400)
    authorization = _pending_or_error_page(request, person, db, now, phrase)
    if isinstance(authorization, Response):
        return authorization
    requested = authorization.requested_scope.split()
    allow_approve = form.get(ALLOW_APPROVE_FIELD) == "1"
    granted = rules.granted_scopes(requested, allow_approve=allow_approve)
    approved = action == "approve"
    if not store.decide(
        db, authorization, user_id=person.id, approve=approved, granted_scopes=granted, now=now
    ):
        return _page(
            request,
            person,
            phrase="",
            error="This sign-in was already answered or has expired.",
            status=409,
        )
    return render(
        request,
        "device_done.html",
        {
            "person": person,
            "approved": approved,
            "agent": _describe(authorization)["agent"],
            "granted_approve": approved and rules.SCOPE_APPROVE in granted,
        },
    )
