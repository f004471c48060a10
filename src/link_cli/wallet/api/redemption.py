"""Stripe-compatible merchant routes: the wallet as acquirer for its registered merchants.

``POST /v1/payment_intents`` confirms a PaymentIntent against an SPT or a virtual card;
``GET /v1/payment_intents/{id}`` and ``GET /v1/shared_payment/granted_tokens/{id}`` read
the merchant's own objects. Requests and answers follow Stripe's API closely enough that
the official ``stripe`` SDK (``StripeClient(key, base_addresses={"api": <wallet>})``),
pympp and mppx work unchanged: form-encoded bodies, the secret key as HTTP Basic user or
Bearer token, ``Idempotency-Key`` with ``Idempotent-Replayed: true`` on replays, and
``{"error": {type, code, decline_code, message, ...}}`` bodies (``StripeError``, rendered by the
one error edge like every ``WalletError``).

Who may call: a merchant holding a ``sk_test_…`` or ``sk_live_…`` key from ``link-wallet
merchant create``. The key's mode is the request's mode: a test key sees and redeems only test
credentials, a live key only live ones (docs/security.md, "Test mode and live mode").
Card presentations spend the key's budget of failed authorizations, reserved in the
database before any card is examined (store/throttle.py); past it the key is answered 429
``rate_limit`` until the window frees a place (docs/security.md, "Card enumeration and
card burning").
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..deps import body_limit, too_large_error
from ..domain.payment_intent_params import parse_payment_intent_create
from ..domain.stripe_errors import StripeError, invalid_request
from ..domain.stripe_form import canonical_params, decode_form
from ..domain.throttle import card_failure_budgets
from ..services.redemption import confirm_payment_intent
from ..store import throttle
from ..store.idempotency import idempotency_mac
from ..store.merchants import authenticate_merchant
from ..store.models.merchants import Merchant
from ..store.payment_intents import get_granted_token, get_payment_intent

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["redemption"])

_MAX_IDEMPOTENCY_KEY = 255


def _answer(status: int, body: dict[str, Any], *, replayed: bool = False) -> JSONResponse:
    headers = {"Request-Id": "req_" + secrets.token_hex(8), "Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=headers)


@contextmanager
def _session(request: Request) -> Iterator[Session]:
    """A session that never keeps uncommitted work (the service commits what it settles)."""
    session = request.app.state.db.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _secret_key(request: Request) -> str:
    """The API key from ``Authorization: Bearer sk_…`` or ``Basic base64(sk_…:)``."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # not base64 (non-ASCII text too), or not UTF-8
            decoded = ""
        user = decoded.partition(":")[0]
        if user:
            return user
    raise invalid_request(
        "You did not provide an API key. Provide your secret key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer sk_test_…') or as the "
        "HTTP Basic user name.",
        status=401,
    )


def _merchant(request: Request, session: Any) -> Merchant:
    key = _secret_key(request)
    merchant = authenticate_merchant(session, key)
    if merchant is None:
        hint = key[:8] + "*" * 4 + key[-4:] if len(key) > 12 else "****"
        raise invalid_request(f"Invalid API Key provided: {hint}", status=401)
    return merchant


@router.post("/payment_intents")
async def create_payment_intent(request: Request) -> JSONResponse:
    """Create and confirm a PaymentIntent (amount in minor units); settles its credential.

    Answers 200 with the PaymentIntent, 402 ``card_error`` on a decline, 400
    ``invalid_request_error`` (bad parameter, token unknown or used, limits), 400
    ``idempotency_error``, 401 for a bad key.
    """
    limit = body_limit(request.app.state.settings, request.url.path)
    body = await request.body()  # bounded while streaming by RequestLimitsMiddleware
    if len(body) > limit:
        raise too_large_error(request.url.path, limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != "application/x-www-form-urlencoded":
        raise invalid_request("Send parameters form-encoded (application/x-www-form-urlencoded).")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("Could not parse the request body.") from None
    key = request.headers.get("idempotency-key")
    # Printable only: the key is stored, and PostgreSQL refuses NUL in text (a 500 before).
    if key is not None and not (0 < len(key) <= _MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise invalid_request(
            f"Idempotency-Key must be 1 to {_MAX_IDEMPOTENCY_KEY} printable characters long."
        )
    return await run_in_threadpool(_confirm, request, pairs, key)


def _confirm(request: Request, pairs: list[tuple[str, str]], key: str | None) -> JSONResponse:
    state = request.app.state
    now = state.clock.now()
    with _session(request) as session:
        merchant = _merchant(request, session)
        params = parse_payment_intent_create(decode_form(pairs))
        reserved: throttle.Reservation | None = None
        if params.card is not None:
            reserved = _reserve_card_attempt(session, merchant, state.settings, now)
        try:
            result = confirm_payment_intent(
                session,
                merchant=merchant,
                params=params,
                idempotency_key=key,
                request_mac=idempotency_mac(state.settings.secret_key, canonical_params(pairs)),
                cipher=state.cipher,
                secret_key=state.settings.secret_key,
                now=now,
                merchant_lock=state.settings.card_merchant_lock,
            )
        except BaseException:
            session.rollback()
            if reserved is not None:
                # No card was judged; if even the give-back fails (a busy database), the
                # attempt stays counted, which errs on the safe side.
                with suppress(Exception):
                    _give_back(session, reserved)
            raise
        # Only a decline stays counted: a payment, or a replayed answer, examined nothing wrong.
        if reserved is not None and (result.status != 402 or result.replayed):
            _give_back(session, reserved)
        return _answer(result.status, result.body, replayed=result.replayed)


def _reserve_card_attempt(
    session: Session, merchant: Merchant, settings: Any, now: Any
) -> throttle.Reservation:
    """Reserve one failed authorization of the key's budget, committed before any card is
    looked at, or refuse with 429 ``rate_limit``."""
    reserved = throttle.reserve(
        session, card_failure_budgets(settings.throttles, merchant_id=merchant.id), now=now
    )
    session.commit()
    if isinstance(reserved, throttle.Refusal):
        error = StripeError(
            429,
            "invalid_request_error",
            "Too many declined card payments from this API key. Try again in "
            f"{reserved.retry_after} seconds.",
            code="rate_limit",
        )
        error.headers["Retry-After"] = str(reserved.retry_after)
        error.headers["Stripe-Should-Retry"] = "false"
        raise error
    return reserved


def _give_back(session: Session, reserved: throttle.Reservation) -> None:
    throttle.release(session, reserved)
    session.commit()


@router.get("/payment_intents/{intent_id}")
def retrieve_payment_intent(intent_id: str, request: Request) -> JSONResponse:
    """One of the calling merchant's PaymentIntents (404 for any other id)."""
    return _read(
        request,
        lambda session, merchant, _now: get_payment_intent(
            session, merchant=merchant, intent_id=intent_id
        ),
    )


@router.get("/shared_payment/granted_tokens/{token_id}")
def retrieve_granted_token(token_id: str, request: Request) -> JSONResponse:
    """An SPT granted to the calling merchant's network id (404 for any other)."""
    return _read(
        request,
        lambda session, merchant, now: get_granted_token(
            session, merchant=merchant, token_id=token_id, now=now
        ),
    )


def _read(request: Request, fetch: Any) -> JSONResponse:
    with request.app.state.db.read_scope() as session:
        merchant = _merchant(request, session)
        return _answer(200, fetch(session, merchant, request.app.state.clock.now()))
