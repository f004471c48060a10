"""The "add a card" page. The number and CVC are never echoed back into the page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import Cipher, DbSession, Form, Now
from ..domain.cards import CardValidationError, validate_card
from ..store import accounts
from .csrf import verify_csrf
from .session import PersonSession
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

CARD_FIELDS = (
    "number", "exp_month", "exp_year", "cvc", "name", "line1", "line2",
    "city", "state", "postal_code", "country", "nickname",
)  # fmt: skip
_SECRET_FIELDS = {"number", "cvc"}


@router.get("/wallet/cards/new")
def new_card_page(request: Request, person: PersonSession) -> Response:
    """An empty card form."""
    return render(request, "cards_new.html", {"person": person, "values": {"country": "US"}})


@router.post("/wallet/cards/new")
def add_card(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now, cipher: Cipher
) -> Response:
    """Validate and store the card; on errors re-render the form with per-field messages."""
    verify_csrf(request, form)
    raw = {name: str(form.get(name) or "") for name in CARD_FIELDS}
    try:
        card = validate_card(raw, today=now.date())
    except CardValidationError as exc:
        values = {k: v for k, v in raw.items() if k not in _SECRET_FIELDS}
        return render(
            request,
            "cards_new.html",
            {"person": person, "values": values, "errors": exc.field_errors},
            status=400,
        )
    accounts.add_card(
        db,
        user_id=person.id,
        card=card,
        cipher=cipher,
        now=now,
        make_default=form.get("make_default") == "1",
    )
    return RedirectResponse("/wallet?added=1", status_code=303)
