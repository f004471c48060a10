"""The person's management pages: connected agents, cards, shipping addresses, profile and
password, and the spend history with its CSV export.

Every page needs a signed-in person and shows only that person's things (the services take
their id; another person's id is a 404 like an unknown one); every change is a POST form
checked by :func:`verify_csrf`. Policy: docs/security.md, "Management".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import ClientAddress, DbSession, Form, Now, Settings
from ..domain.errors import Conflict, InvalidRequest, WalletError
from ..domain.manage import (
    ADDRESS_FIELDS,
    AddressValidationError,
    history_csv,
    history_filter,
    validate_address,
)
from ..services import manage
from .csrf import verify_csrf
from .session import PersonSession, current_session_id
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

_NOTICES = {
    "revoked": "Agent disconnected. Its tokens no longer work.",
    "removed": "Card removed.",
    "default": "Default changed.",
    "nickname": "Nickname saved.",
    "address_added": "Address added.",
    "address_saved": "Address saved.",
    "address_removed": "Address removed.",
    "profile": "Profile saved.",
    "password": "Password changed.",
}


def _notice(request: Request) -> str | None:
    return _NOTICES.get(request.query_params.get("done", ""))


def _back(path: str, done: str) -> Response:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


# --- agents ------------------------------------------------------------------------------


@router.get("/wallet/agents")
def agents_page(request: Request, person: PersonSession, db: DbSession) -> Response:
    """Connected agents: name, scopes, connected at, last used; a revoke button each."""
    agents = manage.list_agents(db, person.id)
    return render(
        request,
        "manage_agents.html",
        {"person": person, "agents": agents, "notice": _notice(request)},
    )


@router.post("/wallet/agents/{agent_id}/revoke")
def revoke_agent(
    request: Request, agent_id: str, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Disconnect one agent: its access and refresh tokens stop working at once."""
    verify_csrf(request, form)
    manage.revoke_agent(db, user_id=person.id, agent_id=agent_id, now=now)
    return _back("/wallet/agents", "revoked")


# --- cards -------------------------------------------------------------------------------


