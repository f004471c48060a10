"""Stripe-compatible merchant routes: the wallet as acquirer for its registered merchants.

``POST /v1/payment_intents`` creates a PaymentIntent and, with ``confirm=true``, confirms it
against an SPT or a virtual card; ``POST /v1/payment_intents/{id}/confirm`` confirms one
created earlier, ``…/cancel`` cancels it; ``GET /v1/payment_intents`` lists the merchant's
own, and ``GET /v1/payment_intents/{id}``, ``GET /v1/payment_methods/{id}`` and
``GET /v1/shared_payment/granted_tokens/{id}`` read the merchant's own objects. Any other
``/v1/`` URL or method answers Stripe's 404 ``Unrecognized request URL`` (``api/errors.py``). Requests and answers follow Stripe's API closely enough that
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..deps import body_limit, too_large_error
from ..domain.payment_intent_params import (
    PaymentIntentConfirm,
    PaymentIntentCreate,
    parse_cancel,
    parse_payment_intent_confirm,
    parse_payment_intent_create,
)
from ..domain.stripe_errors import StripeError, invalid_request
from ..domain.stripe_form import canonical_params, decode_form
from ..domain.stripe_list import parse_list
from ..domain.stripe_objects import account_object
from ..domain.throttle import card_failure_budgets
from ..services.redemption import cancel_intent, confirm_payment_intent
from ..store import throttle
from ..store.idempotency import idempotency_mac
from ..store.merchants import authenticate_merchant
from ..store.models.merchants import Merchant
from ..store.payment_intents import (
    get_granted_token,
    get_payment_intent,
    get_payment_method,
    list_payment_intents,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["redemption"])

_MAX_IDEMPOTENCY_KEY = 255

# The form body in the OpenAPI document (parsed by hand: Stripe's bracket encoding); the
# full entries of the routes added for issue 11 item 8 are in api/openapi_stripe.py.
_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": True}
            }
        },
    }
}


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


@router.post("/payment_intents", openapi_extra=_FORM_BODY)
async def create_payment_intent(request: Request) -> JSONResponse:
    """Create a PaymentIntent (amount in minor units); with ``confirm=true`` confirm it at
    once, settling its credential, else store it ``requires_payment_method`` (or
    ``requires_confirmation`` with an SPT) to confirm later.

    Answers 200 with the PaymentIntent, 402 ``card_error`` on a decline, 400
    ``invalid_request_error`` (bad parameter, token unknown or used, limits), 400
    ``idempotency_error``, 401 for a bad key.
    """
    pairs, key = await _form(request)
    parse = partial(parse_payment_intent_create, decode_form(pairs))
    return await run_in_threadpool(_confirm, request, pairs, key, parse, None)


@router.post("/payment_intents/{intent_id}/confirm", openapi_extra=_FORM_BODY)
async def confirm_existing_payment_intent(intent_id: str, request: Request) -> JSONResponse:
    """Confirm a PaymentIntent created without ``confirm``, with the credential given now
    (``shared_payment_granted_token`` or ``payment_method_data[card]``) or the SPT given at
    creation. Same rules, budget and idempotency as confirming at creation; 400
    ``payment_intent_unexpected_state`` once it succeeded or was canceled.
    """
    pairs, key = await _form(request)
    parse = partial(parse_payment_intent_confirm, decode_form(pairs))
    return await run_in_threadpool(_confirm, request, pairs, key, parse, intent_id)


@router.post("/payment_intents/{intent_id}/cancel", openapi_extra=_FORM_BODY)
async def cancel_payment_intent(intent_id: str, request: Request) -> JSONResponse:
    """Cancel a PaymentIntent not yet succeeded (optional ``cancellation_reason``)."""
    pairs, key = await _form(request)
    return await run_in_threadpool(_cancel, request, pairs, key, intent_id)


def _cancel(
    request: Request, pairs: list[tuple[str, str]], key: str | None, intent_id: str
) -> JSONResponse:
    state = request.app.state
    with _session(request) as session:
        merchant = _merchant(request, session)
        reason = parse_cancel(decode_form(pairs))
        result = cancel_intent(
            session,
            merchant=merchant,
            intent_id=intent_id,
            reason=reason,
            idempotency_key=key,
            request_mac=_mac(state.settings.secret_key, request, pairs),
            now=state.clock.now(),
        )
        return _answer(result.status, result.body, replayed=result.replayed)


def _mac(secret_key: bytes, request: Request, pairs: list[tuple[str, str]]) -> str:
    """The idempotency MAC of a request; on other routes than create it covers the path too,
    so one key sent to two endpoints is a conflict, as on Stripe."""
    path = request.url.path
    bound = pairs if path.rstrip("/") == "/v1/payment_intents" else [(" path", path), *pairs]
    return idempotency_mac(secret_key, canonical_params(bound))


async def _form(request: Request) -> tuple[list[tuple[str, str]], str | None]:
    """The form pairs and the Idempotency-Key of a POST, checked like Stripe does."""
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
    return pairs, key


def _confirm(
    request: Request,
    pairs: list[tuple[str, str]],
    key: str | None,
    parse: Callable[[], PaymentIntentCreate | PaymentIntentConfirm],
    intent_id: str | None,
) -> JSONResponse:
    state = request.app.state
    now = state.clock.now()
    with _session(request) as session:
        merchant = _merchant(request, session)
        parsed = parse()
        reserved: throttle.Reservation | None = None
        if parsed.card is not None:
            reserved = _reserve_card_attempt(session, merchant, state.settings, now)
        try:
            result = confirm_payment_intent(
                session,
                merchant=merchant,
                params=parsed if isinstance(parsed, PaymentIntentCreate) else None,
                idempotency_key=key,
                request_mac=_mac(state.settings.secret_key, request, pairs),
                cipher=state.cipher,
                secret_key=state.settings.secret_key,
                now=now,
                merchant_lock=state.settings.card_merchant_lock,
                intent_id=intent_id,
                given=parsed if isinstance(parsed, PaymentIntentConfirm) else None,
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


@router.get("/payment_intents")
def list_intents(request: Request) -> JSONResponse:
    """The calling merchant's PaymentIntents (its mode only), newest first, as Stripe's list
    object: ``limit`` 1–100 (10), ``starting_after`` / ``ending_before``, ``created``."""
    with request.app.state.db.read_scope() as session:
        merchant = _merchant(request, session)
        params = parse_list(decode_form(request.query_params.multi_items()))
        return _answer(200, list_payment_intents(session, merchant=merchant, params=params))


@router.get("/account")
def retrieve_account(request: Request) -> JSONResponse:
    """The calling merchant's own account, as Stripe's ``GET /v1/account`` answers it: its
    ``id`` (``acct_…``) is the merchant account id a checkout advertises for Link Pay
    Tokens (``data-stripe-merchant-account``)."""
    return _read(
        request,
        lambda _session, merchant, _now: account_object(
            id=merchant.id,
            name=merchant.name,
            url=merchant.site,
            livemode=merchant.livemode,
            created=merchant.created_at,
        ),
    )


@router.get("/payment_methods/{payment_method_id}")
def retrieve_payment_method(payment_method_id: str, request: Request) -> JSONResponse:
    """The PaymentMethod of one of the calling merchant's own PaymentIntents: type ``card``
    with brand, last four digits and expiry as presented (404 for any other id)."""
    return _read(
        request,
        lambda session, merchant, _now: get_payment_method(
            session, merchant=merchant, payment_method_id=payment_method_id
        ),
    )


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


# Included after every other router: any other /v1 URL, a trailing slash included, gets
# Stripe's "Unrecognized request URL" rather than the framework's slash redirect.
fallback_router = APIRouter(prefix="/v1", include_in_schema=False)


@fallback_router.api_route(
    "/{unrecognized:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
)
def unrecognized_url(unrecognized: str) -> None:
    """Answered by the /v1 branch of the HTTP error handler (``api/errors.py``)."""
    raise StarletteHTTPException(status_code=404)
