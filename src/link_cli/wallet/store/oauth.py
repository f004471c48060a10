"""Storage side of the OAuth device grant (RFC 8628) and of the tokens it yields.

Every code and token is stored only as its SHA-256; lookups go by hash. State changes that
two processes could race (approving, collecting tokens, rotating a refresh token) are single
conditional UPDATEs whose row count decides the winner.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from ..domain import oauth as rules
from ..domain.errors import OAuthError
from ..domain.manage import LAST_USED_RESOLUTION
from .changes import device_key, mark_changed
from .crypto import sha256_hex
from .models.accounts import DeviceAuthorization, OAuthGrant, OAuthToken
from .models.base import new_id

PENDING, APPROVED, DENIED, CONSUMED = "pending", "approved", "denied", "consumed"
# An expired authorization is kept this long (polls get expired_token), then purged.
PURGE_AFTER_EXPIRY = timedelta(hours=1)
PURGE_BATCH = 100


@dataclass(frozen=True)
class DeviceStart:
    """What ``POST /device/code`` hands back (raw codes exist only here)."""

    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class AccessContext:
    """Who an access token acts for and what it may do."""

    user_id: str
    scopes: frozenset[str]
    token_id: str
    grant_id: str
    last_used_at: datetime | None = None


def start_device_authorization(
    session: Session,
    *,
    client_id: str,
    scopes: list[str],
    connection_label: str | None,
    client_hint: str | None,
    authorization_details: list[Any],
    now: datetime,
) -> DeviceStart:
    """Create a pending authorization with a fresh device code and phrase."""
    device_code = "lwdc_" + secrets.token_urlsafe(32)
    user_code = _unused_phrase(session, now)
    session.add(
        DeviceAuthorization(
            id=new_id("dva"),
            device_code_hash=sha256_hex(device_code),
            user_code_hash=sha256_hex(user_code),
            client_id=client_id,
            requested_scope=" ".join(scopes),
            connection_label=connection_label,
            client_hint=client_hint,
            authorization_details=json.dumps(authorization_details)
            if authorization_details
            else None,
            status=PENDING,
            interval=rules.POLL_INTERVAL_SECONDS,
            expires_at=now + timedelta(seconds=rules.DEVICE_CODE_TTL_SECONDS),
            created_at=now,
        )
    )
    session.flush()
    return DeviceStart(
        device_code=device_code,
        user_code=user_code,
        expires_in=rules.DEVICE_CODE_TTL_SECONDS,
        interval=rules.POLL_INTERVAL_SECONDS,
    )


def purge_expired_device_authorizations(session: Session, *, now: datetime) -> int:
    """Delete up to :data:`PURGE_BATCH` authorizations expired for over an hour; the count.

    Grants and tokens live in their own tables, so nothing an agent holds goes with them.
    SKIP LOCKED (PostgreSQL): a concurrent purge or poll is never waited on.
    """
    stale = (
        select(DeviceAuthorization.id)
        .where(DeviceAuthorization.expires_at <= now - PURGE_AFTER_EXPIRY)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(delete(DeviceAuthorization).where(DeviceAuthorization.id.in_(stale)))
    return int(result.rowcount or 0)


def _unused_phrase(session: Session, now: datetime) -> str:
    # A phrase must point at one live authorization; collisions are rare, retry a few times.
    for _ in range(20):
        phrase = rules.new_user_code()
        if find_pending_by_phrase(session, phrase, now=now) is None:
            return phrase
    raise OAuthError("could not allocate a user code, try again", code="temporarily_unavailable")


def find_pending_by_phrase(
    session: Session, phrase: str, *, now: datetime
) -> DeviceAuthorization | None:
    """The live, undecided authorization whose phrase is ``phrase`` (normalized), or None."""
    normalized = rules.normalize_user_code(phrase)
    if normalized is None:
        return None
    query = (
        select(DeviceAuthorization)
        .where(
            DeviceAuthorization.user_code_hash == sha256_hex(normalized),
            DeviceAuthorization.status == PENDING,
            DeviceAuthorization.expires_at > now,
        )
        .order_by(DeviceAuthorization.created_at.desc())
    )
    return session.scalars(query).first()


def decide(
    session: Session,
    authorization: DeviceAuthorization,
    *,
    user_id: str,
    approve: bool,
    granted_scopes: list[str],
    now: datetime,
) -> bool:
    """Record the person's answer; False when it was already decided or expired meanwhile."""
    values: dict[str, Any] = {"status": APPROVED if approve else DENIED, "user_id": user_id}
    if approve:
        values["granted_scope"] = " ".join(granted_scopes)
    result = session.execute(
        update(DeviceAuthorization)
        .where(
            DeviceAuthorization.id == authorization.id,
            DeviceAuthorization.status == PENDING,
            DeviceAuthorization.expires_at > now,
        )
        .values(**values)
    )
    if result.rowcount != 1:
        return False
    mark_changed(session, device_key(authorization.device_code_hash))
    return True


