"""Link API spend-request endpoints (contract §7.1 rows 1–7, shapes in contract §7.2–§7.4).

Every route needs a Bearer token with ``payment_methods.agentic``; creating a pre-approved
request (``create_delegated``) also needs ``spend_requests:approve``. Routes parse, call
``services.spend_requests`` and render; errors are raised as ``WalletError``s and rendered by
``api/errors.py``. Agents are isolated: each route reaches only the requests created through
the token's own grant (the device login it came from; refreshing keeps the grant). Another
grant's id, or another person's, answers exactly like an unknown one (404).
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from sqlalchemy.orm import Session

from ..deps import (
    DbSession,
    Now,
    Settings,
    body_limit,
    commits_in_route_thread,
    issuing_for,
    require_scope,
    too_large_error,
)
from ..domain.errors import InvalidRequest
from ..domain.limits import DuplicateSpendRequest
from ..domain.oauth import SCOPE_APPROVE, SCOPE_PAYMENT_METHODS
from ..domain.spend_request import SpendRequest, Status, deadline
from ..domain.validation import parse_create_body, parse_update_body
from ..long_poll import Seen, hold_until_changed
from ..services import issuing as issuing_service
from ..services import spend_requests as spend_service
from ..store import issued_credentials
from ..store import spend_requests as repository
from ..store.changes import spend_request_key
from ..store.crypto import FieldCipher
from ..store.models.spend import IssuedCredential
from ..store.oauth import AccessContext
from .responses import ApiJSON

router = APIRouter(tags=["spend requests"])

SpendRequester = Annotated[AccessContext, Depends(require_scope(SCOPE_PAYMENT_METHODS))]
DelegatedApprover = Annotated[AccessContext, Depends(require_scope(SCOPE_APPROVE))]

INCLUDABLE = ("card", "shared_payment_token", "link_pay_token")
# Statuses in which an issued credential still exists and may be shown with `include=`.
_REVEALABLE = frozenset({Status.APPROVED, Status.REQUIRES_ACTION, Status.SUCCEEDED, Status.FAILED})
# A card's number and CVC, or a Link Pay Token, only while it can still pay
# (docs/security.md): once used, burned or expired, `include=` adds nothing.
_CARD_REVEALABLE = frozenset({Status.APPROVED, Status.REQUIRES_ACTION})
# What a polling agent waits to see change (long-poll holds only these).
_WAITABLE = frozenset({Status.CREATED, Status.PENDING_APPROVAL})


# -- rendering (contract §7.2) -------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as the official API writes times."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def approval_url(public_url: str, request_id: str) -> str:
    """Where the person approves or denies this request."""
    return f"{public_url}/approve/{request_id}"


def spend_request_json(
    request: SpendRequest,
    credential: IssuedCredential | None,
    *,
    public_url: str,
    include: frozenset[str] = frozenset(),
    cipher: FieldCipher | None = None,
    now: datetime | None = None,
    revealed: issued_credentials.RevealedCard | None = None,
) -> dict[str, Any]:
    """The SpendRequest object. Card number and CVC appear only when ``include`` asks for
    ``card`` and the card can still pay: unused, its request approved, before ``now`` passes
    its ``valid_until``."""
    due = deadline(request)
    body: dict[str, Any] = {
        "id": request.id,
        "status": str(request.status),
        "merchant_name": request.merchant_name,
        "merchant_url": request.merchant_url,
        "context": request.context,
        "amount": request.amount,
        "currency": request.currency,
        "line_items": request.line_items,
        "totals": request.totals,
        "payment_details": request.payment_method_id,
        "credential_type": str(request.credential_type),
        "network_id": request.network_id,
        "approval_url": (
            approval_url(public_url, request.id) if request.approval_requested_at else None
        ),
        "payment_status_details": request.payment_status_details,
        "status_details": request.status_details,
        "link_transaction_id": request.link_transaction_id,
        "metadata": request.metadata,
        "test": request.test,
        "expires_at": int((due or request.expires_at).timestamp()),
        "created_at": iso(request.created_at),
        "updated_at": iso(request.updated_at),
    }
    details = request.approval_details
    if isinstance(details, dict) and details.get("approved_by") == "policy":
        # Says who approved (docs/policies.md); only on requests a spending policy approved.
        body["approval_details"] = details
    if credential is None:
        return body
    if credential.kind == issued_credentials.KIND_CARD:
        body["card_brand"] = credential.card_brand
        body["card_last4"] = credential.card_last4
    if request.status not in _REVEALABLE:
        return body
    if (
        "card" in include
        and credential.kind == issued_credentials.KIND_CARD
        and cipher
        and _can_pay(request, credential, now)
        and (revealed is not None or credential.card_number_encrypted is not None)
    ):
        body["card"] = _card_json(credential, cipher, revealed)
    if (
        "link_pay_token" in include
        and credential.kind == issued_credentials.KIND_LPT
        and _can_pay(request, credential, now)
    ):
        # A bare string (contract §7.2), put into the checkout's link_pay_token input.
        body["link_pay_token"] = credential.id
    if "shared_payment_token" in include and credential.kind == issued_credentials.KIND_SPT:
        body["shared_payment_token"] = {
            # An outside issuer's token (Stripe's spt_…) is what the seller redeems.
            "id": credential.issuer_ref or credential.id,
            "valid_until": iso(credential.valid_until),
        }
    return body


def _can_pay(request: SpendRequest, credential: IssuedCredential, now: datetime | None) -> bool:
    return (
        request.status in _CARD_REVEALABLE
        and credential.consumed_at is None
        and (now is None or now < credential.valid_until)
    )


def _card_json(
    credential: IssuedCredential,
    cipher: FieldCipher,
    revealed: issued_credentials.RevealedCard | None = None,
) -> dict[str, Any]:
    secrets = revealed or issued_credentials.reveal_card(credential, cipher)
    return {
        "id": credential.id,
        "brand": credential.card_brand,
        "exp_month": credential.card_exp_month,
        "exp_year": credential.card_exp_year,
        "number": secrets.number,
        "cvc": secrets.cvc,
        "billing_address": credential.billing_address,
        "valid_until": iso(credential.valid_until),
    }


class _Credential(enum.Enum):
    LOOK_UP = "look up"
    """``_render``'s default: fetch the credential (passing None means there is none)."""