@router.get("/wallet/cards")
def cards_page(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """The person's cards with default, nickname and remove actions."""
    return render(
        request,
        "manage_cards.html",
        {
            "person": person,
            "cards": manage.list_cards(db, person.id),
            "notice": _notice(request),
            "today": (now.year, now.month),
        },
    )


@router.post("/wallet/cards/{card_id}/default")
def card_default(
    request: Request, card_id: str, person: PersonSession, form: Form, db: DbSession
) -> Response:
    """Make the card the default."""
    verify_csrf(request, form)
    manage.set_default_card(db, user_id=person.id, card_id=card_id)
    return _back("/wallet/cards", "default")


@router.post("/wallet/cards/{card_id}/nickname")
def card_nickname(
    request: Request, card_id: str, person: PersonSession, form: Form, db: DbSession
) -> Response:
    """Set or clear the card's nickname."""
    verify_csrf(request, form)
    manage.set_card_nickname(
        db, user_id=person.id, card_id=card_id, nickname=str(form.get("nickname") or "")
    )
    return _back("/wallet/cards", "nickname")


def _card_of(db: Any, person_id: str, card_id: str) -> dict[str, Any]:
    for card in manage.list_cards(db, person_id):
        if card["id"] == card_id:
            return card
    raise AssertionError("checked by the service first")


@router.get("/wallet/cards/{card_id}/remove")
def card_remove_page(
    request: Request, card_id: str, person: PersonSession, db: DbSession
) -> Response:
    """Ask before removing; name the approved, unused credentials that removal cancels."""
    at_stake = manage.card_removal_impact(db, user_id=person.id, card_id=card_id)
    card = _card_of(db, person.id, card_id)
    return render(
        request,
        "manage_card_remove.html",
        {"person": person, "card": card, "at_stake": at_stake},
    )


@router.post("/wallet/cards/{card_id}/remove")
def card_remove(
    request: Request, card_id: str, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Remove the card (cancelling open requests on it once confirmed)."""
    verify_csrf(request, form)
    try:
        manage.remove_card(
            db, user_id=person.id, card_id=card_id, confirmed=form.get("confirm") == "1", now=now
        )
    except Conflict as exc:
        if exc.code != "confirmation_required":
            raise
        card = _card_of(db, person.id, card_id)
        at_stake = list(exc.extra.get("spend_requests", []))
        return render(
            request,
            "manage_card_remove.html",
            {"person": person, "card": card, "at_stake": at_stake},
            status=409,
        )
    return _back("/wallet/cards", "removed")


# --- shipping addresses ------------------------------------------------------------------


@router.get("/wallet/addresses")
def addresses_page(request: Request, person: PersonSession, db: DbSession) -> Response:
    """The person's shipping addresses (what ``shipping-address list`` returns)."""
    return render(
        request,
        "manage_addresses.html",
        {
            "person": person,
            "addresses": manage.list_addresses(db, person.id),
            "notice": _notice(request),
        },
    )


def _address_form(
    request: Request,
    person: Any,
    *,
    action: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "manage_address_form.html",
        {
            "person": person,
            "action": action,
            "fields": ADDRESS_FIELDS,
            "values": values,
            "errors": errors or {},
            "editing": action != "/wallet/addresses/new",
        },
        status=status,
    )


def _posted_address(form: Any) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in ADDRESS_FIELDS}


@router.get("/wallet/addresses/new")
def new_address_page(request: Request, person: PersonSession) -> Response:
    """An empty address form."""
    return _address_form(
        request, person, action="/wallet/addresses/new", values={"country_code": "US"}
    )


@router.post("/wallet/addresses/new")
def add_address(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Save a new address, or show the form again with what is wrong."""
    verify_csrf(request, form)
    raw = _posted_address(form)
    try:
        address = validate_address(raw)
    except AddressValidationError as exc:
        return _address_form(
            request, person, action=request.url.path, values=raw, errors=exc.field_errors,
            status=400,
        )  # fmt: skip
    manage.add_address(
        db,
        user_id=person.id,
        address=address,
        make_default=form.get("make_default") == "1",
        now=now,
    )
    return _back("/wallet/addresses", "address_added")


@router.get("/wallet/addresses/{address_id}/edit")
def edit_address_page(
    request: Request, address_id: str, person: PersonSession, db: DbSession
) -> Response:
    """The address's form, filled in."""
    values = manage.address_fields(db, user_id=person.id, address_id=address_id)
    return _address_form(request, person, action=request.url.path, values=values)


@router.post("/wallet/addresses/{address_id}/edit")
def edit_address(
    request: Request, address_id: str, person: PersonSession, form: Form, db: DbSession
) -> Response:
    """Save the edited address."""
    verify_csrf(request, form)
    manage.address_fields(db, user_id=person.id, address_id=address_id)  # 404 before errors
    raw = _posted_address(form)
    try:
        address = validate_address(raw)
    except AddressValidationError as exc:
        return _address_form(
            request, person, action=request.url.path, values=raw, errors=exc.field_errors,
            status=400,
        )  # fmt: skip
    manage.edit_address(db, user_id=person.id, address_id=address_id, address=address)
    return _back("/wallet/addresses", "address_saved")


@router.post("/wallet/addresses/{address_id}/remove")
def remove_address(
    request: Request, address_id: str, person: PersonSession, form: Form, db: DbSession
) -> Response:
    """Delete the address."""
    verify_csrf(request, form)
    manage.remove_address(db, user_id=person.id, address_id=address_id)
    return _back("/wallet/addresses", "address_removed")


@router.post("/wallet/addresses/{address_id}/default")
def default_address(
    request: Request, address_id: str, person: PersonSession, form: Form, db: DbSession
) -> Response:
    """Make the address the default one."""
    verify_csrf(request, form)
    manage.set_default_address(db, user_id=person.id, address_id=address_id)
    return _back("/wallet/addresses", "default")


# --- profile and password ----------------------------------------------------------------


def _profile(
    request: Request,
    person: Any,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    password_error: str | None = None,
    status: int = 200,
) -> Response:
    shown = values or {"name": person.name or "", "phone": person.phone or ""}
    return render(
        request,
        "manage_profile.html",
        {
            "person": person,
            "values": shown,
            "error": error,
            "password_error": password_error,
            "notice": _notice(request),
        },
        status=status,
    )


@router.get("/wallet/profile")
def profile_page(request: Request, person: PersonSession) -> Response:
    """Name and phone (as ``user-info retrieve`` returns them) and the password form."""
    return _profile(request, person)


@router.post("/wallet/profile")
def save_profile(request: Request, person: PersonSession, form: Form, db: DbSession) -> Response:
    """Save name and phone."""
    verify_csrf(request, form)
    values = {"name": str(form.get("name") or ""), "phone": str(form.get("phone") or "")}
    user = db.merge(person)
    try:
        manage.update_profile(db, user=user, name=values["name"], phone=values["phone"])
    except InvalidRequest as exc:
        db.rollback()
        return _profile(request, person, values=values, error=exc.message, status=400)
    return _back("/wallet/profile", "profile")


@router.post("/wallet/profile/password")
def change_password(
    request: Request,
    person: PersonSession,
    form: Form,
    db: DbSession,
    now: Now,
    settings: Settings,
    address: ClientAddress,
) -> Response:
    """Change the password after checking the current one (throttled like sign-in)."""
    verify_csrf(request, form)
    new = str(form.get("new_password") or "")
    if new != str(form.get("repeat_password") or ""):
        return _profile(request, person, password_error="The new passwords differ.", status=400)
    try:
        manage.change_password(
            db,
            user=person,
            current=str(form.get("current_password") or ""),
            new=new,
            address=address,
            throttles=settings.throttles,
            fast_hash=settings.fast_password_hash,
            now=now,
            this_browser=current_session_id(request),
        )
    except WalletError as exc:
        response = _profile(request, person, password_error=exc.message, status=exc.status)
        response.headers.update(exc.headers)
        return response
    return _back("/wallet/profile", "password")


# --- history -----------------------------------------------------------------------------


def _filters(request: Request) -> Any:
    query = request.query_params
    return history_filter(
        status=query.get("status"),
        since=query.get("since"),
        until=query.get("until"),
        merchant=query.get("merchant"),
        statuses=manage.HISTORY_STATUSES,
    )


@router.get("/wallet/history")
def history_page(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """Every spend request with status, credential, settlement and receipt; filterable."""
    query = {k: request.query_params.get(k, "") for k in ("status", "since", "until", "merchant")}
    error = None
    try:
        rows = manage.history(db, user_id=person.id, filters=_filters(request), now=now)
    except InvalidRequest as exc:
        rows, error = [], exc.message
    return render(
        request,
        "manage_history.html",
        {
            "person": person,
            "rows": rows,
            "query": query,
            "statuses": sorted(manage.HISTORY_STATUSES),
            "error": error,
            "export": request.url.query,
        },
        status=400 if error else 200,
    )


@router.get("/wallet/history.csv")
def history_export(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """The filtered history as a CSV download (formula-safe cells)."""
    rows = manage.history(db, user_id=person.id, filters=_filters(request), now=now)
    return Response(
        history_csv(rows, manage.HISTORY_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="link-wallet-history.csv"'},
    )
