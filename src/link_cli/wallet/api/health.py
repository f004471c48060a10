"""Liveness and, when enabled, the test clock."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..deps import WalletClock

router = APIRouter(tags=["health"])
test_router = APIRouter(tags=["testing"], include_in_schema=False)

MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """``{"status": "ok"}``; the app only starts serving after migrations ran."""
    return {"status": "ok"}


class ClockAdvance(BaseModel):
    """Body of ``POST /__test__/clock``."""

    advance_seconds: int = Field(ge=0, le=MAX_ADVANCE_SECONDS)


@test_router.post("/__test__/clock")
def advance_clock(body: ClockAdvance, clock: WalletClock) -> dict[str, Any]:
    """Move this process's clock forward (only mounted with ``LINK_WALLET_TEST_CLOCK=1``)."""
    return {"now": int(clock.advance(body.advance_seconds).timestamp())}
