"""Spend and rate limits on spend requests (contract §11.1), decided over a snapshot.

The repository hands over the person's recent requests (everything created in the last
60 days, already lazily expired at ``now``); these functions decide, without I/O, whether
one more request may be created or approved. They raise :class:`LimitExceeded` (HTTP 429)
naming the limit and, where a wait would help, ``retry_after`` seconds.

Rules, all per person:

* duplicate — an *active* request with the same merchant (name and URL, or network id),
  amount, currency, credential type and context → ``spend_request_rate_limited`` with
  the existing request (:class:`DuplicateSpendRequest`);
* ``hourly_creations`` / ``creations_60d`` — requests created in the last hour / 60 days
  (test requests included: they cost the server the same) → ``spend_request_rate_limited``;
* ``max_active`` — created + pending_approval + approved → ``too_many_active_spend_requests``;
* ``max_approved`` — approved at the same time → ``too_many_approved_spend_requests``;
* ``daily_spend`` / ``monthly_spend`` — amounts of approved and succeeded requests approved
  in the last 24 hours / rolling 30 days → ``spend_limit_exceeded``. Test-mode requests never
  count and are never refused for spend. Spend is per currency: only requests in the same
  currency are summed, and each limit applies to each currency in that currency's minor
  units (amounts in different currencies are never added together).

The per-request cap (``max_amount``) is a validation rule (``validation.parse_create_body``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import RateLimited
from .spend_request import (
    CredentialType,
    SpendRequest,
    SpendRequestDraft,
    Status,
    deadline,
)

__all__ = [
    "CREATION_WINDOW",
    "DAY",
    "HOUR",
    "MONTH",
    "DuplicateSpendRequest",
    "LimitExceeded",
    "LimitSettings",
    "check_approval",
    "check_approve",
    "check_create",
    "find_duplicate",
]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MONTH = timedelta(days=30)
CREATION_WINDOW = timedelta(days=60)
"""How far back the snapshot given to these functions must reach."""


@dataclass(frozen=True)
class LimitSettings:
    """Operator-tunable limits (contract §11.1); ``LINK_WALLET_LIMIT_<NAME>`` overrides each.

    Amounts are minor currency units; durations are seconds.
    """

    approval_window_seconds: int = 600
    credential_validity_seconds: int = 43200
    max_amount: int = 50000
    daily_spend: int = 50000
    monthly_spend: int = 2000000
    max_active: int = 30
    max_approved: int = 10
    hourly_creations: int = 50
    creations_60d: int = 200


_SPENDING = frozenset({Status.APPROVED, Status.SUCCEEDED})


class LimitExceeded(RateLimited):
    """A limit refuses the request; ``extra`` names it and may carry ``retry_after``."""

    def __init__(
        self, message: str, *, code: str, limit: str, retry_after: int | None = None
    ) -> None:
        extra: dict[str, object] = {"limit": limit}
        headers: dict[str, str] = {}
        if retry_after is not None:
            extra["retry_after"] = retry_after
            headers["Retry-After"] = str(retry_after)
        super().__init__(message, code=code, extra=extra, headers=headers)
        self.limit = limit
        self.retry_after = retry_after


class DuplicateSpendRequest(LimitExceeded):
    """An identical request is still active. The API adds ``duplicate_spend_request``."""

    def __init__(self, existing: SpendRequest, *, retry_after: int | None) -> None:
        # The id and status travel in ``duplicate_spend_request``; clients (the official one
        # included) name them in their own sentence, so the message does not repeat them.
        super().__init__(
            "This spend request repeats one that is still active.",
            code="spend_request_rate_limited",
            limit="duplicate",
            retry_after=retry_after,
        )
        self.existing = existing


def _seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds to wait, rounded up, at least one."""
    return max(1, math.ceil((moment - now).total_seconds()))


def find_duplicate(draft: SpendRequestDraft, recent: Iterable[SpendRequest]) -> SpendRequest | None:
    """The active request that ``draft`` repeats, if any (the oldest one)."""
    for request in sorted(recent, key=lambda r: r.created_at):
        if not request.is_active:
            continue
        same_seller = (
            request.network_id == draft.network_id
            if draft.credential_type is CredentialType.SHARED_PAYMENT_TOKEN
            else (request.merchant_name, request.merchant_url, request.merchant_account_id)
            == (draft.merchant_name, draft.merchant_url, draft.merchant_account_id)
        )
        if (
            same_seller
            and request.credential_type is draft.credential_type
            and request.amount == draft.amount
            and request.currency == draft.currency
            and request.context == draft.context
        ):
            return request
    return None