def peek_device_authorization(
    session: Session, device_code_hash: str
) -> DeviceAuthorization | None:
    """The device login with this code hash, read only (a long-poll's look before waiting)."""
    return session.scalar(
        select(DeviceAuthorization).where(DeviceAuthorization.device_code_hash == device_code_hash)
    )


def poll_device_token(
    session: Session, *, device_code: str, client_id: str, now: datetime
) -> dict[str, Any]:
    """Answer one poll of ``/device/token``: tokens once approved, else an RFC 8628 error."""
    record = session.scalar(
        select(DeviceAuthorization).where(
            DeviceAuthorization.device_code_hash == sha256_hex(device_code)
        )
    )
    if record is None or record.client_id != client_id or record.status == CONSUMED:
        raise OAuthError("the device code is unknown or was already used", code="invalid_grant")
    if record.expires_at <= now:
        raise OAuthError("the device code has expired", code="expired_token")
    if record.status == DENIED:
        raise OAuthError("the person denied the request", code="access_denied")
    if record.status == APPROVED:
        claimed = session.execute(
            update(DeviceAuthorization)
            .where(DeviceAuthorization.id == record.id, DeviceAuthorization.status == APPROVED)
            .values(status=CONSUMED, last_polled_at=now)
        )
        if claimed.rowcount != 1:
            raise OAuthError("the device code was already used", code="invalid_grant")
        assert record.user_id is not None
        grant = OAuthGrant(
            id=new_id("grt"),
            user_id=record.user_id,
            client_id=record.client_id,
            scope=record.granted_scope or "",
            authorization_details=record.authorization_details,
            connection_label=record.connection_label,
            created_at=now,
        )
        session.add(grant)
        session.flush()
        return _issue_token_pair(session, grant, now=now)
    # Still pending. RFC 8628 §3.5: polling faster than the interval earns slow_down and a
    # longer interval; a well-behaved poll earns authorization_pending.
    too_fast = (
        record.last_polled_at is not None
        and (now - record.last_polled_at).total_seconds()
        < record.interval - rules.POLL_LEEWAY_SECONDS
    )
    record.last_polled_at = now
    if too_fast:
        record.interval = min(
            record.interval + rules.SLOW_DOWN_STEP_SECONDS, rules.MAX_POLL_INTERVAL_SECONDS
        )
        session.flush()
        raise OAuthError(
            f"polling too fast; wait {record.interval} seconds between requests",
            code="slow_down",
        )
    session.flush()
    raise OAuthError("the person has not answered yet", code="authorization_pending")


def _token_and_grant(
    session: Session, raw_token: str, *, kind: str
) -> tuple[OAuthToken, OAuthGrant] | None:
    """The stored token of ``kind`` whose hash matches ``raw_token``, with its grant."""
    found = session.execute(
        select(OAuthToken, OAuthGrant)
        .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
        .where(OAuthToken.token_hash == sha256_hex(raw_token), OAuthToken.kind == kind)
    ).first()
    return None if found is None else (found[0], found[1])


