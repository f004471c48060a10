"""A contract fake of the Stripe Issuing endpoints the wallet uses, served on loopback.

It speaks Stripe's wire format (form-encoded nested parameters, Bearer secret key,
``Stripe-Version``, ``Idempotency-Key`` replay and ``idempotency_error``, Stripe's error
body) and plays the card network: the test-helper authorization first applies the card's
spending controls and status, then sends the signed ``issuing_authorization.request`` to the
wallet's webhook and waits at most 2 seconds for ``{"approved": …}`` (no answer: declined,
``webhook_timeout``), then sends ``issuing_authorization.created``; a capture creates the
Transaction, sends ``issuing_transaction.created`` and, with ``cancel_after.payment_count``,
cancels the card. Failures can be injected (``fail_next``) before or after a POST takes
effect, and every delivery can be replayed (``redeliver``) or held back (``hold_events``)
to test duplicated and out-of-order events.

Issued shared payment tokens (preview API version only): created from a PaymentMethod
(``create_payment_method`` plays Stripe.js), retrieved, revoked (``deactivated``,
``revoked``); ``use_token`` plays the seller's payment and sends ``…issued_token.used`` and,
once the maximum is captured, ``…issued_token.deactivated`` (``consumed``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from link_cli.wallet.issuing.stripe_events import signature_header

from .threaded_server import serving

API_VERSION = "2026-10-28.endive"
PREVIEW_API_VERSION = "2026-07-29.preview"
PUBLISHABLE_KEY = "pk_test_fake" + "2" * 24
SECRET_KEY = "sk_test_fake" + "0" * 24
WEBHOOK_SECRET = "whsec_fake" + "1" * 24
AUTHORIZATION_DEADLINE_SECONDS = 2.0
_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def decode_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=v`` → ``{"a": {"b": [{"c": "v"}]}}`` (how stripe-python encodes)."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = [
            m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(raw_key)
        ]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            child_default: Any = (
                [] if following is not None and (following.isdigit() or following == "") else {}
            )
            if isinstance(node, list):
                position = int(part) if part.isdigit() else len(node)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    if node[position] is None:
                        node[position] = child_default
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, child_default)
    return root


class StripeApiError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, "code": code, "param": param}}


def _missing(param: str) -> StripeApiError:
    return StripeApiError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        "parameter_missing",
        param,
    )


@dataclass
class Delivery:
    event: dict[str, Any]
    status: int | None
    body: str


@dataclass
class FakeStripe:
    """The fake's state; ``url`` is its base address once serving."""

    webhook_url: str | None = None
    webhook_secret: str = WEBHOOK_SECRET
    secret_key: str = SECRET_KEY
    url: str = ""
    cardholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    hold_events: bool = False
    tokens_require_action: bool = False
    """New issued tokens ask the cardholder to authenticate (``requires_action``)."""
    balance_short: bool = False
    """Decline even what the wallet approved, as Stripe does when the Issuing balance is short."""
    _idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _failures: list[tuple[str, int, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- test controls ---------------------------------------------------------------------

    def fail_next(
        self, status: int = 500, *, after_effect: bool = False, delay: float = 0.0
    ) -> None:
        """The next POST answers ``status`` (before or after it takes effect), or sleeps
        ``delay`` seconds first (a timeout for a client with a shorter one)."""
        self._failures.append(("after" if after_effect else "before", status, delay))

    def redeliver(self, event_id: str) -> Delivery:
        """Send an already delivered event again, freshly signed (Stripe's retry)."""
        event = next(d.event for d in self.deliveries if d.event["id"] == event_id)
        return self._deliver(event)

    def release_held(self, *, reverse: bool = False) -> list[Delivery]:
        """Deliver the held events (in reverse order: out of order)."""
        events, self.held = self.held, []
        return [self._deliver(e) for e in (reversed(events) if reverse else events)]

    def create_payment_method(self, brand: str = "visa", last4: str = "4242") -> str:
        """What Stripe.js does in the person's browser: a card PaymentMethod, its id."""
        method = {
            "id": "pm_" + secrets.token_hex(12),
            "object": "payment_method",
            "type": "card",
            "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2031},
            "livemode": False,
        }
        self.payment_methods[method["id"]] = method
        return method["id"]

    def use_token(self, token_id: str, amount: int) -> dict[str, Any]:
        """A seller's payment with the token: ``used``, then ``deactivated`` (consumed) once
        the maximum is captured."""
        token = self._get(self.issued_tokens, token_id, "shared payment issued token")
        limits = token["usage_limits"]
        captured = token["usage_details"]["amount_captured"]
        if token["status"] != "active" or captured["value"] + amount > limits["max_amount"]:
            raise StripeApiError(402, "card_error", "The shared payment token cannot pay this.")
        captured["value"] += amount
        self._send("shared_payment.issued_token.used", token)
        if captured["value"] >= limits["max_amount"]:
            self._deactivate(token, "consumed")
        return token

    def _deactivate(self, token: dict[str, Any], reason: str) -> None:
        token.update(
            status="deactivated", deactivated_reason=reason, deactivated_at=int(time.time())
        )
        self._send("shared_payment.issued_token.deactivated", token)

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [d.event for d in self.deliveries if d.event["type"] == kind]

    # -- webhooks --------------------------------------------------------------------------

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": obj},
        }

    def _deliver(
        self, event: dict[str, Any], timeout: float = AUTHORIZATION_DEADLINE_SECONDS
    ) -> Delivery:
        assert self.webhook_url, "no webhook endpoint configured"
        payload = json.dumps(event).encode()
        request = urllib.request.Request(
            self.webhook_url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(self.webhook_secret, payload),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                delivery = Delivery(event, response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            delivery = Delivery(event, error.code, error.read().decode())
        except (TimeoutError, urllib.error.URLError):
            delivery = Delivery(event, None, "")
        self.deliveries.append(delivery)
        return delivery

    def _send(self, kind: str, obj: dict[str, Any]) -> None:
        event = self._event(kind, json.loads(json.dumps(obj)))
        if self.webhook_url is None:
            return  # an adapter test: nobody listens
        if self.hold_events:
            self.held.append(event)
        else:
            self._deliver(event)

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        params: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        if headers.get("authorization") != f"Bearer {self.secret_key}":
            raise StripeApiError(401, "invalid_request_error", "Invalid API Key provided.")
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "shared_payment"]:
            if headers.get("stripe-version") != PREVIEW_API_VERSION:
                raise StripeApiError(
                    400,
                    "invalid_request_error",
                    "Shared payment issued tokens need a preview API version.",
                )
            return 200, self._issued_tokens(method, parts, params)
        if headers.get("stripe-version") != API_VERSION:
            raise StripeApiError(400, "invalid_request_error", "Unexpected Stripe-Version.")
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payment_methods"]:
            return 200, self._get(self.payment_methods, parts[2], "PaymentMethod")
        if method == "POST" and path == "/v1/issuing/cardholders":
            return 200, self._create_cardholder(params)
        if method == "POST" and len(parts) == 4 and parts[:3] == ["v1", "issuing", "cardholders"]:
            holder = self._get(self.cardholders, parts[3], "cardholder")
            holder.update(
                {
                    k: v
                    for k, v in params.items()
                    if k in ("name", "email", "phone_number", "billing", "individual", "metadata")
                }
            )
            return 200, holder
        if method == "POST" and path == "/v1/issuing/cards":
            return 200, self._create_card(params)
        if len(parts) == 4 and parts[:3] == ["v1", "issuing", "cards"]:
            card = self._get(self.cards, parts[3], "card")
            if method == "GET":
                shown = {k: v for k, v in card.items() if k not in ("number", "cvc")}
                expand = query.get("expand", [])
                for name in ("number", "cvc"):
                    if name in expand:
                        shown[name] = card[name]
                return 200, shown
            if params.get("status") not in ("active", "inactive", "canceled"):
                raise StripeApiError(
                    400, "invalid_request_error", "Invalid status.", "parameter_invalid", "status"
                )
            if card["status"] == "canceled" and params["status"] != "canceled":
                raise StripeApiError(
                    400, "invalid_request_error", "A canceled card cannot be reactivated."
                )
            card["status"] = params["status"]
            return 200, {k: v for k, v in card.items() if k not in ("number", "cvc")}
        if method == "POST" and path == "/v1/test_helpers/issuing/authorizations":
            return 200, self._authorize(params)
        if (
            method == "POST"
            and len(parts) == 6
            and parts[:4] == ["v1", "test_helpers", "issuing", "authorizations"]
            and parts[5] == "capture"
        ):
            return 200, self._capture(self._get(self.authorizations, parts[4], "authorization"))
        raise StripeApiError(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: {path})."
        )

    @staticmethod
    def _get(table: dict[str, dict[str, Any]], id_: str, kind: str) -> dict[str, Any]:
        if id_ not in table:
            raise StripeApiError(
                404, "invalid_request_error", f"No such {kind}: '{id_}'", "resource_missing", "id"
            )
        return table[id_]

    def _issued_tokens(
        self, method: str, parts: list[str], params: dict[str, Any]
    ) -> dict[str, Any]:
        if method == "POST" and len(parts) == 3 and parts[2] == "issued_tokens":
            return self._issue_token(params)
        if len(parts) >= 4 and parts[2] == "issued_tokens":
            token = self._get(self.issued_tokens, parts[3], "shared payment issued token")
            if method == "GET" and len(parts) == 4:
                return token
            if method == "POST" and len(parts) == 5 and parts[4] == "revoke":
                if token["status"] == "deactivated":
                    raise StripeApiError(
                        400, "invalid_request_error", "This token is already deactivated."
                    )
                self._deactivate(token, "revoked")
                return token
        raise StripeApiError(404, "invalid_request_error", "Unrecognized request URL.")

    def _issue_token(self, params: dict[str, Any]) -> dict[str, Any]:
        self._get(self.payment_methods, params.get("payment_method", ""), "PaymentMethod")
        seller = params.get("seller_details") or {}
        limits = params.get("usage_limits") or {}
        for key in ("currency", "max_amount"):
            if not limits.get(key):
                raise _missing(f"usage_limits[{key}]")
        if not str(seller.get("network_business_profile", "")).startswith("profile_"):
            raise StripeApiError(
                400,
                "invalid_request_error",
                "Invalid network business profile.",
                "parameter_invalid",
                "seller_details[network_business_profile]",
            )
        token = {
            "id": "spt_" + secrets.token_hex(12),
            "object": "shared_payment.issued_token",
            "livemode": False,
            "created": int(time.time()),
            "deactivated_at": None,
            "deactivated_reason": None,
            "payment_method": params["payment_method"],
            "seller_details": {
                "external_id": seller.get("external_id"),
                "network_business_profile": seller["network_business_profile"],
            },
            "shared_metadata": {},
            "status": "requires_action" if self.tokens_require_action else "active",
            "next_action": (
                {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
                if self.tokens_require_action
                else None
            ),
            "usage_details": {"amount_captured": {"value": 0, "currency": limits["currency"]}},
            "usage_limits": {
                "currency": limits["currency"],
                "max_amount": int(limits["max_amount"]),
                "expires_at": int(limits["expires_at"]) if limits.get("expires_at") else None,
            },
        }
        self.issued_tokens[token["id"]] = token
        return token

    def _create_cardholder(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("name"):
            raise _missing("name")
        if any(c.isdigit() for c in params["name"]) or len(params["name"]) > 24:
            raise StripeApiError(
                400,
                "invalid_request_error",
                "Invalid cardholder name.",
                "parameter_invalid",
                "name",
            )
        address = params.get("billing", {}).get("address", {})
        for key in ("line1", "city", "postal_code", "country"):
            if not address.get(key):
                raise _missing(f"billing[address][{key}]")
        holder = {
            "id": "ich_" + secrets.token_hex(12),
            "object": "issuing.cardholder",
            "livemode": False,
            "status": params.get("status", "active"),
            "type": params.get("type", "individual"),
            **{
                k: params[k]
                for k in ("name", "email", "phone_number", "billing", "individual", "metadata")
                if k in params
            },
            "requirements": {"disabled_reason": None},
        }
        self.cardholders[holder["id"]] = holder
        return holder

    def _create_card(self, params: dict[str, Any]) -> dict[str, Any]:
        for key in ("currency", "type"):
            if not params.get(key):
                raise _missing(key)
        self._get(self.cardholders, params.get("cardholder", ""), "cardholder")
        number = "4000009990" + "".join(secrets.choice("0123456789") for _ in range(6))
        card = {
            "id": "ic_" + secrets.token_hex(12),
            "object": "issuing.card",
            "brand": "Visa",
            "cardholder": params["cardholder"],
            "currency": params["currency"],
            "type": params["type"],
            "status": params.get("status", "inactive"),
            "last4": number[-4:],
            "exp_month": 12,
            "exp_year": 2031,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "spending_controls": params.get("spending_controls", {}),
            "lifecycle_controls": params.get("lifecycle_controls"),
            "number": number,
            "cvc": "".join(secrets.choice("0123456789") for _ in range(3)),
            "_payments": 0,
        }
        self.cards[card["id"]] = card
        return {k: v for k, v in card.items() if k not in ("number", "cvc")}

    def _limit_exceeded(self, card: dict[str, Any], amount: int) -> bool:
        limits = card["spending_controls"].get("spending_limits", [])
        return any(
            amount > int(limit["amount"])
            for limit in limits
            if limit.get("interval") in ("per_authorization", "all_time")
        )

    def _authorize(self, params: dict[str, Any]) -> dict[str, Any]:
        card = self._get(self.cards, params.get("card", ""), "card")
        amount = int(params.get("amount", 1000))
        currency = params.get("currency", card["currency"])
        auth = {
            "id": "iauth_" + secrets.token_hex(12),
            "object": "issuing.authorization",
            "amount": 0,
            "currency": currency,
            "merchant_amount": amount,
            "merchant_currency": currency,
            "approved": False,
            "status": "pending",
            "card": card["id"],
            "cardholder": card["cardholder"],
            "livemode": False,
            "merchant_data": {
                "name": None,
                "url": None,
                "category": "computer_software_stores",
                **params.get("merchant_data", {}),
            },
            "pending_request": {
                "amount": amount,
                "currency": currency,
                "is_amount_controllable": False,
                "merchant_amount": amount,
                "merchant_currency": currency,
            },
            "request_history": [],
        }
        self.authorizations[auth["id"]] = auth
        if card["status"] != "active":
            reason = "card_inactive"
        elif self._limit_exceeded(card, amount):
            reason = "spending_controls"
        else:
            started = time.monotonic()
            # The real-time request is always delivered at once: the deadline is Stripe's.
            delivery = self._deliver(
                self._event("issuing_authorization.request", json.loads(json.dumps(auth)))
            )
            took = time.monotonic() - started
            answer = json.loads(delivery.body) if delivery.status == 200 and delivery.body else {}
            if delivery.status is None or took > AUTHORIZATION_DEADLINE_SECONDS:
                reason = "webhook_timeout"
            elif answer.get("approved") is True:
                reason = "webhook_approved"
            else:
                reason = "webhook_declined"
        if reason == "webhook_approved" and self.balance_short:
            reason = "insufficient_funds"
        approved = reason == "webhook_approved"
        auth["request_history"] = [
            {"amount": amount, "approved": approved, "reason": reason, "currency": currency}
        ]
        auth["approved"] = approved
        auth["status"] = "pending" if approved else "closed"
        auth["amount"] = amount if approved else 0
        auth["pending_request"] = None
        self._send("issuing_authorization.created", auth)
        return auth

    def _capture(self, auth: dict[str, Any]) -> dict[str, Any]:
        if not auth["approved"] or auth["status"] != "pending":
            raise StripeApiError(
                400, "invalid_request_error", "This authorization cannot be captured."
            )
        auth["status"] = "closed"
        card = self.cards[auth["card"]]
        transaction = {
            "id": "ipi_" + secrets.token_hex(12),
            "object": "issuing.transaction",
            "type": "capture",
            "amount": -auth["amount"],
            "currency": auth["currency"],
            "card": card["id"],
            "authorization": auth["id"],
            "merchant_data": auth["merchant_data"],
            "livemode": False,
        }
        self.transactions[transaction["id"]] = transaction
        card["_payments"] += 1
        count = ((card.get("lifecycle_controls") or {}).get("cancel_after") or {}).get(
            "payment_count"
        )
        if count and card["_payments"] >= int(count):
            card["status"] = "canceled"
        self._send("issuing_transaction.created", transaction)
        return auth

    # -- idempotency and failure injection around the API ------------------------------------

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        params: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append((method, path, dict(headers)))
        failure = self._failures.pop(0) if method == "POST" and self._failures else None
        if failure and failure[2]:
            time.sleep(failure[2])
        if failure and failure[0] == "before" and not failure[2]:
            return failure[1], {"error": {"type": "api_error", "message": "Injected failure."}}, {}
        key = headers.get("idempotency-key")
        fingerprint = hashlib.sha256(
            json.dumps([path, params], sort_keys=True).encode()
        ).hexdigest()
        with self._lock:
            if method == "POST" and key and key in self._idempotency:
                seen, status, body = self._idempotency[key]
                if seen != fingerprint:
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                            }
                        },
                        {},
                    )
                return status, body, {"Idempotent-Replayed": "true"}
        try:
            status, body = self.handle(method, path, query, params, headers)
        except StripeApiError as error:
            status, body = error.status, error.body
        if method == "POST" and key:
            with self._lock:
                self._idempotency[key] = (fingerprint, status, body)
        if failure and failure[0] == "after":
            return failure[1], {"error": {"type": "api_error", "message": "Injected failure."}}, {}
        return status, body, {}


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            query = decode_form(parts.query)
            params = decode_form(body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload, extra = fake.call(method, parts.path, query, params, headers)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(6))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@contextmanager
def running_fake(webhook_url: str | None = None) -> Iterator[FakeStripe]:
    """A fake served on a free loopback port for the length of the block."""
    fake = FakeStripe(webhook_url=webhook_url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield fake


def stripe_env(fake: FakeStripe, *, issued_tokens: bool = False) -> dict[str, str]:
    """A wallet's environment selecting the stripe issuer, pointed at ``fake`` (with the
    issued shared payment tokens preview and Stripe.js cards when ``issued_tokens``)."""
    env = {
        "LINK_WALLET_ISSUER": "stripe",
        "LINK_WALLET_STRIPE_SECRET_KEY": fake.secret_key,
        "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": fake.webhook_secret,
        "LINK_WALLET_STRIPE_API_BASE": fake.url,
    }
    if issued_tokens:
        env["LINK_WALLET_STRIPE_ISSUED_TOKENS"] = "on"
        env["LINK_WALLET_STRIPE_PUBLISHABLE_KEY"] = PUBLISHABLE_KEY
        env["LINK_WALLET_STRIPE_PREVIEW_API_VERSION"] = PREVIEW_API_VERSION
    return env
