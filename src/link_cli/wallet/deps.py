"""FastAPI dependencies shared by API routes and pages: database session, clock, settings,
auth, and the issuer.

``DbSession`` commits when the route returns and rolls back when it raises, before the
response is sent (``scope="function"``). GET and HEAD requests get a read transaction
(``Database.read_scope``: no lock on SQLite, writes refused) unless the route declares
``dependencies=[WRITES_ON_GET]``; every other method gets a write transaction. ``AgentToken`` authenticates a Bearer access token
(stored only as SHA-256); ``require_scope`` adds a scope check on top.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from .clock import Clock
from .domain.errors import Forbidden, InvalidRequest, Unauthorized, WalletError
from .domain.manage import needs_touch
from .domain.statements import MAX_IMPORT_BYTES
from .domain.stripe_errors import invalid_request
from .issuing import default_issuer
from .services.spend_requests import Issuing
from .settings import WalletSettings
from .store.crypto import FieldCipher
from .store.engine import Database, is_contention
from .store.oauth import AccessContext, authenticate_access_token, touch_grant

MAX_FORM_FIELDS = 300
# Forms (pages, OAuth endpoints, Stripe's form-encoded /v1) are small; JSON API bodies may be
# larger (`LINK_WALLET_MAX_BODY_BYTES`, which also caps the form limit).
FORM_LIMIT_BYTES = 64 * 1024
JSON_PATH_PREFIXES = ("/spend_requests", "/__test__/", "/issuing/")
# The statement upload: one file of at most MAX_IMPORT_BYTES plus the form's own fields.
IMPORT_PATH = "/wallet/transactions/import"
IMPORT_FORM_LIMIT_BYTES = MAX_IMPORT_BYTES + 16 * 1024


READ_METHODS = frozenset({"GET", "HEAD"})


async def _writes_on_get(request: Request) -> None:
    request.state.writes_on_get = True


WRITES_ON_GET = Depends(_writes_on_get)
"""A page that records something when shown (e.g. a throttle counting wrong phrases)."""


R = TypeVar("R")

# Threads that only end sessions (commit and give the connection back to the pool), at least
# as many as the pool holds connections (SQLite 40, PostgreSQL 15: store/engine.py).
SESSION_END_THREADS = 40


def _session_end_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's own limiter for ending sessions (created on the event loop, on first use).

    Ending a session must never queue behind route handlers in the shared thread pool: under
    load every pool thread can be a handler waiting for a database connection while every
    connection belongs to a finished request waiting for a thread to give it back — a
    deadlock until the pool's checkout timeout (bench/wallet_throughput.py, 200 agents).
    """
    limiter = getattr(request.app.state, "session_end_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(SESSION_END_THREADS)
        request.app.state.session_end_limiter = limiter
    return limiter


async def get_db_session(request: Request) -> AsyncIterator[Session]:
    """A session per request: commit on success, rollback on any exception; reads only for
    GET and HEAD, so readers never queue behind writers.

    Opened on the event loop (no I/O until the route's first query) and ended in one
    worker-thread call, so the session costs one thread hand-off per request, not two; that
    call runs on threads of its own (:func:`_session_end_limiter`).
    """
    database: Database = request.app.state.db
    reads = request.method in READ_METHODS and not getattr(request.state, "writes_on_get", False)
    session = database.open_session(read_only=reads)
    limiter = _session_end_limiter(request)
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(
            functools.partial(database.end_session, session, commit=False), limiter=limiter
        )
        raise
    if not session.in_transaction():
        # Nothing begun, or already committed by the route (commits_in_route_thread): closing
        # a session without a transaction does no I/O.
        session.close()
        return
    await anyio.to_thread.run_sync(
        functools.partial(database.end_session, session, commit=True), limiter=limiter
    )


def commits_in_route_thread(route: Callable[..., R]) -> Callable[..., R]:
    """A plain ``def`` route taking ``db: DbSession`` that commits and closes it itself, on
    the worker thread it already runs on, when it returns: one thread hand-off per request
    fewer than :func:`get_db_session` ending it (under load each hand-off costs more CPU than
    the commit; bench/wallet_throughput.py). A route that raises leaves the rollback to
    :func:`get_db_session`; a failed commit raises before any answer, as there.
    """

    @functools.wraps(route)
    def run(*args: Any, **kwargs: Any) -> R:
        result = route(*args, **kwargs)
        Database.end_session(kwargs["db"], commit=True)
        return result

    return run


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
# the thread pool, and each such hand-off costs more CPU than the work it carries.


async def get_clock(request: Request) -> Clock:
    """The process's moveable clock (``app.state.clock``)."""
    return request.app.state.clock


async def get_settings(request: Request) -> WalletSettings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_cipher(request: Request) -> FieldCipher:
    """Field encryption for card numbers and CVCs."""
    return request.app.state.cipher


async def get_client_address(request: Request) -> str:
    """The client's IP address from the ASGI scope (a trusted proxy's ``X-Forwarded-For``
    only when ``LINK_WALLET_FORWARDED_ALLOW_IPS`` names that proxy)."""
    return request.client.host if request.client else "unknown"


async def get_now(request: Request) -> datetime:
    """The current time from the wallet's clock (UTC, aware)."""
    clock: Clock = request.app.state.clock
    return clock.now()


def body_limit(settings: WalletSettings, path: str) -> int:
    """The largest body, in bytes, accepted on ``path``."""
    if path.startswith(JSON_PATH_PREFIXES):
        return settings.max_body_bytes
    if path == IMPORT_PATH:
        return IMPORT_FORM_LIMIT_BYTES
    return min(FORM_LIMIT_BYTES, settings.max_body_bytes)


def too_large_error(path: str, limit: int) -> WalletError:
    """The 413 in the shape of the route family: Stripe's on /v1, ours (or RFC 6749) else."""
    if path.startswith("/v1/"):
        return invalid_request(
            f"Request body too large (at most {limit} bytes).", code="request_too_large", status=413
        )
    if path.startswith(JSON_PATH_PREFIXES):
        return WalletError(
            f"The request body is larger than {limit} bytes.", code="body_too_large", status=413
        )
    return WalletError(
        f"The form is too large (at most {limit} bytes).", code="request_too_large", status=413
    )


async def read_form(request: Request) -> FormData:
    """The urlencoded or multipart body; files are refused, fields and size bounded."""
    # RequestLimitsMiddleware has bounded the body while it streamed in; this repeats the
    # check for an app run without it.
    limit = body_limit(request.app.state.settings, request.url.path)
    body = await request.body()  # cached: request.form() parses it from memory
    if len(body) > limit:
        raise too_large_error(request.url.path, limit)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    refuse_nul(form.multi_items())
    return form


async def read_upload_form(request: Request) -> FormData:
    """A multipart form with at most one file (the statement upload), size bounded."""
    limit = body_limit(request.app.state.settings, request.url.path)
    body = await request.body()
    if len(body) > limit:
        raise too_large_error(request.url.path, limit)
    form = await request.form(max_files=1, max_fields=10)
    refuse_nul((k, v) for k, v in form.multi_items() if isinstance(v, str))
    return form


def refuse_nul(pairs: Iterable[tuple[str, object]]) -> None:
    """400 ``invalid_request`` when a name or text value holds NUL (PostgreSQL can't store it)."""
    for name, value in pairs:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise InvalidRequest(
                f"{name.replace(chr(0), '')[:60] or 'A parameter'} contains a NUL character.",
                code="invalid_request",
                extra={"param": name.replace("\x00", "")[:60]},
            )


# The Stripe-compatible endpoints answer in Stripe's error shape.
_STRIPE_PATHS = ("/v1/",)


async def refuse_nul_in_url(request: Request) -> None:
    """Every route: 400 when the path or the query string holds a NUL character.

    Ids come from the path and the query; a NUL would reach the database, where PostgreSQL
    refuses it with an error, not a clean answer.
    """
    path = request.url.path
    pairs: list[tuple[str, object]] = [("path", path), *request.query_params.multi_items()]
    if path.startswith(_STRIPE_PATHS):
        try:
            refuse_nul(pairs)
        except InvalidRequest as error:
            raise invalid_request(error.message, param=str(error.extra.get("param"))) from None
    else:
        refuse_nul(pairs)


DbSession = Annotated[Session, Depends(get_db_session, scope="function")]
WalletClock = Annotated[Clock, Depends(get_clock)]
Settings = Annotated[WalletSettings, Depends(get_settings)]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]
Now = Annotated[datetime, Depends(get_now)]
ClientAddress = Annotated[str, Depends(get_client_address)]
Form = Annotated[FormData, Depends(read_form)]
UploadForm = Annotated[FormData, Depends(read_upload_form)]

