"""The demo merchant: a Starlette app with a 402 API and a card checkout.

Both settle against the wallet's Stripe-compatible ``/v1/payment_intents`` with the shop's
secret key. Start it with ``link-wallet demo-merchant`` or ``python -m link_cli.merchant``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from link_cli.mpp.server import MemoryReplayStore, PaymentServer, ReplayStore

from .checkout import Checkout
from .config import MerchantConfig
from .discovery import agents_txt, llms_txt
from .paid_api import PaidApi
from .settlement import SettlementClient

__all__ = ["create_app"]


def create_app(
    config: MerchantConfig,
    *,
    challenge_ttl: timedelta = timedelta(minutes=5),
    replay_store: ReplayStore | None = None,
) -> Starlette:
    """Build the shop for ``config``. ``replay_store`` defaults to one per process."""
    wallet = SettlementClient(
        config.wallet_url, config.secret_key, timeout=config.wallet_timeout_seconds
    )
    server = PaymentServer(
        secret=config.challenge_secret,
        realm=config.realm,
        ttl=challenge_ttl,
        store=replay_store or MemoryReplayStore(),
    )
    paid = PaidApi(config, server, wallet)
    checkout = Checkout(config, wallet)

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def agents(request: Request) -> Response:
        return PlainTextResponse(agents_txt(config, base_url(request)))

    async def llms(request: Request) -> Response:
        return PlainTextResponse(llms_txt(config, base_url(request)), media_type="text/markdown")

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "network_id": config.network_id})

    routes = [
        Route("/", checkout.index),
        Route("/checkout", checkout.checkout_form, methods=["GET"]),
        Route("/checkout", checkout.place_order, methods=["POST"]),
        Route("/orders/{order_id}", checkout.order),
        Route("/api/forecast", paid.forecast, methods=["GET", "POST"]),
        Route("/agents.txt", agents),
        Route("/llms.txt", llms),
        Route("/healthz", health),
        Mount(
            "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
        ),
    ]
    return Starlette(routes=routes)
