"""The merchant half: issue HMAC-bound challenges and verify credentials (mpp §1.3, §1.7).

Challenge ids are stateless MACs over every bound parameter::

    id = base64url_nopad(HMAC-SHA256(secret,
           realm | method | intent | request_b64 | expires | digest | [header |] opaque_b64))

`request_b64` is re-canonicalised (JCS) before hashing, as both SDK servers do; `header`
takes a slot only when it names something other than ``Authorization``. `description` is
not bound. A verified charge challenge is marked used in a :class:`ReplayStore`, so one
challenge settles at most once, even across processes sharing the SQLite store.

The secret never leaves this object and is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from link_cli.mpp import _wire
from link_cli.mpp.challenge import Challenge, format_www_authenticate
from link_cli.mpp.credential import Credential, count_payment_credentials, parse_authorization
from link_cli.mpp.errors import MppParseError
from link_cli.mpp.problems import PROBLEM_CONTENT_TYPE, Problem, ProblemType

if TYPE_CHECKING:
    import sqlite3  # imported when a SQLite store first connects

__all__ = [
    "MemoryReplayStore",
    "PaymentProblem",
    "PaymentServer",
    "ReplayStore",
    "SQLiteReplayStore",
    "body_digest",
    "compute_challenge_id",
    "format_expires",
    "payment_required_response",
]

DEFAULT_TTL = timedelta(minutes=5)
# A replay mark outlives its challenge a little, to cover clock skew between servers.
_REPLAY_GRACE_SECONDS = 60.0


def compute_challenge_id(
    secret: bytes,
    *,
    realm: str,
    method: str,
    intent: str,
    request_b64: str,
    expires: str | None = None,
    digest: str | None = None,
    opaque_b64: str | None = None,
    header: str | None = None,
) -> str:
    """The HMAC-bound challenge id of mpp §1.3 (7 slots, 8 with a non-default header)."""
    slots = [realm, method, intent, request_b64, expires or "", digest or ""]
    if header and header.lower() != "authorization":
        slots.append(header)
    slots.append(opaque_b64 or "")
    mac = hmac.new(secret, "|".join(slots).encode("utf-8"), hashlib.sha256).digest()
    return _wire.b64url_encode(mac)


def body_digest(body: bytes) -> str:
    """``sha-256=<standard base64>`` of a request body, the form both SDKs use (mpp §1.7)."""
    return "sha-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def format_expires(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp with milliseconds (``2030-01-01T00:00:00.000Z``)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- replay stores -----------------------------------------------------------------------


class ReplayStore(Protocol):
    """Remembers used challenge ids; `put_if_absent` is the one atomic check-and-mark."""

    def put_if_absent(self, key: str, expires_at: float) -> bool:
        """Mark `key` used until `expires_at` (Unix seconds); False if it already was."""
        ...

    def delete(self, key: str) -> None:
        """Forget `key`, so it can be marked again (a settlement that never happened)."""
        ...


class MemoryReplayStore:
    """A per-process store, bounded; fine for one merchant process and for tests."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._entries: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._clock = clock

    def put_if_absent(self, key: str, expires_at: float) -> bool:
        """See :class:`ReplayStore`. When full, expired marks are dropped first."""
        with self._lock:
            now = self._clock()
            if key in self._entries and self._entries[key] > now:
                return False
            if len(self._entries) >= self._max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v > now}
                if len(self._entries) >= self._max_entries:
                    # Refusing is safe (the payer gets a fresh challenge); forgetting is not.
                    return False
            self._entries[key] = expires_at
            return True

    def delete(self, key: str) -> None:
        """See :class:`ReplayStore`."""
        with self._lock:
            self._entries.pop(key, None)


class SQLiteReplayStore:
    """A store in one SQLite file: ``INSERT OR IGNORE`` settles races between processes."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self._path = str(path)
        self._clock = clock
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS mpp_replay "
                "(key TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def put_if_absent(self, key: str, expires_at: float) -> bool:
        """See :class:`ReplayStore`."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM mpp_replay WHERE expires_at <= ?", (self._clock(),))
            cursor = db.execute(
                "INSERT OR IGNORE INTO mpp_replay (key, expires_at) VALUES (?, ?)",
                (key, expires_at),
            )
            db.execute("COMMIT")
            return cursor.rowcount == 1
        finally:
            db.close()

    def delete(self, key: str) -> None:
        """See :class:`ReplayStore`."""
        db = self._connect()
        try:
            db.execute("DELETE FROM mpp_replay WHERE key = ?", (key,))
        finally:
            db.close()


# --- issuing and verifying ---------------------------------------------------------------


