"""A merchant built only with pympp 0.16.0 (no extras) whose Stripe client is pointed at the
wallet: ``StripeClient(key, base_addresses={"api": <wallet>})`` (mpp §4.3–4.4).

Run: ``python pympp_merchant.py --port P --wallet-url U --secret-key sk --network-id profile_…``.
``GET /paid`` costs $2.50; ``/healthz`` answers once it is up.
"""

from __future__ import annotations

import argparse

import stripe
import uvicorn
from mpp.methods.stripe import server as stripe_server
from mpp.server import Mpp, pay
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def build_app(wallet_url: str, secret_key: str, network_id: str) -> Starlette:
    client = stripe.StripeClient(secret_key, base_addresses={"api": wallet_url})
    merchant = Mpp(
        methods=stripe_server.charge(client=client, network_id=network_id, currency="usd"),
        realm="pympp-merchant.test",
        secret_key="pympp-interop-secret-0123456789abcdef",
    )

    @pay(merchant.charge(amount="2.50"))
    async def paid(request: Request, credential, receipt):  # pympp calls it positionally
        return JSONResponse({"paid": True, "reference": receipt.reference})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/paid", paid), Route("/healthz", health)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--wallet-url", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--network-id", required=True)
    args = parser.parse_args()
    app = build_app(args.wallet_url, args.secret_key, args.network_id)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
