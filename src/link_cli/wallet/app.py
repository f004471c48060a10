"""``create_app(settings)``: the wallet's FastAPI application, fully wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from .access_log import AccessLogMiddleware
from .api import account, financial, health, oauth, redemption, reports, spend_requests
from .api import issuing as issuing_api
from .api.errors import install_error_handlers
from .api.openapi import install_openapi
from .clock import Clock
from .deps import refuse_nul_in_url
from .issuing import build_issuer
from .long_poll import LongPoll
from .notify.worker import DeliveryWorker
from .request_limits import RequestLimitsMiddleware
from .services.issuing import CardStopper
from .settings import WalletSettings
from .store.crypto import FieldCipher, derive_key
from .store.engine import Database
from .web import approvals, cards, device, home, live, notifications, sign_in, transactions
from .web import manage as manage_pages
from .web import policies as policy_pages
from .web.session import SignInRequired
from .web.templating import STATIC_DIR, make_templates

SESSION_COOKIE = "link_wallet_session"
CARD_STOPPER_INTERVAL_SECONDS = 30.0
SESSION_MAX_AGE_SECONDS = 7 * 24 * 3600


def create_app(settings: WalletSettings, *, clock: Clock | None = None) -> FastAPI:
    """Build the app. The database must already be migrated (``store.migrations.upgrade``)."""
    database = Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    clock = clock or Clock()
    cipher = FieldCipher(settings.secret_key)
    notifier = DeliveryWorker(settings, database, cipher, clock.now)
    long_poll = LongPoll(settings.long_poll, database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        notifier.start()
        if stopper is not None:
            stopper.start()
        await long_poll.start()
        yield
        await long_poll.stop()
        if stopper is not None:
            stopper.stop()
        notifier.stop()
        database.dispose()

    app = FastAPI(
        title="Link Wallet",
        summary="A self-hostable wallet speaking the Link API.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_in_url)],
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.db = database
    app.state.cipher = cipher
    app.state.notifier = notifier
    issuer = build_issuer(settings.issuer)
    app.state.issuer = issuer
    stopper = (
        CardStopper(database, issuer, clock.now, CARD_STOPPER_INTERVAL_SECONDS)
        if issuer.remote
        else None
    )
    app.state.card_stopper = stopper
    app.state.long_poll = long_poll
    app.state.csrf_key = derive_key(settings.secret_key, "csrf").hex()
    app.state.templates = make_templates()
    app.state.home_sections = []

    install_error_handlers(app)
    install_openapi(app)
    app.add_exception_handler(SignInRequired, _redirect_to_sign_in)  # type: ignore[arg-type]

    # Routes are matched in order, one by one: the Link API routes agents poll come first.
    # No two routers share a path.
    for router_module in (spend_requests, oauth, account, reports, financial, redemption, health):
        app.include_router(router_module.router)
    if settings.test_clock:
        app.include_router(health.test_router)
    for router_module in (sign_in, device, home, cards, notifications, approvals, transactions):
        app.include_router(router_module.router)
    app.include_router(manage_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(issuing_api.router)
    app.include_router(live.router)
    app.include_router(redemption.fallback_router)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=derive_key(settings.secret_key, "session-cookie").hex(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )
    # Outside the session and every route, inside the access log (which records its answers).
    app.add_middleware(RequestLimitsMiddleware, settings=settings)
    app.add_middleware(AccessLogMiddleware)
    return app


async def _redirect_to_sign_in(_request: Request, exc: SignInRequired) -> Response:
    return RedirectResponse(exc.location, status_code=303)