_BEARER_CHALLENGE = 'Bearer realm="link-wallet"'


def agent_token(request: Request, now: Now) -> AccessContext:
    """Authenticate ``Authorization: Bearer <access token>``; 401 ``invalid_token`` otherwise.

    In its own short read transaction: the route's write transaction (on SQLite, the write
    lock) starts only after the request body has arrived.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Missing bearer access token.",
            code="invalid_token",
            headers={"WWW-Authenticate": _BEARER_CHALLENGE},
        )
    database: Database = request.app.state.db
    with database.read_connection() as connection:
        context = authenticate_access_token(connection, token, now=now)
    if context is None:
        raise Unauthorized(
            "The access token is invalid, expired or revoked.",
            code="invalid_token",
            headers={"WWW-Authenticate": _BEARER_CHALLENGE + ', error="invalid_token"'},
        )
    if needs_touch(context.last_used_at, now):
        _touch(database, context.grant_id, now)
    return context


def _touch(database: Database, grant_id: str, now: datetime) -> None:
    """Record the connection's last use in its own short write (at most once a minute);
    a busy database skips it rather than delaying or failing the agent's request."""
    try:
        with database.write_scope() as db:
            touch_grant(db, grant_id, now=now)
    except Exception as exc:
        if not is_contention(exc):
            raise


AgentToken = Annotated[AccessContext, Depends(agent_token)]


def require_scope(scope: str) -> Callable[[AccessContext], Coroutine[None, None, AccessContext]]:
    """A dependency that passes only tokens granted ``scope`` (403 ``insufficient_scope``)."""

    async def check(agent: AgentToken) -> AccessContext:
        if scope not in agent.scopes:
            raise Forbidden(
                f"This access token was not granted the {scope} scope.",
                code="insufficient_scope",
                headers={
                    "WWW-Authenticate": _BEARER_CHALLENGE
                    + f', error="insufficient_scope", scope="{scope}"'
                },
            )
        return agent

    check.__name__ = f"require_scope_{scope.replace(':', '_').replace('.', '_')}"
    return check


_DEFAULT_ISSUER = default_issuer()


def issuing_for(request: Request) -> Issuing:
    """The issuer (``app.state.issuer``, else the built-in sandbox) and the card keys."""
    state = request.app.state
    return Issuing(
        issuer=getattr(state, "issuer", None) or _DEFAULT_ISSUER,
        cipher=state.cipher,
        secret_key=state.settings.secret_key,
    )