def _render(
    request: Request,
    db: Session,
    spend: SpendRequest,
    *,
    include: frozenset[str] = frozenset(),
    credential: IssuedCredential | Literal[_Credential.LOOK_UP] | None = _Credential.LOOK_UP,
    revealed: issued_credentials.RevealedCard | None = None,
) -> dict[str, Any]:
    if credential is _Credential.LOOK_UP:
        credential = issued_credentials.get_for_request(db, spend.user_id, spend.id)
    return spend_request_json(
        spend,
        credential,
        public_url=request.app.state.settings.public_url,
        include=include,
        cipher=request.app.state.cipher,
        now=request.app.state.clock.now(),
        revealed=revealed,
    )


# -- input ----------------------------------------------------------------------------------


async def json_body(request: Request) -> object:
    """The decoded JSON body (bounded); 400 ``body_invalid`` when it is not JSON."""
    limit = body_limit(request.app.state.settings, request.url.path)
    raw = await request.body()  # bounded while streaming by RequestLimitsMiddleware
    if len(raw) > limit:
        raise too_large_error(request.url.path, limit)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
        # Escapes such as "\udc00" decode to lone surrogates no database can store.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):  # RecursionError: absurd nesting
        raise InvalidRequest(
            "The request body is not valid JSON (UTF-8 text).",
            code="body_invalid",
            extra={"param": "body"},
        ) from None
    return body


JsonBody = Annotated[object, Depends(json_body)]


def parse_include(values: list[str] | None) -> frozenset[str]:
    """``include=card,shared_payment_token,link_pay_token`` (comma list, may repeat) → a set
    of names."""
    names = {part.strip() for value in values or () for part in value.split(",") if part.strip()}
    for name in sorted(names):
        if name not in INCLUDABLE:
            raise InvalidRequest(
                f"include must list only {', '.join(INCLUDABLE)} (got {name[:40]!r}).",
                code="parameter_invalid",
                extra={"param": "include"},
            )
    return frozenset(names)


def _with_duplicate(
    request: Request, db: Session, error: DuplicateSpendRequest
) -> DuplicateSpendRequest:
    error.extra["duplicate_spend_request"] = _render(request, db, error.existing)
    return error


# -- routes ---------------------------------------------------------------------------------


@router.get("/spend_requests")
@commits_in_route_thread
def list_spend_requests(
    request: Request,
    agent: SpendRequester,
    db: DbSession,
    now: Now,
    include_history: bool = False,
) -> ApiJSON:
    """The person's spend requests, newest first (at most 100): active ones (created,
    pending_approval, approved), or every status with ``include_history=true``."""
    spends = repository.list_for_agent(
        db, agent.user_id, agent.grant_id, now=now, include_history=include_history
    )
    credentials = issued_credentials.get_for_requests(db, agent.user_id, (s.id for s in spends))
    public_url = request.app.state.settings.public_url
    return ApiJSON(
        {
            "data": [
                spend_request_json(s, credentials.get(s.id), public_url=public_url) for s in spends
            ]
        }
    )


@router.post("/spend_requests")
@commits_in_route_thread
def create_spend_request(
    request: Request,
    agent: SpendRequester,
    db: DbSession,
    now: Now,
    settings: Settings,
    body: JsonBody,
) -> ApiJSON:
    """Create a request (contract §7.3); ``request_approval: true`` starts the approval at once.

    429 ``spend_request_rate_limited`` with ``duplicate_spend_request`` when an identical
    request is still active; other limits answer 429 with ``limit`` and ``retry_after``.
    """
    draft = parse_create_body(body, max_amount=settings.limits.max_amount, now=now)
    try:
        spend = spend_service.create(
            db,
            user_id=agent.user_id,
            grant_id=agent.grant_id,
            draft=draft,
            now=now,
            limits=settings.limits,
            issuing=issuing_for(request),
        )
    except DuplicateSpendRequest as error:
        raise _with_duplicate(request, db, error) from None
    return ApiJSON(_render(request, db, spend))


