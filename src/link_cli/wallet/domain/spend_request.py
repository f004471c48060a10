"""The spend-request state machine (contract §4.5), as plain functions over plain data.

A spend request is born ``created`` and moves only along the edges below; every verb takes
the current request and ``now`` and returns the next request, or raises
:class:`InvalidTransition` (HTTP 409). Nothing here reads a clock, a database or the
network: the repository loads a :class:`SpendRequest`, calls a verb and stores the result.

Edges (verb: from → to)::

    request_approval  created → pending_approval   (pending_approval → itself: idempotent)
    approve           created | pending_approval → approved
    deny              pending_approval → denied
    expire            created | pending_approval | approved | requires_action → expired
    cancel            created | pending_approval | approved → canceled
    succeed           approved → succeeded
    fail              approved | requires_action → failed
    require_action    created | pending_approval | approved → requires_action
    resume            requires_action (auto_resume, after approval) → approved

``denied``, ``expired``, ``canceled``, ``succeeded`` and ``failed`` are terminal.

Expiry is lazy: a request whose deadline passed is *treated* as expired by every verb and
turned into ``expired`` by :func:`expire_if_due`, which readers call with ``now``. The
deadline is the approval window (``approval_expires_at``: 10 minutes after approval was
requested, or after creation while still ``created``), capped by the request's lifetime
(``expires_at``); once approved, it is the credential's ``valid_until``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import Conflict, InvalidRequest

__all__ = [
    "ACTIVE_STATUSES",
    "LINK_PAY_TOKEN",
    "LINK_PAY_TOKEN_LIFETIME",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "CredentialType",
    "InvalidTransition",
    "SpendRequest",
    "SpendRequestChanges",
    "SpendRequestDraft",
    "Status",
    "approve",
    "cancel",
    "check_totals_match",
    "deadline",
    "deny",
    "expire",
    "expire_if_due",
    "fail",
    "is_due",
    "new_spend_request",
    "request_approval",
    "require_action",
    "resume",
    "succeed",
    "update",
]


class Status(StrEnum):
    """Every status a spend request can have (contract §4.5)."""

    CREATED = "created"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"


class CredentialType(StrEnum):
    """What the person's approval turns into."""

    CARD = "card"
    SHARED_PAYMENT_TOKEN = "shared_payment_token"


LINK_PAY_TOKEN = "link_pay_token"
"""The one ``execution_method``: a card request paid by a token bound to one merchant account."""

LINK_PAY_TOKEN_LIFETIME = timedelta(minutes=30)
"""A Link Pay Token lives at most this long after approval (contract §11.1), and never past
the request's own ``expires_at``."""

TERMINAL_STATUSES = frozenset(
    {Status.DENIED, Status.EXPIRED, Status.CANCELED, Status.SUCCEEDED, Status.FAILED}
)
# "Active" as `spend-request list` means it (contract §3.10).
ACTIVE_STATUSES = frozenset({Status.CREATED, Status.PENDING_APPROVAL, Status.APPROVED})

_S = Status
TRANSITIONS: Mapping[str, Mapping[Status, Status]] = {
    "request_approval": {_S.CREATED: _S.PENDING_APPROVAL, _S.PENDING_APPROVAL: _S.PENDING_APPROVAL},
    "approve": {_S.CREATED: _S.APPROVED, _S.PENDING_APPROVAL: _S.APPROVED},
    "deny": {_S.PENDING_APPROVAL: _S.DENIED},
    "expire": {
        _S.CREATED: _S.EXPIRED,
        _S.PENDING_APPROVAL: _S.EXPIRED,
        _S.APPROVED: _S.EXPIRED,
        _S.REQUIRES_ACTION: _S.EXPIRED,
    },
    "cancel": {_S.CREATED: _S.CANCELED, _S.PENDING_APPROVAL: _S.CANCELED, _S.APPROVED: _S.CANCELED},
    "succeed": {_S.APPROVED: _S.SUCCEEDED},
    "fail": {_S.APPROVED: _S.FAILED, _S.REQUIRES_ACTION: _S.FAILED},
    "require_action": {
        _S.CREATED: _S.REQUIRES_ACTION,
        _S.PENDING_APPROVAL: _S.REQUIRES_ACTION,
        _S.APPROVED: _S.REQUIRES_ACTION,
    },
    "resume": {_S.REQUIRES_ACTION: _S.APPROVED},
}
"""verb → {from status: to status}. A status missing from a verb's map refuses that verb."""


