"""The person's "Transactions" page: sources, balances, transactions, and statement import.

The same data the agent reads from ``/transactions``, ``/sources`` and ``/balances``, with the
same pagination. The import form takes one CSV or OFX/QFX export (bounded by
``MAX_IMPORT_BYTES``) and adds its lines as ``external_connection`` transactions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ..deps import IMPORT_PATH, DbSession, Now, UploadForm
from ..domain.errors import WalletError
from ..domain.financial import parse_list_query
from ..domain.statements import MAX_IMPORT_BYTES, ImportRefused, parse_statement
from ..services.financial import all_sources, balances_for, transaction_json
from ..store import financial as store
from ..store.models.accounts import User
from .csrf import verify_csrf
from .session import PersonSession
from .templating import render

PAGE_SIZE = 25


def transactions_home_section(db: Session, person: User, now: datetime) -> tuple[str, Any]:
    """The home page's link to the Transactions page, with a count of sources."""
    return "transactions_home.html", {"sources": len(all_sources(db, person.id))}


@asynccontextmanager
async def _contribute_home_section(app: FastAPI) -> AsyncIterator[None]:
    app.state.home_sections.append(transactions_home_section)
    yield


router = APIRouter(tags=["pages"], include_in_schema=False, lifespan=_contribute_home_section)


def _page_context(request: Request, db: Session, person: User, now: datetime) -> dict[str, Any]:
    pairs = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name in ("starting_after", "ending_before")
    ]
    query = parse_list_query("transactions", [*pairs, ("limit", str(PAGE_SIZE))])
    rows, has_more = store.transactions_page(db, person.id, query)
    items = [transaction_json(row) for row in rows]
    sources = all_sources(db, person.id)
    names = {source["id"]: source["name"] for source in sources}
    backwards = query.ending_before is not None
    has_older = has_more if not backwards else True
    has_newer = (query.starting_after is not None) or (backwards and has_more)
    return {
        "person": person,
        "sources": sources,
        "balances": balances_for(db, person.id, now),
        "transactions": items,
        "source_names": names,
        "older": items[-1]["id"] if items and has_older else None,
        "newer": items[0]["id"] if items and has_newer else None,
        "max_import_kb": MAX_IMPORT_BYTES // 1024,
    }


@router.get("/wallet/transactions")
def transactions_page(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """Sources, balances and transactions, newest first, 25 a page."""
    context = _page_context(request, db, person, now)
    imported = request.query_params.get("imported")
    if imported is not None and imported.isascii() and imported.isdigit():
        context["imported"] = int(imported)
    return render(request, "transactions.html", context)


@router.post(IMPORT_PATH)
def import_statement(
    request: Request, person: PersonSession, form: UploadForm, db: DbSession, now: Now
) -> Response:
    """Add a CSV or OFX export's lines; a file the wallet cannot read re-renders with why."""
    verify_csrf(request, form)
    upload = form.get("statement")
    error: str | None = None
    if not isinstance(upload, UploadFile):
        error = "Choose a CSV or OFX file to import."
    else:
        data = upload.file.read(MAX_IMPORT_BYTES + 1)
        account_name = form.get("account_name")
        currency = form.get("currency")
        try:
            statement = parse_statement(
                data,
                filename=upload.filename or "",
                account_name=account_name if isinstance(account_name, str) else None,
                currency=currency if isinstance(currency, str) and currency.strip() else None,
            )
            result = store.import_statement(db, person.id, statement, now)
        except ImportRefused as exc:
            error = exc.message
        except WalletError:
            raise
        else:
            return RedirectResponse(
                f"/wallet/transactions?imported={result.added}", status_code=303
            )
    context = _page_context(request, db, person, now)
    context["import_error"] = error
    return render(request, "transactions.html", context, status=400)
