"""The shop's machine-payable endpoint: ``GET|POST /api/forecast`` behind HTTP 402.

Unpaid requests get a ``stripe``/``charge`` challenge for the shop's network id (mpp.md
contract §2.2). A credential is verified by the codec (binding, expiry, body digest, single use) and
then settled at the wallet with the token it carries; only a settled payment unlocks the
forecast, with a ``Payment-Receipt``. Every refusal is problem+json with a fresh challenge.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from link_cli._sanitize import sanitize_text
from link_cli.mpp.credential import Credential
from link_cli.mpp.methods.stripe import CHARGE, METHOD, build_charge_request, parse_charge_payload
from link_cli.mpp.problems import PROBLEM_CONTENT_TYPE, Problem, ProblemType
from link_cli.mpp.receipt import Receipt, format_payment_receipt
from link_cli.mpp.server import (
    PaymentProblem,
    PaymentServer,
    format_expires,
    payment_required_response,
)

from .catalog import FORECAST_PRICE
from .config import MerchantConfig
from .settlement import Declined, SettlementClient, WalletUnavailable

__all__ = ["PaidApi"]

_MAX_BODY = 16 * 1024
_RETRY_AFTER_SECONDS = 5
_MAX_INTERRUPTED = 10_000


class PaidApi:
    """Issues challenges, verifies credentials and settles them for one route."""

    def __init__(self, config: MerchantConfig, server: PaymentServer, wallet: SettlementClient):
        self._config = config
        self._server = server
        self._wallet = wallet
        self._interrupted = _BoundedSet(_MAX_INTERRUPTED)
        self.request = build_charge_request(
            amount=FORECAST_PRICE,
            currency=config.currency,
            network_id=config.network_id,
            payment_method_types=["card"],
            description="Three-day trail forecast",
        )

    async def forecast(self, request: Request) -> Response:
        """The paid resource. GET binds nothing else; POST also binds its body's digest."""
        body = await request.body()
        if len(body) > _MAX_BODY:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        bound_body = body if request.method == "POST" else None
        # Several Authorization lines are one list; verify counts the credentials in it.
        authorization = ", ".join(request.headers.getlist("authorization"))
        if not authorization or "payment" not in authorization.lower():
            return self._challenge(bound_body)
        try:
            credential = self._server.verify(
                authorization,
                method=METHOD,
                intent=CHARGE,
                request=self.request,
                body=bound_body,
                check_payload=lambda c: parse_charge_payload(c.payload, c.challenge),
            )
        except PaymentProblem as refused:
            if refused.problem.status == 400:
                # Two credentials, or one for a method this route does not offer: a client
                # error, answered without a fresh challenge (mpp §1.1).
                return _problem_response(refused.problem)
            return self._challenge(bound_body, refused.problem)
        return await self._settle(credential, bound_body, _city(request, body))

    async def _settle(self, credential: Credential, body: bytes | None, city: str) -> Response:
        challenge = credential.challenge
        payload = parse_charge_payload(credential.payload, challenge)
        try:
            settled = await self._wallet.charge_spt(
                amount=FORECAST_PRICE,
                currency=self._config.currency,
                spt=payload.spt,
                # The SDKs' convention (mpp §2.2): one key per challenge and token, so
                # a retry of the same credential settles at most once.
                idempotency_key=f"mpp_{challenge.id}_{payload.spt}",
                metadata={"mpp_challenge_id": challenge.id, "mpp_intent": CHARGE},
            )
        except Declined as declined:
            detail = f"The wallet refused the payment: {declined.message}"
            if declined.code:
                detail += f" ({declined.code})"
            problem = Problem.of(ProblemType.VERIFICATION_FAILED, detail, challenge.id)
            return self._challenge(body, problem)
        except WalletUnavailable as exc:
            return self._unavailable(credential, exc)
        interrupted = self._interrupted.discard(challenge.id)
        if settled.replayed and not interrupted:
            # Settled before, yet never interrupted here: a replay, not a lost answer.
            problem = Problem.of(
                ProblemType.VERIFICATION_FAILED, "Payment has already been processed.", challenge.id
            )
            return self._challenge(body, problem)
        receipt = Receipt(
            method=METHOD,
            reference=settled.id,
            timestamp=format_expires(datetime.now(UTC)),
        )
        headers = {
            "Payment-Receipt": format_payment_receipt(receipt),
            "Cache-Control": "private",
        }
        return JSONResponse(_forecast(city, settled.id), headers=headers)

    def _unavailable(self, credential: Credential, exc: WalletUnavailable) -> Response:
        """503: nothing was settled for sure, so the same credential stays payable.

        The challenge is released and remembered as interrupted: if the wallet did settle
        it after all, the retry's idempotent replay proves it and the resource is served
        then, instead of being refused as a replay.
        """
        challenge_id = credential.challenge.id
        self._server.release(credential)
        self._interrupted.add(challenge_id)
        detail = (
            f"The payment could not be settled: {exc}. Retry the same request with the same "
            "credential; it will be charged at most once."
        )
        problem = Problem(
            ProblemType.INTERNAL_PAYMENT_ERROR.uri,
            "Payment Service Unavailable",
            503,
            detail,
            challenge_id,
        )
        answer = payment_required_response([], problem)
        return Response(
            answer.body,
            status_code=503,
            headers={**dict(answer.headers), "Retry-After": str(_RETRY_AFTER_SECONDS)},
        )

    def _challenge(self, body: bytes | None, problem: Problem | None = None) -> Response:
        challenge = self._server.issue(
            method=METHOD,
            intent=CHARGE,
            request=self.request,
            body=body,
            description=f"{self._config.name}: three-day trail forecast",
        )
        return _response(payment_required_response([challenge], problem))


class _BoundedSet:
    """Challenge ids whose settlement was interrupted; the oldest are forgotten first."""

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def add(self, item: str) -> None:
        self._items[item] = None
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def discard(self, item: str) -> bool:
        """Forget `item`; True if it was there."""
        if item not in self._items:
            return False
        del self._items[item]
        return True


def _problem_response(problem: Problem) -> Response:
    return Response(
        problem.to_body(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )


def _response(answer: Any) -> Response:
    return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))


def _city(request: Request, body: bytes) -> str:
    city = request.query_params.get("city")
    if city is None and body:
        import json

        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("city"), str):
            city = data["city"]
    return sanitize_text(city or "Denver")[:60]


def _forecast(city: str, payment_intent: str) -> dict[str, Any]:
    """A deterministic little forecast, so tests and demos can compare output."""
    seed = hashlib.sha256(city.lower().encode("utf-8")).digest()
    days = []
    for index, label in enumerate(("today", "tomorrow", "day after")):
        high = 8 + seed[index] % 20
        days.append(
            {
                "day": label,
                "high_c": high,
                "low_c": high - 4 - seed[index + 3] % 6,
                "summary": ("clear", "breezy", "showers", "overcast")[seed[index + 6] % 4],
            }
        )
    return {"city": city, "days": days, "paid": True, "payment_intent": payment_intent}
