"""The shop's pages: the catalogue, a card checkout and the order confirmation.

The checkout form posts card details once; the shop settles them at the wallet and shows
either the confirmation or the decline reason. Like a Stripe-hosted checkout, it also carries
a hidden agent block (``AiAgentPaymentSteering``, shown once "I am an AI agent" is ticked)
with the shop's merchant account (``data-stripe-merchant-account``) and a
``link_pay_token`` input: an agent pays with a Link Pay Token it never has to turn into a
card number, and the shop redeems it at the wallet. The card number is never rendered back,
logged or stored: an order keeps only the brand-less last four digits. Forms are protected
by a double-submit CSRF token: a random cookie (``SameSite=Strict``, ``HttpOnly``) and a
hidden field holding its HMAC, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from link_cli.money import format_amount

from .catalog import PRODUCTS, Product, find_product
from .config import MerchantConfig
from .settlement import CardDetails, Declined, Settled, SettlementClient, WalletUnavailable

__all__ = ["Checkout"]

CSRF_COOKIE = "shop_csrf"
_MAX_ORDERS = 1000
_TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "postal_code", "country")
_ORDER_REF = re.compile(r"[A-Za-z0-9]{16,64}\Z")
_LINK_PAY_TOKEN = re.compile(r"lpt_[A-Za-z0-9]{8,64}\Z")


@dataclass(frozen=True)
class Order:
    """A paid order as the confirmation page shows it."""

    id: str
    product: Product
    amount_text: str
    card_last4: str
    ship_to: str
    payment_intent: str
    created: datetime


class _Orders:
    """Recent orders in memory, bounded (a demo shop keeps no database)."""

    def __init__(self) -> None:
        self._orders: OrderedDict[str, Order] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, order: Order) -> None:
        with self._lock:
            self._orders[order.id] = order
            while len(self._orders) > _MAX_ORDERS:
                self._orders.popitem(last=False)

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            return self._orders.get(order_id)


class Checkout:
    """Routes of the human-facing shop."""

    def __init__(self, config: MerchantConfig, wallet: SettlementClient) -> None:
        self._config = config
        self._wallet = wallet
        self._orders = _Orders()
        self._merchant_account: str | None = None
        # The configured name until the wallet says what the shop is registered as.
        self._shop_name = config.name

    async def merchant_account(self) -> str | None:
        """The shop's merchant account id, asked of the wallet once; None while the wallet
        cannot say, or for a test-mode shop (Link Pay Tokens are live only). The same answer
        gives the name the shop is registered under, which its pages then show: payers see
        that name on the wallet's approval page too."""
        if self._merchant_account is None:
            try:
                account = await self._wallet.account()
            except WalletUnavailable:
                return None
            # "" remembers a test-mode shop, which never shows the agent block.
            self._merchant_account = account.id if account.livemode else ""
            if account.name:
                self._shop_name = account.name[:200]
        return self._merchant_account or None

    # -- CSRF -------------------------------------------------------------------------

    def _csrf_for(self, cookie: str) -> str:
        return hmac.new(self._config.cookie_secret, cookie.encode(), hashlib.sha256).hexdigest()

    def _csrf_ok(self, request: Request, submitted: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(cookie) and hmac.compare_digest(self._csrf_for(cookie), submitted)

    def _render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        context.update(shop=self._shop_name, csrf_token=self._csrf_for(cookie))
        response = _TEMPLATES.TemplateResponse(request, template, context, status_code=status)
        response.set_cookie(
            CSRF_COOKIE,
            cookie,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'"
        )
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    # -- routes -----------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        """The catalogue."""
        await self.merchant_account()
        items = [(p, format_amount(p.price, self._config.currency)) for p in PRODUCTS]
        return self._render(request, "index.html", items=items)

    async def checkout_form(self, request: Request) -> Response:
        """The card form for ``?item=<sku>``."""
        product = find_product(request.query_params.get("item"))
        if product is None:
            return self._render(request, "missing.html", status=404)
        return await self._form(request, product)

    async def _form(
        self,
        request: Request,
        product: Product,
        *,
        error: str | None = None,
        error_code: str | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
        order_ref: str | None = None,
    ) -> Response:
        return self._render(
            request,
            "checkout.html",
            status=status,
            product=product,
            price=format_amount(product.price, self._config.currency),
            error=error,
            error_code=error_code,
            values=values or {},
            # A fresh reference per rendered form: resubmitting the same form replays the
            # wallet's answer instead of charging twice (Idempotency-Key).
            order_ref=order_ref or secrets.token_hex(16),
            merchant_account=await self.merchant_account(),
        )

    async def place_order(self, request: Request) -> Response:
        """Settle the posted card at the wallet; confirmation (303) or the form with the reason."""
        form = await request.form()
        fields = {key: str(form.get(key, "")).strip()[:200] for key in _FORM_FIELDS}
        product = find_product(fields["item"])
        if product is None:
            return self._render(request, "missing.html", status=404)
        if not self._csrf_ok(request, fields["csrf_token"]):
            return self._render(request, "forbidden.html", status=403)
        if fields["link_pay_token"]:
            return await self._pay_with_link(request, product, fields)
        keep = {key: fields[key] for key in _ADDRESS_FIELDS}
        problem = _check_fields(fields)
        if problem is not None or not _ORDER_REF.match(fields["order_ref"]):
            return await self._form(
                request, product, error=problem or "Please try again.", values=keep, status=422
            )
        number = re.sub(r"[\s-]", "", fields["number"])
        if number in PUBLIC_TEST_CARDS:
            # Never sent to the wallet: it cannot be a card the wallet issued.
            return await self._form(
                request,
                product,
                error=public_test_card_text(number),
                error_code="public_test_card",
                values=keep,
                status=402,
            )
        month, _, year = fields["expiry"].partition("/")
        card = CardDetails(
            number=number,
            exp_month=month.strip(),
            exp_year=year.strip(),
            cvc=fields["cvc"],
        )
        try:
            settled = await self._wallet.charge_card(
                amount=product.price,
                currency=self._config.currency,
                card=card,
                idempotency_key=f"checkout_{fields['order_ref']}",
                billing={key: fields[key] for key in _ADDRESS_FIELDS},
                metadata={"order_ref": fields["order_ref"], "sku": product.sku},
            )
        except Declined as declined:
            return await self._form(
                request,
                product,
                error=_decline_text(declined),
                error_code=declined.decline_code or declined.code,
                values=keep,
                status=402,
            )
        except WalletUnavailable as exc:
            # The same order reference is kept: paying again settles this order at most
            # once, even if the wallet did charge the card before the connection broke.
            outcome = (
                "Your card may have been charged; paying again will not charge it twice."
                if exc.maybe_processed
                else "Your card was not charged."
            )
            return await self._form(
                request,
                product,
                error=f"Payments are unavailable right now. {outcome} Please try again.",
                values=keep,
                status=503,
                order_ref=fields["order_ref"],
            )
        return self._confirm(
            product,
            settled,
            card_last4=card.number[-4:],
            ship_to=", ".join(v for v in (fields["name"], fields["city"], fields["country"]) if v),
        )

    async def _pay_with_link(
        self, request: Request, product: Product, fields: dict[str, str]
    ) -> Response:
        """Redeem the Link Pay Token an agent put into the agent block."""
        if not _LINK_PAY_TOKEN.match(fields["link_pay_token"]) or not _ORDER_REF.match(
            fields["order_ref"]
        ):
            return await self._form(
                request, product, error="Enter the Link Pay Token (lpt_…).", status=422
            )
        try:
            settled = await self._wallet.charge_link_pay_token(
                amount=product.price,
                currency=self._config.currency,
                token=fields["link_pay_token"],
                idempotency_key=f"checkout_{fields['order_ref']}",
                metadata={"order_ref": fields["order_ref"], "sku": product.sku},
            )
        except Declined as declined:
            return await self._form(
                request,
                product,
                error=_decline_text(declined),
                error_code=declined.code,
                status=402,
            )
        except WalletUnavailable:
            return await self._form(
                request,
                product,
                error="Payments are unavailable right now. Please try again.",
                status=503,
                order_ref=fields["order_ref"],
            )
        return self._confirm(product, settled, card_last4="", ship_to="")

    def _confirm(
        self, product: Product, settled: Settled, *, card_last4: str, ship_to: str
    ) -> Response:
        order = Order(
            id="ord_" + secrets.token_hex(12),
            product=product,
            amount_text=format_amount(product.price, self._config.currency),
            card_last4=card_last4,
            ship_to=ship_to,
            payment_intent=settled.id,
            created=datetime.now(UTC),
        )
        self._orders.add(order)
        return RedirectResponse(f"/orders/{order.id}", status_code=303)

    async def order(self, request: Request) -> Response:
        """The confirmation page of one order (ids are unguessable)."""
        order = self._orders.get(request.path_params["order_id"])
        if order is None:
            return self._render(request, "missing.html", status=404)
        return self._render(request, "confirmation.html", order=order)


_FORM_FIELDS = (
    "csrf_token",
    "order_ref",
    "item",
    "number",
    "expiry",
    "cvc",
    "link_pay_token",
    *_ADDRESS_FIELDS,
)


def _check_fields(fields: dict[str, str]) -> str | None:
    """A message for the first missing or malformed field (never echoing card data)."""
    if not re.fullmatch(r"[0-9 \-]{12,23}", fields["number"]):
        return "Enter the 12–19 digit card number."
    if not re.fullmatch(r"(0?[1-9]|1[0-2])\s*/\s*([0-9]{2}|[0-9]{4})", fields["expiry"]):
        return "Enter the expiry as MM/YY."
    if not re.fullmatch(r"[0-9]{3,4}", fields["cvc"]):
        return "Enter the 3 or 4 digit security code."
    for key, label in (
        ("name", "name on the card"),
        ("line1", "street address"),
        ("country", "country"),
    ):
        if not fields[key]:
            return f"Enter the {label}."
    return None


ONLY_ISSUED_CARDS = (
    "This shop accepts only the one-time virtual cards a Link wallet issues for an approved "
    "purchase: have your agent create a spend request, approve it in your wallet, and pay "
    "with the card it retrieves."
)

# Card numbers published in payment providers' test documentation (Stripe's among them):
# anyone may type them, and no wallet ever issues them.
PUBLIC_TEST_CARDS = frozenset(
    {
        "4242424242424242",
        "4000056655665556",
        "4000002500003155",
        "4000002760003184",
        "4000000000003220",
        "4000000000000002",
        "4000000000009995",
        "4000000000000069",
        "4000000000000127",
        "4000000000000119",
        "4000000000000077",
        "4100000000000019",
        "4111111111111111",
        "5555555555554444",
        "2223003122003222",
        "5200828282828210",
        "5105105105105100",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
        "6011000990139424",
        "3056930009020004",
        "36227206271667",
        "3566002020360505",
        "6200000000000005",
    }
)


def public_test_card_text(number: str) -> str:
    """Why a public test card number is refused, naming only its last four digits."""
    return (
        f"The card ending {number[-4:]} is a public test card number, which no wallet "
        f"issues. {ONLY_ISSUED_CARDS}"
    )


def _decline_text(declined: Declined) -> str:
    """What the shopper reads: the wallet's reason, already sanitised by the client; a
    number the wallet does not know gets the shop's rule explained."""
    text = f"Payment declined: {declined.message}"
    if declined.code == "incorrect_number" or declined.decline_code == "incorrect_number":
        text += " " + ONLY_ISSUED_CARDS
    return text
