"""Who is signed in on this browser, and the ``PersonSession`` dependency for pages.

The signed cookie (Starlette ``SessionMiddleware``: itsdangerous, HttpOnly, SameSite=Lax)
carries a random session id; the database holds its hash, so signing out ends the session
server-side even if the cookie was copied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ..deps import Now
from ..store import accounts
from ..store.models.accounts import User
from .csrf import rotate_csrf_seed

_SID_KEY = "sid"
DEFAULT_LANDING = "/wallet"


class SignInRequired(Exception):
    """Raised by :func:`person_session`; the app redirects to ``/signin?next=…``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        """Where to send the browser."""
        return "/signin?next=" + quote(self.next_path, safe="/")


def current_user(request: Request, db: Session, *, now: datetime) -> User | None:
    """The signed-in person, or None."""
    raw = request.session.get(_SID_KEY)
    if not isinstance(raw, str) or not raw:
        return None
    return accounts.user_for_web_session(db, raw, now=now)


def current_session_id(request: Request) -> str | None:
    """This browser's raw session id (to keep it when ending the person's other sessions)."""
    raw = request.session.get(_SID_KEY)
    return raw if isinstance(raw, str) and raw else None


def begin(request: Request, db: Session, user: User, *, now: datetime) -> None:
    """Sign ``user`` in on this browser with a fresh session id and CSRF seed."""
    end(request, db)
    request.session[_SID_KEY] = accounts.start_web_session(db, user_id=user.id, now=now)
    rotate_csrf_seed(request)


def end(request: Request, db: Session) -> None:
    """Sign out this browser (server-side too)."""
    raw = request.session.get(_SID_KEY)
    if isinstance(raw, str) and raw:
        accounts.end_web_session(db, raw)
    request.session.clear()
    rotate_csrf_seed(request)


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site, else the wallet home (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return DEFAULT_LANDING
    if any(ord(ch) < 32 or ch == "\\" for ch in value) or len(value) > 2000:
        return DEFAULT_LANDING
    return value


def person_session(request: Request, now: Now) -> User:
    """The signed-in person; unsigned visitors are redirected to the sign-in page.

    Read in its own short transaction (the route's write transaction, on SQLite the write
    lock, starts only after the form has arrived); the row's columns stay loaded.
    """
    with request.app.state.db.read_scope() as db:
        user = current_user(request, db, now=now)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return user


PersonSession = Annotated[User, Depends(person_session)]