def refresh_tokens(
    session: Session, *, refresh_token: str, client_id: str, now: datetime
) -> dict[str, Any]:
    """Rotate a refresh token: the old one dies; reusing a spent one revokes the whole grant."""
    found = _token_and_grant(session, refresh_token, kind="refresh")
    if found is None:
        raise OAuthError("the refresh token is not valid", code="invalid_grant")
    token, grant = found
    if grant.client_id != client_id:
        raise OAuthError("the refresh token is not valid", code="invalid_grant")
    if grant.revoked_at is not None or token.expires_at <= now:
        raise OAuthError("the refresh token is no longer valid", code="invalid_grant")
    spent = session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == token.id, OAuthToken.rotated_at.is_(None))
        .values(rotated_at=now)
    )
    if spent.rowcount != 1:
        # Replay of a rotated token: someone holds a stolen copy. Kill the family.
        revoke_grant(session, grant.id, now=now)
        raise OAuthError(
            "the refresh token was already used; the session has been revoked",
            code="invalid_grant",
        )
    touch_grant(session, grant.id, now=now)
    return _issue_token_pair(session, grant, now=now)


def revoke_token(session: Session, *, token: str, now: datetime) -> None:
    """RFC 7009: revoke the grant behind an access or refresh token; unknown tokens are fine."""
    record = session.scalar(select(OAuthToken).where(OAuthToken.token_hash == sha256_hex(token)))
    if record is not None:
        revoke_grant(session, record.grant_id, now=now)


def revoke_grant(session: Session, grant_id: str, *, now: datetime) -> None:
    """Revoke a grant: every access and refresh token of it stops working at once."""
    session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.id == grant_id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# Every agent request runs this lookup: built once, with only the columns it needs.
_ACCESS_TOKEN_LOOKUP = (
    select(
        OAuthToken.id,
        OAuthToken.expires_at,
        OAuthGrant.id,
        OAuthGrant.user_id,
        OAuthGrant.scope,
        OAuthGrant.revoked_at,
        OAuthGrant.last_used_at,
    )
    .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
    .where(OAuthToken.token_hash == bindparam("token_hash"), OAuthToken.kind == "access")
)


def authenticate_access_token(
    connection: Connection | Session, token: str, *, now: datetime
) -> AccessContext | None:
    """The context of a live access token, or None (unknown, expired or revoked)."""
    found = connection.execute(_ACCESS_TOKEN_LOOKUP, {"token_hash": sha256_hex(token)}).first()
    if found is None:
        return None
    token_id, expires_at, grant_id, user_id, scope, revoked_at, last_used_at = found
    if revoked_at is not None or expires_at <= now:
        return None
    return AccessContext(
        user_id=user_id,
        scopes=frozenset(scope.split()),
        token_id=token_id,
        grant_id=grant_id,
        last_used_at=last_used_at,
    )


def touch_grant(session: Session, grant_id: str, *, now: datetime) -> None:
    """Record a use of the connection, unless one was recorded within the last minute.

    Conditional, so concurrent requests write it once; callers skip it entirely when the
    value they read is fresh (``domain.manage.needs_touch``).
    """
    session.execute(
        update(OAuthGrant)
        .where(
            OAuthGrant.id == grant_id,
            or_(
                OAuthGrant.last_used_at.is_(None),
                OAuthGrant.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )


def _issue_token_pair(session: Session, grant: OAuthGrant, *, now: datetime) -> dict[str, Any]:
    access = "lwat_" + secrets.token_urlsafe(32)
    refresh = "lwrt_" + secrets.token_urlsafe(32)
    for kind, raw, ttl in (
        ("access", access, rules.ACCESS_TOKEN_TTL_SECONDS),
        ("refresh", refresh, rules.REFRESH_TOKEN_TTL_SECONDS),
    ):
        session.add(
            OAuthToken(
                id=new_id("tok"),
                grant_id=grant.id,
                kind=kind,
                token_hash=sha256_hex(raw),
                expires_at=now + timedelta(seconds=ttl),
                created_at=now,
            )
        )
    session.flush()
    body: dict[str, Any] = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": rules.ACCESS_TOKEN_TTL_SECONDS,
        "scope": grant.scope,
    }
    if grant.authorization_details:
        body["authorization_details"] = json.loads(grant.authorization_details)
    return body


def grant_of_user(session: Session, user_id: str, grant_id: str) -> OAuthGrant | None:
    """The agent connection ``grant_id`` if it is ``user_id``'s (revoked or not), else None."""
    grant = session.get(OAuthGrant, grant_id)
    return grant if grant is not None and grant.user_id == user_id else None
