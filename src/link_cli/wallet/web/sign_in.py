"""Sign-in and sign-out pages.

Every attempt is reserved in the attempt budgets (domain/throttle.py: per email and client
address, per address, per email) in its own transaction before the password is checked, so
concurrent guesses cannot outrun the count, across wallet processes. A correct password
gives its reservation back. Policy: docs/security.md.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import ClientAddress, DbSession, Form, Now, Settings
from ..domain.throttle import signin_budgets
from ..passwords import verify_password
from ..store import accounts, throttle
from . import session as web_session
from .csrf import verify_csrf
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/signin")
def signin_page(request: Request, db: DbSession, now: Now, next: str | None = None) -> Response:
    """The sign-in form; already signed-in people go straight to ``next``."""
    target = web_session.safe_next(next)
    if web_session.current_user(request, db, now=now) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "signin.html", {"next": target, "email": ""})


@router.post("/signin")
def signin_submit(
    request: Request,
    form: Form,
    db: DbSession,
    now: Now,
    settings: Settings,
    address: ClientAddress,
) -> Response:
    """Check email and password; on success start a session and go to ``next``."""
    verify_csrf(request, form)
    email = str(form.get("email") or "").strip().lower()[:320]
    password = str(form.get("password") or "")
    target = web_session.safe_next(str(form.get("next") or ""))
    context = {"next": target, "email": email}
    if not email or not password:
        context["error"] = "Enter your email and password."
        return render(request, "signin.html", context, status=400)
    budgets = signin_budgets(settings.throttles, email=email, address=address)
    reserved = throttle.reserve(db, budgets, now=now)
    # Commit the reservation before the deliberately slow hash check: it must count for
    # every concurrent guess, and on SQLite every transaction holds the write lock
    # (store/engine.py), so nobody should wait on argon2.
    db.commit()
    if isinstance(reserved, throttle.Refusal):
        minutes = math.ceil(reserved.retry_after / 60)
        context["error"] = (
            f"Too many failed sign-in attempts. Wait {minutes} minute"
            f"{'s' if minutes != 1 else ''}, then try again."
        )
        response = render(request, "signin.html", context, status=429)
        response.headers["Retry-After"] = str(reserved.retry_after)
        return response
    user = accounts.get_user_by_email(db, email)
    db.commit()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        context["error"] = "That email and password don't match. Check them and try again."
        return render(request, "signin.html", context, status=401)
    throttle.release(db, reserved)
    throttle.forget(db, budgets[0])  # this email from this address starts afresh
    web_session.begin(request, db, user, now=now)
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(request: Request, form: Form, db: DbSession) -> Response:
    """End this browser's session."""
    verify_csrf(request, form)
    web_session.end(request, db)
    return RedirectResponse("/signin", status_code=303)
