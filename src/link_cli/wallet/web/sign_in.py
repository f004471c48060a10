"""Sign-in and sign-out pages.

Five failed sign-ins for one email within 15 minutes lock that email for the rest of the
window (counted in the database, so it holds across wallet processes).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import DbSession, Form, Now
from ..passwords import verify_password
from ..store import accounts, throttle
from . import session as web_session
from .csrf import verify_csrf
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

SIGNIN_FAILURE_LIMIT = 5
SIGNIN_WINDOW = timedelta(minutes=15)
_KIND = "signin"


@router.get("/signin")
def signin_page(request: Request, db: DbSession, now: Now, next: str | None = None) -> Response:
    """The sign-in form; already signed-in people go straight to ``next``."""
    target = web_session.safe_next(next)
    if web_session.current_user(request, db, now=now) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "signin.html", {"next": target, "email": ""})


@router.post("/signin")
def signin_submit(request: Request, form: Form, db: DbSession, now: Now) -> Response:
    """Check email and password; on success start a session and go to ``next``."""
    verify_csrf(request, form)
    email = str(form.get("email") or "").strip().lower()[:320]
    password = str(form.get("password") or "")
    target = web_session.safe_next(str(form.get("next") or ""))
    context = {"next": target, "email": email}
    if not email or not password:
        context["error"] = "Enter your email and password."
        return render(request, "signin.html", context, status=400)
    failures = throttle.recent_failures(db, kind=_KIND, key=email, now=now, window=SIGNIN_WINDOW)
    if failures >= SIGNIN_FAILURE_LIMIT:
        context["error"] = (
            "Too many failed sign-in attempts for this email. Wait 15 minutes, then try again."
        )
        return render(request, "signin.html", context, status=429)
    user = accounts.get_user_by_email(db, email)
    # End the read transaction before the deliberately slow hash check: on SQLite every
    # transaction holds the write lock (store/engine.py), and nobody should wait on argon2.
    db.commit()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        throttle.record_failure(db, kind=_KIND, key=email, now=now)
        context["error"] = "That email and password don't match. Check them and try again."
        return render(request, "signin.html", context, status=401)
    throttle.forget_failures(db, kind=_KIND, key=email)
    web_session.begin(request, db, user, now=now)
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(request: Request, form: Form, db: DbSession) -> Response:
    """End this browser's session."""
    verify_csrf(request, form)
    web_session.end(request, db)
    return RedirectResponse("/signin", status_code=303)
