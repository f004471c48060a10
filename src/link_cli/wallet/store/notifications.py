"""Repository of notification channels and of the delivery outbox.

:func:`enqueue` runs inside the transaction that moves a spend request to
``pending_approval``, so the event and the request's new state commit (or roll back)
together. :func:`claim_due` takes one due row with ``UPDATE … WHERE claimed_until is free``
(compare-and-set): of several workers, in one process or many, exactly one wins each row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.orm import Session

from .models.accounts import OAuthGrant
from .models.base import new_id
from .models.notify import NotificationChannel, NotificationOutbox
from .models.spend import SpendRequestRow

__all__ = [
    "CHANNEL_KINDS",
    "Claimed",
    "add_channel",
    "channels_for_user",
    "claim_due",
    "clear_wakeup",
    "enqueue",
    "new_channel_id",
    "record_result",
    "remove_channel",
    "set_wakeup",
]

CHANNEL_KINDS = ("email", "webpush", "webhook")
PENDING_APPROVAL_EVENT = "spend_request.pending_approval"
AUTO_APPROVED_EVENT = "spend_request.auto_approved"
CLAIM_SECONDS = 120
"""A claim older than this is taken to belong to a crashed worker, and the row is due again."""
MAX_CHANNELS_PER_PERSON = 20

_wakeup: Callable[[], None] | None = None
_wakeup_lock = threading.Lock()


def set_wakeup(callback: Callable[[], None] | None) -> None:
    """The callback run after a commit that enqueued deliveries (the local worker's)."""
    global _wakeup
    with _wakeup_lock:
        _wakeup = callback


def clear_wakeup(callback: Callable[[], None]) -> None:
    """Forget ``callback`` if it is the current one (another app's worker may have replaced it)."""
    global _wakeup
    with _wakeup_lock:
        if _wakeup == callback:
            _wakeup = None


def _wake_after_commit(session: Session) -> None:
    callback = _wakeup
    if callback is not None:
        event.listen(session, "after_commit", lambda _s: callback(), once=True)


def new_channel_id() -> str:
    """A fresh channel id (known before the row exists, to bind an encrypted secret to it)."""
    return new_id("nch")


def channels_for_user(session: Session, user_id: str) -> Sequence[NotificationChannel]:
    """The person's channels, oldest first."""
    rows = session.scalars(
        select(NotificationChannel)
        .where(NotificationChannel.user_id == user_id)
        .order_by(NotificationChannel.created_at, NotificationChannel.id)
    )
    return rows.all()


def add_channel(
    session: Session,
    *,
    user_id: str,
    kind: str,
    target: str,
    data: dict[str, str],
    now: datetime,
    label: str | None = None,
    replace_kind: bool = False,
    channel_id: str | None = None,
) -> NotificationChannel:
    """Add a channel; ``replace_kind`` first removes the person's channels of that kind, and
    a push endpoint already subscribed is replaced (a browser re-subscribing)."""
    if kind not in CHANNEL_KINDS:
        raise ValueError(f"unknown channel kind {kind!r}")
    scope = [NotificationChannel.user_id == user_id, NotificationChannel.kind == kind]
    if replace_kind:
        session.execute(delete(NotificationChannel).where(*scope))
    elif kind == "webpush":
        session.execute(
            delete(NotificationChannel).where(*scope, NotificationChannel.target == target)
        )
    channel = NotificationChannel(
        id=channel_id or new_channel_id(),
        user_id=user_id,
        kind=kind,
        target=target,
        label=label,
        data=data,
        created_at=now,
        failures=0,
    )
    session.add(channel)
    session.flush()
    return channel


def count_channels(session: Session, user_id: str) -> int:
    """How many channels the person has (bounded by :data:`MAX_CHANNELS_PER_PERSON`)."""
    return len(channels_for_user(session, user_id))


def remove_channel(session: Session, *, user_id: str, channel_id: str) -> bool:
    """Remove one of the person's channels; False when it is not theirs or gone."""
    result = session.execute(
        delete(NotificationChannel).where(
            NotificationChannel.id == channel_id, NotificationChannel.user_id == user_id
        )
    )
    return bool(result.rowcount)


def enqueue(
    session: Session,
    *,
    user_id: str,
    spend_request_id: str,
    now: datetime,
    event: str = PENDING_APPROVAL_EVENT,
    summary: str | None = None,
) -> int:
    """One outbox row per channel of the person; returns how many. ``summary`` is the line
    an auto-approval notice says."""
    count = 0
    for channel in channels_for_user(session, user_id):
        session.add(
            NotificationOutbox(
                id=new_id("nob"),
                channel_id=channel.id,
                spend_request_id=spend_request_id,
                event=event,
                summary=summary,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    if count:
        session.flush()
        _wake_after_commit(session)
    return count


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery with everything the sender needs (read in the claiming transaction)."""

    outbox_id: str
    attempts: int
    event: str
    channel_id: str
    kind: str
    target: str
    data: dict[str, str]
    spend_request_id: str
    status: str
    amount: int
    currency: str
    merchant_name: str | None
    merchant_url: str | None
    context: str
    credential_type: str
    agent_name: str | None
    created_at: datetime
    summary: str | None = None


def claim_due(session: Session, *, now: datetime) -> Claimed | None:
    """Claim the oldest due row (``attempts`` counts this attempt), or None."""
    free = or_(NotificationOutbox.claimed_until.is_(None), NotificationOutbox.claimed_until < now)
    candidates = session.scalars(
        select(NotificationOutbox.id)
        .where(NotificationOutbox.status == "pending", NotificationOutbox.next_attempt_at <= now)
        .where(free)
        .order_by(NotificationOutbox.next_attempt_at)
        .limit(5)
    ).all()
    for outbox_id in candidates:
        won = session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == outbox_id, NotificationOutbox.status == "pending")
            .where(free)
            .values(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=NotificationOutbox.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if won.rowcount:
            return _claimed(session, outbox_id)
    return None


def _claimed(session: Session, outbox_id: str) -> Claimed | None:
    row = session.execute(
        select(NotificationOutbox, NotificationChannel, SpendRequestRow)
        .join(NotificationChannel, NotificationChannel.id == NotificationOutbox.channel_id)
        .join(SpendRequestRow, SpendRequestRow.id == NotificationOutbox.spend_request_id)
        .where(NotificationOutbox.id == outbox_id)
    ).one_or_none()
    if row is None:
        return None
    outbox, channel, request = row
    agent_name = None
    if request.grant_id:
        grant = session.get(OAuthGrant, request.grant_id)
        if grant is not None:
            agent_name = grant.connection_label or grant.client_id
    return Claimed(
        outbox_id=outbox.id,
        attempts=outbox.attempts,
        event=outbox.event,
        channel_id=channel.id,
        kind=channel.kind,
        target=channel.target,
        data=dict(channel.data or {}),
        spend_request_id=request.id,
        status=request.status,
        amount=request.amount,
        currency=request.currency,
        merchant_name=request.merchant_name,
        merchant_url=request.merchant_url,
        context=request.context,
        credential_type=request.credential_type,
        agent_name=agent_name,
        created_at=outbox.created_at,
        summary=outbox.summary,
    )


def record_result(
    session: Session,
    *,
    claimed: Claimed,
    error: str | None,
    now: datetime,
    retry_at: datetime | None,
) -> None:
    """Write one attempt's outcome on the row and on its channel.

    ``error`` None is a success; otherwise the row is due again at ``retry_at``, or ends
    ``failed`` when ``retry_at`` is None (attempts exhausted or a permanent refusal)."""
    if error is None:
        values = {"status": "sent", "claimed_until": None, "last_error": None}
    elif retry_at is not None:
        values = {"next_attempt_at": retry_at, "claimed_until": None, "last_error": error}
    else:
        values = {"status": "failed", "claimed_until": None, "last_error": error}
    session.execute(
        update(NotificationOutbox)
        .where(NotificationOutbox.id == claimed.outbox_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    channel_values: dict[str, object] = {"last_attempt_at": now}
    if error is None:
        channel_values |= {"last_success_at": now, "last_error": None, "failures": 0}
    else:
        channel_values |= {"last_error": error, "failures": NotificationChannel.failures + 1}
    session.execute(
        update(NotificationChannel)
        .where(NotificationChannel.id == claimed.channel_id)
        .values(**channel_values)
        .execution_options(synchronize_session=False)
    )
