"""The person's wallet home: their cards, plus sections other features contribute.

A feature adds a section by appending to ``app.state.home_sections`` a callable
``(db, user, now) -> (template name, context dict)``; the template is included in the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import DbSession, Now
from ..store import accounts
from .session import PersonSession
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
def root() -> Response:
    """The wallet's front door."""
    return RedirectResponse("/wallet", status_code=303)


@router.get("/wallet")
def wallet_home(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """Cards (brand, last 4, expiry) and any contributed sections."""
    cards = accounts.list_payment_methods(db, person.id)
    sections = [provider(db, person, now) for provider in request.app.state.home_sections]
    return render(
        request,
        "home.html",
        {
            "person": person,
            "cards": cards,
            "sections": sections,
            "added": request.query_params.get("added") == "1",
            "today": (now.year, now.month),
        },
    )
