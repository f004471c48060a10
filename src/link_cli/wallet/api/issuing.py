"""The issuer's webhook endpoint: Stripe Issuing's real-time authorization requests and its
events, on one URL (docs/issuers.md).

The signature is verified on the raw bytes before anything is parsed. A real-time request is
answered ``{"approved": true|false}`` with the event's ``Stripe-Version`` within Stripe's
2-second budget; the decision and its reason are committed before the answer leaves. Other
events answer ``{"received": true}``; a redelivered one changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool

from ..deps import DbSession, Now, body_limit, too_large_error
from ..services import issuing as issuing_service
from .responses import ApiJSON

router = APIRouter(tags=["issuing"])

WEBHOOK_PATH = "/issuing/stripe/webhook"


@router.post(WEBHOOK_PATH)
async def issuer_webhook(
    request: Request, db: DbSession, now: Now, background: BackgroundTasks
) -> ApiJSON:
    """Stripe Issuing webhooks (``Stripe-Signature`` required); 400
    ``webhook_signature_invalid`` for a bad or stale signature, 404
    ``issuer_webhook_not_configured`` when the wallet runs the sandbox issuer."""
    limit = body_limit(request.app.state.settings, request.url.path)
    raw = await request.body()
    if len(raw) > limit:
        raise too_large_error(request.url.path, limit)
    issuer = request.app.state.issuer
    event = issuer.verify_event(raw, request.headers.get("stripe-signature"), now)
    answer = await run_in_threadpool(issuing_service.handle_event, db, event, now)
    stopper = getattr(request.app.state, "card_stopper", None)
    if stopper is not None:
        background.add_task(stopper.wake)
    if answer is None:
        return ApiJSON({"received": True})
    version = event.get("api_version")
    headers = {"Stripe-Version": version} if isinstance(version, str) and version else None
    return ApiJSON(answer, headers=headers)
