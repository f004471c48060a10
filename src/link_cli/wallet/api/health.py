"""Liveness and, when enabled, the test clock."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
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
async def advance_clock(body: ClockAdvance, clock: WalletClock, request: Request) -> dict[str, Any]:
    """Move this process's clock forward (only mounted with ``LINK_WALLET_TEST_CLOCK=1``);
    held requests read again, as a deadline may have passed."""
    now = clock.advance(body.advance_seconds)
    request.app.state.long_poll.wake_all()
    return {"now": int(now.timestamp())}


@test_router.get("/__test__/long_poll")
async def long_poll_state(request: Request) -> dict[str, Any]:
    """How many requests this process holds (tests wait for a hold before changing things)."""
    return {"held": request.app.state.long_poll.held}
