"""``GET /transactions``, ``GET /sources``, ``GET /balances``.

Contract §3.17, contract §7.1 (rows 11–13) and contract §7.9.

An agent token granted ``payment_methods.agentic`` (what the default login grants) reads the
person's financial data: their cards and imported bank accounts, the payments made with
their cards at this wallet's merchants, and imported bank lines. The data belongs to the
person, not to one spend request, so every agent of the person sees the same lists (no
grant isolation, docs/security.md). Pages are ``{object: "list", url, data, has_more}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from ..deps import DbSession, Now, require_scope
from ..domain.financial import Page, paginate, parse_list_query
from ..domain.oauth import SCOPE_PAYMENT_METHODS
from ..services.financial import all_sources, balances_for, check_sources, transaction_json
from ..store import financial as store
from ..store.oauth import AccessContext
from .responses import ApiJSON

router = APIRouter(tags=["financial"])

Reader = Annotated[AccessContext, Depends(require_scope(SCOPE_PAYMENT_METHODS))]


def _page(page: Page, url: str) -> dict[str, Any]:
    return {"object": "list", "url": url, "data": page.items, "has_more": page.has_more}


@router.get("/transactions")
def list_transactions(request: Request, agent: Reader, db: DbSession, now: Now) -> ApiJSON:
    """The person's Link and imported transactions, newest first."""
    query = parse_list_query("transactions", request.query_params.multi_items())
    check_sources(db, agent.user_id, query.sources)
    rows, has_more = store.transactions_page(db, agent.user_id, query)
    return ApiJSON(_page(Page([transaction_json(row) for row in rows], has_more), "/transactions"))


@router.get("/sources")
def list_sources(request: Request, agent: Reader, db: DbSession) -> ApiJSON:
    """The person's cards and connected bank accounts."""
    query = parse_list_query("sources", request.query_params.multi_items())
    page = paginate(all_sources(db, agent.user_id), lambda source: source["id"], query)
    return ApiJSON(_page(page, "/sources"))


@router.get("/balances")
def list_balances(request: Request, agent: Reader, db: DbSession, now: Now) -> ApiJSON:
    """A balance per source, in the order of ``/sources``."""
    query = parse_list_query("balances", request.query_params.multi_items())
    check_sources(db, agent.user_id, query.sources)
    balances = balances_for(db, agent.user_id, now)
    if query.sources:
        balances = [b for b in balances if b["source_id"] in query.sources]
    page = paginate(balances, lambda balance: balance["source_id"], query)
    return ApiJSON(_page(page, "/balances"))