def _spend_retry_after(
    spends: Sequence[SpendRequest], amount: int, limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until enough past spend leaves the window for ``amount`` to fit."""
    if amount > limit:
        return None
    remaining = sum(r.amount for r in spends)
    for request in spends:  # oldest approval first
        remaining -= request.amount
        if remaining + amount <= limit:
            assert request.approved_at is not None
            return _seconds_until(request.approved_at + window, now)
    return None


def _check_spend(
    request_amount: int,
    currency: str,
    recent: Sequence[SpendRequest],
    limits: LimitSettings,
    now: datetime,
    exclude_id: str | None = None,
) -> None:
    for name, limit, window, label in (
        ("daily_spend", limits.daily_spend, DAY, "daily"),
        ("monthly_spend", limits.monthly_spend, MONTH, "30-day"),
    ):
        since = now - window
        spends = sorted(
            (
                r
                for r in recent
                if r.id != exclude_id
                and r.currency == currency
                and r.status in _SPENDING
                and not r.test
                and r.approved_at is not None
                and r.approved_at > since
            ),
            key=lambda r: r.approved_at or now,
        )
        spent = sum(r.amount for r in spends)
        if spent + request_amount > limit:
            raise LimitExceeded(
                f"This request would exceed the {label} spend limit: {spent} already "
                f"approved + {request_amount} requested > {limit} (minor units of "
                f"{currency.upper()}).",
                code="spend_limit_exceeded",
                limit=name,
                retry_after=_spend_retry_after(spends, request_amount, limit, window, now),
            )


def _check_creation_rate(
    recent: Sequence[SpendRequest], limits: LimitSettings, now: datetime
) -> None:
    for name, limit, window, label in (
        ("hourly_creations", limits.hourly_creations, HOUR, "per hour"),
        ("creations_60d", limits.creations_60d, CREATION_WINDOW, "per 60 days"),
    ):
        created = sorted(r.created_at for r in recent if r.created_at > now - window)
        if len(created) >= limit:
            # The oldest creations that must leave the window before one more fits.
            frees_at = created[len(created) - limit] + window if limit > 0 else None
            raise LimitExceeded(
                f"Too many spend requests created: at most {limit} {label}.",
                code="spend_request_rate_limited",
                limit=name,
                retry_after=_seconds_until(frees_at, now) if frees_at else None,
            )


def _earliest_deadline(requests: Iterable[SpendRequest], now: datetime) -> int | None:
    deadlines = [d for d in (deadline(r) for r in requests) if d is not None]
    return _seconds_until(min(deadlines), now) if deadlines else None


def check_create(
    draft: SpendRequestDraft,
    recent: Sequence[SpendRequest],
    limits: LimitSettings,
    now: datetime,
    *,
    grant_id: str | None = None,
) -> None:
    """Refuse a new request that repeats an active one or breaks a limit.

    ``recent``: the person's requests created within :data:`CREATION_WINDOW` of ``now``,
    with lazy expiry already applied. Checks run duplicate first, so an agent that retries
    learns about the request it already made. Only requests of the same ``grant_id`` count
    as duplicates: the answer shows the existing request, which other agents must not see.
    The other limits count all of the person's requests.
    """
    duplicate = find_duplicate(draft, [r for r in recent if r.grant_id == grant_id])
    if duplicate is not None:
        due = deadline(duplicate)
        raise DuplicateSpendRequest(
            duplicate, retry_after=_seconds_until(due, now) if due else None
        )
    _check_creation_rate(recent, limits, now)
    active = [r for r in recent if r.is_active]
    if len(active) >= limits.max_active:
        raise LimitExceeded(
            f"Too many active spend requests: at most {limits.max_active} may be created, "
            "pending approval or approved at once. Cancel one or wait for it to finish.",
            code="too_many_active_spend_requests",
            limit="max_active",
            retry_after=_earliest_deadline(active, now),
        )
    if not draft.test:
        _check_spend(draft.amount, draft.currency, recent, limits, now)


def check_approve(
    request: SpendRequest,
    recent: Sequence[SpendRequest],
    limits: LimitSettings,
    now: datetime,
) -> None:
    """Refuse approving ``request`` when too many are approved or spend would exceed a cap.

    This is the authoritative spend check: amounts count from the moment of approval.
    """
    check_approval(
        request.amount,
        request.currency,
        test=request.test,
        recent=recent,
        limits=limits,
        now=now,
        exclude_id=request.id,
    )


def check_approval(
    amount: int,
    currency: str,
    *,
    test: bool,
    recent: Sequence[SpendRequest],
    limits: LimitSettings,
    now: datetime,
    exclude_id: str | None = None,
) -> None:
    """:func:`check_approve` for a request described by its amount, currency and mode (a
    policy's dry run has no request); ``exclude_id`` is the request being approved."""
    approved = [r for r in recent if r.status is Status.APPROVED and r.id != exclude_id]
    if len(approved) >= limits.max_approved:
        raise LimitExceeded(
            f"Too many approved spend requests: at most {limits.max_approved} at once. "
            "Use or cancel one first.",
            code="too_many_approved_spend_requests",
            limit="max_approved",
            retry_after=_earliest_deadline(approved, now),
        )
    if not test:
        _check_spend(amount, currency, recent, limits, now, exclude_id=exclude_id)
