"""The "add a card" page. The number and CVC are never echoed back into the page.

With a Stripe publishable key (stripe issuer, docs/issuers.md) the page tokenises the card
with Stripe.js instead: the number goes from the browser to Stripe only, the wallet receives
and keeps the PaymentMethod id (``pm_…``), and a posted card number is refused."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..access_log import SECURITY_HEADERS
from ..deps import Cipher, DbSession, Form, Now
from ..domain.cards import CardValidationError, validate_card, validate_tokenised_card
from ..domain.errors import WalletError
from ..store import accounts
from .csrf import verify_csrf
from .session import PersonSession
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

CARD_FIELDS = (
    "number", "exp_month", "exp_year", "cvc", "name", "line1", "line2",
    "city", "state", "postal_code", "country", "nickname",
)  # fmt: skip
_SECRET_FIELDS = {"number", "cvc"}
STRIPE_JS = "https://js.stripe.com"
_STRIPE_API = "https://api.stripe.com"


def publishable_key(request: Request) -> str | None:
    """The Stripe publishable key when cards are tokenised with Stripe.js, else None."""
    settings = request.app.state.settings.issuer
    return settings.publishable_key if settings.kind == "stripe" else None


def stripe_content_security_policy() -> str:
    """The wallet's policy plus Stripe.js: its script and card frames from js.stripe.com, its
    calls to api.stripe.com. Only the Stripe.js add-card page sends it."""
    policy = dict(SECURITY_HEADERS)[b"content-security-policy"].decode("ascii")
    extra = {
        "script-src": STRIPE_JS,
        "frame-src": STRIPE_JS,
        "connect-src": _STRIPE_API,
    }
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    for name, origin in extra.items():
        index = next((i for i, d in enumerate(directives) if d.split()[0] == name), None)
        if index is None:
            directives.append(f"{name} 'self' {origin}")
        else:
            directives[index] = f"{directives[index]} {origin}"
    return "; ".join(directives)


def _stripe_page(
    request: Request, person: object, key: str, values: dict[str, str], errors: dict[str, str]
) -> Response:
    context = {"person": person, "values": values, "errors": errors, "publishable_key": key}
    response = render(request, "cards_new_stripe.html", context, status=400 if errors else 200)
    response.headers["content-security-policy"] = stripe_content_security_policy()
    return response


@router.get("/wallet/cards/new")
def new_card_page(request: Request, person: PersonSession) -> Response:
    """An empty card form (Stripe.js card field in stripe mode with a publishable key)."""
    key = publishable_key(request)
    if key is not None:
        return _stripe_page(request, person, key, {"country": "US"}, {})
    return render(request, "cards_new.html", {"person": person, "values": {"country": "US"}})


@router.post("/wallet/cards/new")
def add_card(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now, cipher: Cipher
) -> Response:
    """Validate and store the card; on errors re-render the form with per-field messages."""
    verify_csrf(request, form)
    raw = {name: str(form.get(name) or "") for name in CARD_FIELDS}
    key = publishable_key(request)
    if key is not None:
        return _add_tokenised(request, person, form, db, now, key, raw)
    try:
        card = validate_card(raw, today=now.date())
    except CardValidationError as exc:
        values = {k: v for k, v in raw.items() if k not in _SECRET_FIELDS}
        return render(
            request,
            "cards_new.html",
            {"person": person, "values": values, "errors": exc.field_errors},
            status=400,
        )
    accounts.add_card(
        db,
        user_id=person.id,
        card=card,
        cipher=cipher,
        now=now,
        make_default=form.get("make_default") == "1",
    )
    return RedirectResponse("/wallet?added=1", status_code=303)


def _add_tokenised(
    request: Request,
    person: PersonSession,
    form: Form,
    db: DbSession,
    now: Now,
    key: str,
    raw: dict[str, str],
) -> Response:
    """Store a card Stripe.js tokenised: brand, last four and expiry as Stripe reports them."""
    raw["payment_method"] = str(form.get("payment_method") or "")
    values = {k: v for k, v in raw.items() if k not in _SECRET_FIELDS | {"payment_method"}}
    try:
        card = validate_tokenised_card(raw)
        method = request.app.state.issuer.payment_method(card.payment_method)
    except CardValidationError as exc:
        return _stripe_page(request, person, key, values, exc.field_errors)
    except WalletError as exc:  # Stripe refused or did not answer: nothing was stored
        return _stripe_page(request, person, key, values, {"payment_method": exc.message})
    try:
        accounts.add_stripe_card(
            db,
            user_id=person.id,
            card=card,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
            now=now,
            make_default=form.get("make_default") == "1",
        )
    except WalletError as exc:  # this pm_ is already someone's card
        return _stripe_page(request, person, key, values, {"payment_method": exc.message})
    return RedirectResponse("/wallet?added=1", status_code=303)
