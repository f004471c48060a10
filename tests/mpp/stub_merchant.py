"""A loopback merchant built on our server half, for the pay client's tests.

Real HTTP on 127.0.0.1 (stdlib `ThreadingHTTPServer` in a thread). Each route is a small
function; every request is recorded so tests can count what the merchant saw. Odd answers a
real merchant would not give (Bearer-only 402, dropped connection) are routes here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.threaded_server import serving

from link_cli.mpp import ProblemType, format_payment_receipt
from link_cli.mpp.methods import stripe
from link_cli.mpp.problems import Problem
from link_cli.mpp.receipt import Receipt
from link_cli.mpp.server import PaymentProblem, PaymentServer, payment_required_response

SECRET = b"stub-merchant-secret-0123456789abcdef"
NETWORK_ID = "profile_stub_1"


@dataclass
class Seen:
    """One request as the merchant received it."""

    method: str
    path: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    body: bytes


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Route = Callable[["StubMerchant", Seen], Answer]


class StubMerchant:
    """Routes by path; `seen` lists every request in arrival order."""

    def __init__(self, routes: dict[str, Route], *, amount: str = "250") -> None:
        self.routes = routes
        self.seen: list[Seen] = []
        self.amount = amount
        self.payments = PaymentServer(secret=SECRET, realm="127.0.0.1")
        self.url = ""

    def request_object(self, amount: str | None = None) -> dict[str, Any]:
        return stripe.build_charge_request(
            amount=amount or self.amount, currency="usd", network_id=NETWORK_ID
        )

    def challenge_answer(self, problem: Problem | None = None, **issue: Any) -> Answer:
        issue.setdefault("request", self.request_object())
        challenge = self.payments.issue(
            method="stripe", intent=issue.pop("intent", "charge"), **issue
        )
        response = payment_required_response([challenge], problem)
        return Answer(response.status, list(response.headers), response.body)


def paid_route(*, header: str | None = None, bind_body: bool = False) -> Route:
    """402 until a valid credential arrives, then 200 with a receipt."""

    def route(merchant: StubMerchant, seen: Seen) -> Answer:
        field_name = (header or "Authorization").lower()
        credential = seen.headers.get(field_name)
        body = seen.body if bind_body else None
        if credential is None:
            return merchant.challenge_answer(header=header, body=body)
        try:
            verified = merchant.payments.verify(
                credential,
                method="stripe",
                intent="charge",
                request=merchant.request_object(),
                body=seen.body if bind_body else None,
                check_payload=lambda c: stripe.parse_charge_payload(c.payload, c.challenge),
            )
        except PaymentProblem as refused:
            return merchant.challenge_answer(refused.problem, header=header, body=body)
        receipt = Receipt(
            method="stripe",
            reference="pi_" + verified.payload["spt"],
            timestamp=datetime.now(UTC).isoformat(),
        )
        return Answer(
            200,
            [
                ("Content-Type", "application/json"),
                ("Payment-Receipt", format_payment_receipt(receipt)),
                ("Cache-Control", "private"),
            ],
            b'{"resource":"paid content"}',
        )

    return route


def fixed(status: int, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Route:
    return lambda merchant, seen: Answer(status, headers or [], body)


def expired_challenge(merchant: StubMerchant, seen: Seen) -> Answer:
    return merchant.challenge_answer(expires=datetime.now(UTC) - timedelta(minutes=1))


def challenge_then(status: int, body: bytes = b"", problem: ProblemType | None = None) -> Route:
    """402 on the probe; on the paid retry answer `status` (e.g. 403, 500, 402+problem)."""

    def route(merchant: StubMerchant, seen: Seen) -> Answer:
        if "authorization" not in seen.headers:
            return merchant.challenge_answer()
        if problem is not None:
            return merchant.challenge_answer(Problem.of(problem, "refused"))
        return Answer(status, [("Content-Type", "text/plain")], body)

    return route


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            header_list=list(self.headers.items()),
            body=body,
        )
        merchant = self.server.merchant
        merchant.seen.append(seen)
        route = merchant.routes.get(self.path.split("?")[0])
        answer = Answer(404, body=b"not found") if route is None else route(merchant, seen)
        if answer.status == 0:  # drop the connection without answering
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    merchant: StubMerchant


@contextmanager
def running(merchant: StubMerchant) -> Iterator[StubMerchant]:
    """Serve `merchant` on a free loopback port for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.merchant = merchant
    merchant.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield merchant