@router.post("/spend_requests/create_delegated")
@commits_in_route_thread
def create_delegated_spend_request(
    request: Request,
    agent: SpendRequester,
    approver: DelegatedApprover,
    db: DbSession,
    now: Now,
    settings: Settings,
    body: JsonBody,
) -> ApiJSON:
    """Create an already-approved request on the person's standing permission (scope
    ``spend_requests:approve``; ``approval_details`` required, contract §11.3). The credential is
    issued at once; retrieve it with ``include=``."""
    draft = parse_create_body(body, max_amount=settings.limits.max_amount, now=now)
    try:
        spend, credential = spend_service.create_delegated(
            db,
            user_id=agent.user_id,
            grant_id=agent.grant_id,
            draft=draft,
            now=now,
            limits=settings.limits,
            issuing=issuing_for(request),
        )
    except DuplicateSpendRequest as error:
        raise _with_duplicate(request, db, error) from None
    return ApiJSON(_render(request, db, spend, credential=credential))


@router.get("/spend_requests/{request_id}")
async def retrieve_spend_request(
    request: Request,
    request_id: str,
    agent: SpendRequester,
    include: Annotated[list[str] | None, Query()] = None,
) -> ApiJSON:
    """One request; ``include=card`` / ``shared_payment_token`` adds the credential once
    approved. 404 ``resource_missing`` for unknown ids and ids of other grants or people.

    With ``Prefer: wait=N`` a request still created or pending approval is held until it
    changes, expires or ``N`` seconds pass (docs/long-poll.md); no thread or database
    connection is held meanwhile."""
    names = parse_include(include)

    def read() -> Seen:
        now = request.app.state.clock.now()
        with request.app.state.db.read_scope() as db:
            found = repository.get_with_credential_for_agent(
                db, agent.user_id, agent.grant_id, request_id, now=now
            )
            if found is None:
                raise spend_service.not_found(request_id)
            spend, credential = found
            revealed = None
            if (
                "card" in names
                and credential is not None
                and credential.issuer_ref is not None
                and _can_pay(spend, credential, now)
            ):
                # An outside issuer's card: number and CVC fetched the first time, kept encrypted.
                revealed = issuing_service.reveal_outside_card(
                    request.app.state.db,
                    credential,
                    request.app.state.issuer,
                    request.app.state.cipher,
                )
            body = _render(
                request, db, spend, include=names, credential=credential, revealed=revealed
            )
        return Seen(body, str(spend.revision), spend.status in _WAITABLE, deadline(spend))

    body, headers = await hold_until_changed(
        request, key=spend_request_key(request_id), agent=agent.grant_id, read=read
    )
    return ApiJSON(body, headers=headers)


@router.post("/spend_requests/{request_id}")
@commits_in_route_thread
def update_spend_request(
    request: Request,
    request_id: str,
    agent: SpendRequester,
    db: DbSession,
    now: Now,
    settings: Settings,
    body: JsonBody,
) -> ApiJSON:
    """Change amount, currency, merchant_url, profile_id, payment_details, line items or
    totals (contract §7.4) while created or pending_approval; 409 afterwards."""
    changes = parse_update_body(body, max_amount=settings.limits.max_amount)
    spend = spend_service.update(
        db,
        user_id=agent.user_id,
        grant_id=agent.grant_id,
        request_id=request_id,
        changes=changes,
        now=now,
        issuing=issuing_for(request),
    )
    return ApiJSON(_render(request, db, spend))


@router.post("/spend_requests/{request_id}/request_approval")
@commits_in_route_thread
def request_spend_request_approval(
    request: Request,
    request_id: str,
    agent: SpendRequester,
    db: DbSession,
    now: Now,
    settings: Settings,
) -> ApiJSON:
    """Ask the person to approve: ``{id, approval_link}`` plus every spend-request field
    (including ``approval_url``), as the official client expects (contract §7.1)."""
    spend = spend_service.request_approval(
        db,
        user_id=agent.user_id,
        grant_id=agent.grant_id,
        request_id=request_id,
        now=now,
        limits=settings.limits,
        issuing=issuing_for(request),
    )
    body = _render(request, db, spend)
    return ApiJSON({"id": spend.id, "approval_link": body["approval_url"], **body})


@router.post("/spend_requests/{request_id}/cancel")
@commits_in_route_thread
def cancel_spend_request(
    request: Request,
    request_id: str,
    agent: SpendRequester,
    db: DbSession,
    now: Now,
    background: BackgroundTasks,
) -> ApiJSON:
    """Withdraw a created, pending or approved request (its credential stops working);
    409 once it is finished."""
    spend = spend_service.cancel(
        db, user_id=agent.user_id, grant_id=agent.grant_id, request_id=request_id, now=now
    )
    stopper = getattr(request.app.state, "card_stopper", None)
    if stopper is not None:
        # An outside issuer's card is canceled there too, once this transaction commits.
        background.add_task(stopper.wake)
    return ApiJSON(_render(request, db, spend))


__all__ = ["approval_url", "iso", "router", "spend_request_json"]