class InvalidTransition(Conflict):
    """The verb is not allowed from the request's current status (HTTP 409)."""

    default_code = "spend_request_invalid_state"

    def __init__(self, message: str, *, status: Status) -> None:
        super().__init__(message, extra={"spend_request_status": str(status)})
        self.current_status = status


@dataclass(frozen=True, slots=True)
class SpendRequest:
    """One spend request as the rules see it. Amounts in minor units, times aware UTC."""

    id: str
    user_id: str
    status: Status
    credential_type: CredentialType
    amount: int
    currency: str
    context: str
    payment_method_id: str
    created_at: datetime
    updated_at: datetime
    approval_expires_at: datetime
    """End of the approval window; while created/pending_approval the request expires here."""
    expires_at: datetime
    """End of the request's life; an issued credential is valid until this moment."""
    merchant_name: str | None = None
    merchant_url: str | None = None
    network_id: str | None = None
    line_items: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    test: bool = False
    approval_details: dict[str, Any] | None = None
    approval_requested_at: datetime | None = None
    approved_at: datetime | None = None
    valid_until: datetime | None = None
    status_details: dict[str, Any] | None = None
    payment_status_details: dict[str, Any] | None = None
    link_transaction_id: str | None = None
    grant_id: str | None = None
    """The agent connection (OAuth grant) that created it; only that grant's tokens see it.
    None for requests stored before grants were recorded: no agent sees those."""
    revision: int = 1
    """Bumped by the store on every saved change; a write applies only to the revision it
    was decided on (compare-and-set), and the approval page carries the one it showed."""
    execution_method: str | None = None
    """:data:`LINK_PAY_TOKEN` or None (a plain card or SPT request)."""
    merchant_account_id: str | None = None
    """The registered merchant (``acct_…``) a Link Pay Token request pays; only it redeems."""

    @property
    def is_link_pay_token(self) -> bool:
        """True for a Link Pay Token request (contract §11.4)."""
        return self.execution_method == LINK_PAY_TOKEN

    @property
    def is_terminal(self) -> bool:
        """True once the request can never change again."""
        return self.status in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        """True for created, pending_approval and approved (what `list` shows by default)."""
        return self.status in ACTIVE_STATUSES


_ARTICLE_VERBS = {
    "request_approval": "request approval for",
    "approve": "approve",
    "deny": "deny",
    "expire": "expire",
    "cancel": "cancel",
    "succeed": "mark as succeeded",
    "fail": "mark as failed",
    "require_action": "require action on",
    "resume": "resume",
}


def deadline(request: SpendRequest) -> datetime | None:
    """When the request expires if nothing else happens; None once terminal."""
    if request.is_terminal:
        return None
    if request.status in (Status.CREATED, Status.PENDING_APPROVAL):
        return min(request.approval_expires_at, request.expires_at)
    return request.valid_until or request.expires_at


def is_due(request: SpendRequest, now: datetime) -> bool:
    """True when the request's deadline has passed at ``now``."""
    due = deadline(request)
    return due is not None and now >= due


def _move(request: SpendRequest, verb: str, now: datetime, **changes: Any) -> SpendRequest:
    """Apply ``verb`` if the table allows it from the current status and time."""
    target = TRANSITIONS[verb].get(request.status)
    if target is None:
        raise InvalidTransition(
            f"Cannot {_ARTICLE_VERBS[verb]} a spend request in status {request.status}.",
            status=request.status,
        )
    if verb != "expire" and is_due(request, now):
        raise InvalidTransition(
            f"Cannot {_ARTICLE_VERBS[verb]} this spend request: it has expired.",
            status=Status.EXPIRED,
        )
    return dataclasses.replace(request, status=target, updated_at=now, **changes)


