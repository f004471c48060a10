"""``GET /wallet/changes``: the wallet home's live update (docs/long-poll.md).

The home's "Recent spend requests" section carries the person's change version; its script
asks this route with ``Prefer: wait=N`` and that version, is held until one of the person's
spend requests is created or moves, then swaps the section for a fresh copy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..long_poll import Seen, hold_until_changed
from ..store.changes import person_key, person_version
from .session import PersonSession

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/wallet/changes")
async def wallet_changes(
    request: Request, person: PersonSession, version: str | None = None
) -> JSONResponse:
    """``{"version"}``; held while it equals ``version`` (with ``Prefer: wait=N``)."""

    def read() -> Seen:
        with request.app.state.db.read_scope() as db:
            current = person_version(db, person.id)
        return Seen({"version": current}, current, version is None or version == current)

    key = person_key(person.id)
    body, headers = await hold_until_changed(request, key=key, agent=key, read=read)
    headers["Cache-Control"] = "no-store"
    return JSONResponse(body, headers=headers)