class PaymentProblem(Exception):
    """A credential was refused; `problem` is the RFC 9457 document to answer with."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem


def _refuse(kind: ProblemType, detail: str, challenge_id: str | None = None) -> PaymentProblem:
    return PaymentProblem(Problem.of(kind, detail, challenge_id))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(repr=False)
class PaymentServer:
    """Issues challenges for one realm and verifies the credentials that answer them.

    `previous_secrets` keeps ids minted before a rotation valid until they expire.
    `clock` returns the current time (aware UTC) and exists for tests.
    """

    secret: bytes
    realm: str
    previous_secrets: tuple[bytes, ...] = ()
    ttl: timedelta = DEFAULT_TTL
    store: ReplayStore = field(default_factory=MemoryReplayStore)
    clock: Callable[[], datetime] = _utcnow

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the challenge secret must be at least 16 bytes")

    def __repr__(self) -> str:  # never show the secret
        return f"PaymentServer(realm={self.realm!r})"

    def _id(self, secret: bytes, params: Mapping[str, str | None]) -> str:
        return compute_challenge_id(
            secret,
            realm=params["realm"] or "",
            method=params["method"] or "",
            intent=params["intent"] or "",
            request_b64=params["request"] or "",
            expires=params.get("expires"),
            digest=params.get("digest"),
            opaque_b64=params.get("opaque"),
            header=params.get("header"),
        )

    def issue(
        self,
        *,
        method: str,
        intent: str,
        request: Mapping[str, Any],
        expires: datetime | None = None,
        body: bytes | None = None,
        description: str | None = None,
        opaque: Mapping[str, str] | None = None,
        header: str | None = None,
    ) -> Challenge:
        """A fresh challenge; `expires` defaults to now + ttl; `body` binds a digest."""
        params: dict[str, str | None] = {
            "realm": self.realm,
            "method": method,
            "intent": intent,
            "request": _wire.encode_b64_json(request),
            "expires": format_expires(expires or self.clock() + self.ttl),
            "digest": body_digest(body) if body is not None else None,
            "opaque": _wire.encode_b64_json(opaque) if opaque is not None else None,
            "header": header if header and header.lower() != "authorization" else None,
        }
        challenge_id = self._id(self.secret, params)
        return Challenge(
            id=challenge_id,
            realm=self.realm,
            method=method,
            intent=intent,
            request=params["request"] or "",
            description=description,
            digest=params["digest"],
            expires=params["expires"],
            opaque=params["opaque"],
            header=params["header"],
        )

    def verify(
        self,
        authorization: str | bytes | None,
        *,
        method: str,
        intent: str,
        request: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        check_payload: Callable[[Credential], object] | None = None,
    ) -> Credential:
        """Check a credential and mark its challenge used; raise :class:`PaymentProblem`.

        Order (mpp §2.2): exactly one credential (else 400 ``bad-request``), decode, method
        and intent (else 400 ``method-unsupported``), binding (HMAC), expiry, what is being
        paid for (`request` when given), body digest, payload, then the single-use mark, so
        a refused credential never burns its challenge.
        """
        if not authorization:
            raise _refuse(ProblemType.PAYMENT_REQUIRED, "Payment is required.")
        if count_payment_credentials(authorization) > 1:
            raise _refuse(ProblemType.BAD_REQUEST, "Send exactly one Payment credential.")
        try:
            credential = parse_authorization(authorization)
        except MppParseError as exc:
            raise _refuse(ProblemType.MALFORMED_CREDENTIAL, str(exc)) from None
        echoed = credential.challenge
        if echoed.method != method or echoed.intent != intent:
            raise _refuse(
                ProblemType.METHOD_UNSUPPORTED,
                f"This resource accepts only {method}/{intent} payments.",
                echoed.id,
            )
        try:
            canonical_request = _wire.encode_b64_json(echoed.request_json())
        except MppParseError:
            raise _refuse(ProblemType.MALFORMED_CREDENTIAL, "Invalid request.") from None
        params: dict[str, str | None] = {**echoed.params(), "request": canonical_request}
        params.setdefault("expires", None)
        if not any(
            hmac.compare_digest(self._id(secret, params), echoed.id)
            for secret in (self.secret, *self.previous_secrets)
        ):
            raise _refuse(
                ProblemType.INVALID_CHALLENGE, "The challenge was not issued by this server."
            )
        expires_at = echoed.expires_at()
        if expires_at is None:
            raise _refuse(ProblemType.INVALID_CHALLENGE, "The challenge has no expiry.", echoed.id)
        if expires_at <= self.clock():
            raise _refuse(ProblemType.PAYMENT_EXPIRED, "The challenge has expired.", echoed.id)
        if request is not None and echoed.request_json() != dict(request):
            raise _refuse(
                ProblemType.INVALID_CHALLENGE,
                "The challenge was issued for another request.",
                echoed.id,
            )
        if echoed.digest is not None and (
            body is None or not hmac.compare_digest(body_digest(body), echoed.digest)
        ):
            raise _refuse(
                ProblemType.VERIFICATION_FAILED, "The body does not match the digest.", echoed.id
            )
        if check_payload is not None:
            try:
                check_payload(credential)
            except MppParseError as exc:
                raise _refuse(ProblemType.INVALID_PAYLOAD, str(exc), echoed.id) from None
        if not self.store.put_if_absent(echoed.id, expires_at.timestamp() + _REPLAY_GRACE_SECONDS):
            raise _refuse(
                ProblemType.INVALID_CHALLENGE, "The challenge was already used.", echoed.id
            )
        return credential

    def release(self, credential: Credential) -> None:
        """Make a verified credential's challenge payable again.

        For a merchant whose settlement could not run (the payment backend was
        unreachable): the payer may then retry with the *same* credential. Only safe when
        the settlement call is idempotent per challenge (the SDKs' ``Idempotency-Key``
        ``mpp_<challengeId>_<spt>``), so a retry can never charge twice.
        """
        self.store.delete(credential.challenge.id)


@dataclass(frozen=True)
class PaymentRequiredResponse:
    """A framework-neutral 402 (or 400/500) answer: status, headers, body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def payment_required_response(
    challenges: Iterable[Challenge], problem: Problem | None = None
) -> PaymentRequiredResponse:
    """The answer to an unpaid or refused request: fresh challenge(s) and a problem body.

    Challenges ride only on 402 answers (mpp §1.1); `Cache-Control: no-store` always.
    """
    problem = problem or Problem.of(ProblemType.PAYMENT_REQUIRED, "Payment is required.")
    headers: list[tuple[str, str]] = [
        ("Content-Type", PROBLEM_CONTENT_TYPE),
        ("Cache-Control", "no-store"),
    ]
    if problem.status == 402:
        headers.append(("WWW-Authenticate", format_www_authenticate(challenges)))
    return PaymentRequiredResponse(problem.status, tuple(headers), problem.to_body())