def request_approval(
    request: SpendRequest, *, now: datetime, approval_window: timedelta
) -> SpendRequest:
    """Ask the person to approve: the approval window starts now (capped by the lifetime).

    Asking again while already pending changes nothing, so the agent can safely re-fetch
    the approval link.
    """
    if request.status is Status.PENDING_APPROVAL and not is_due(request, now):
        return request
    return _move(
        request,
        "request_approval",
        now,
        approval_requested_at=now,
        approval_expires_at=min(now + approval_window, request.expires_at),
    )


def approve(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """The person approved: the credential will be valid until the request's lifetime ends,
    a Link Pay Token at most :data:`LINK_PAY_TOKEN_LIFETIME` from now."""
    valid_until = request.expires_at
    if request.is_link_pay_token:
        valid_until = min(valid_until, now + LINK_PAY_TOKEN_LIFETIME)
    return _move(
        request,
        "approve",
        now,
        approved_at=now,
        valid_until=valid_until,
    )


def deny(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """The person declined the request."""
    return _move(request, "deny", now)


def expire(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """Mark the request expired; refused while its deadline is still in the future."""
    if not request.is_terminal and not is_due(request, now):
        raise InvalidTransition(
            "Cannot expire a spend request before its deadline.", status=request.status
        )
    return _move(request, "expire", now)


def expire_if_due(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """Lazy expiry: the request as it stands at ``now`` (expired if its deadline passed).

    The change takes effect at the deadline itself, so ``updated_at`` records that moment
    rather than the moment someone happened to look.
    """
    due = deadline(request)
    if due is None or now < due:
        return request
    return dataclasses.replace(request, status=Status.EXPIRED, updated_at=due)


def cancel(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """The agent withdrew the request (allowed until it is used or expires)."""
    return _move(request, "cancel", now)


def succeed(
    request: SpendRequest, *, now: datetime, payment_status_details: dict[str, Any]
) -> SpendRequest:
    """The credential was used and the payment went through."""
    return _move(request, "succeed", now, payment_status_details=payment_status_details)


def fail(
    request: SpendRequest, *, now: datetime, payment_status_details: dict[str, Any] | None = None
) -> SpendRequest:
    """The payment attempt failed (or the required action could not be completed)."""
    return _move(request, "fail", now, payment_status_details=payment_status_details)


def require_action(
    request: SpendRequest,
    *,
    now: datetime,
    next_action: dict[str, Any],
    failure_code: str | None = None,
) -> SpendRequest:
    """The person must act before the request can proceed (contract §4.4)."""
    requires_action: dict[str, Any] = {"next_action": next_action}
    if failure_code is not None:
        requires_action["failure_code"] = failure_code
    return _move(
        request, "require_action", now, status_details={"requires_action": requires_action}
    )


def resume(request: SpendRequest, *, now: datetime) -> SpendRequest:
    """An ``auto_resume`` action (3-D Secure) completed: back to approved.

    Any other resolution means the agent must create a new request, so resuming is refused.
    """
    next_action = ((request.status_details or {}).get("requires_action") or {}).get(
        "next_action"
    ) or {}
    if request.status is Status.REQUIRES_ACTION and (
        next_action.get("resolution") != "auto_resume" or request.approved_at is None
    ):
        raise InvalidTransition(
            "Cannot resume this spend request: its required action does not resume "
            "automatically; create a new spend request instead.",
            status=request.status,
        )
    return _move(request, "resume", now, status_details=None)


@dataclass(frozen=True, slots=True)
class SpendRequestDraft:
    """A validated create body (contract §7.3), before it has an id or an owner."""

    credential_type: CredentialType
    amount: int
    currency: str
    context: str
    merchant_name: str | None = None
    merchant_url: str | None = None
    network_id: str | None = None
    payment_method_id: str | None = None
    line_items: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    request_approval: bool = False
    test: bool = False
    approval_details: dict[str, Any] | None = None
    execution_method: str | None = None
    merchant_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class SpendRequestChanges:
    """A validated update body (contract §7.4); ``None`` means "leave as is"."""

    payment_method_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    merchant_url: str | None = None
    network_id: str | None = None
    line_items: list[dict[str, Any]] | None = None
    totals: list[dict[str, Any]] | None = None


def new_spend_request(
    draft: SpendRequestDraft,
    *,
    id: str,
    user_id: str,
    payment_method_id: str,
    now: datetime,
    approval_window: timedelta,
    lifetime: timedelta,
    grant_id: str | None = None,
) -> SpendRequest:
    """A fresh ``created`` request: its approval window and its lifetime start now."""
    expires_at = now + lifetime
    return SpendRequest(
        id=id,
        user_id=user_id,
        status=Status.CREATED,
        credential_type=draft.credential_type,
        amount=draft.amount,
        currency=draft.currency,
        context=draft.context,
        payment_method_id=payment_method_id,
        created_at=now,
        updated_at=now,
        approval_expires_at=min(now + approval_window, expires_at),
        expires_at=expires_at,
        merchant_name=draft.merchant_name,
        merchant_url=draft.merchant_url,
        network_id=draft.network_id,
        line_items=list(draft.line_items),
        totals=list(draft.totals),
        metadata=dict(draft.metadata),
        test=draft.test,
        approval_details=draft.approval_details,
        grant_id=grant_id,
        execution_method=draft.execution_method,
        merchant_account_id=draft.merchant_account_id,
    )


def check_totals_match(amount: int, totals: list[dict[str, Any]]) -> None:
    """Refuse a ``total`` entry that is not the amount charged (422 naming it).

    The approval page shows the totals beside the amount; a "Total" of $1.00 on a $500
    request would show the person one price and charge another.
    """
    for index, total in enumerate(totals):
        if total.get("type") == "total" and total.get("amount") != amount:
            param = f"totals[{index}][amount]"
            raise InvalidRequest(
                f"{param} ({total.get('amount')}) must equal the request's amount ({amount}): "
                "the total shown to the person is the amount charged.",
                code="parameter_invalid",
                status=422,
                extra={"param": param},
            )


_UPDATABLE = frozenset({Status.CREATED, Status.PENDING_APPROVAL})


def update(request: SpendRequest, changes: SpendRequestChanges, *, now: datetime) -> SpendRequest:
    """Apply an agent's update; only allowed before the person has decided.

    Raises :class:`InvalidTransition` after approval (or once expired) and
    :class:`~.errors.InvalidRequest` when a field does not fit the credential type.
    """
    if request.status not in _UPDATABLE:
        raise InvalidTransition(
            f"Cannot update a spend request in status {request.status}; "
            "only created or pending_approval requests can change.",
            status=request.status,
        )
    if is_due(request, now):
        raise InvalidTransition(
            "Cannot update this spend request: it has expired.", status=Status.EXPIRED
        )
    is_spt = request.credential_type is CredentialType.SHARED_PAYMENT_TOKEN
    if is_spt and changes.merchant_url is not None:
        raise InvalidRequest(
            "merchant_url cannot be used when credential_type is shared_payment_token.",
            code="parameter_not_allowed",
            extra={"param": "merchant_url"},
        )
    if request.is_link_pay_token and changes.merchant_url is not None:
        raise InvalidRequest(
            "merchant_url cannot be used when execution_method is link_pay_token; the "
            "merchant is the registered merchant account.",
            code="parameter_not_allowed",
            extra={"param": "merchant_url"},
        )
    if not is_spt and changes.network_id is not None:
        raise InvalidRequest(
            "profile_id can only be used when credential_type is shared_payment_token.",
            code="parameter_not_allowed",
            extra={"param": "profile_id"},
        )
    values = {
        name: value
        for name, value in (
            ("payment_method_id", changes.payment_method_id),
            ("amount", changes.amount),
            ("currency", changes.currency),
            ("merchant_url", changes.merchant_url),
            ("network_id", changes.network_id),
            ("line_items", changes.line_items),
            ("totals", changes.totals),
        )
        if value is not None
    }
    changed = dataclasses.replace(request, updated_at=now, **values)
    check_totals_match(changed.amount, changed.totals)
    return changed
