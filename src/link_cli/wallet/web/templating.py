"""The Jinja2 environment of the wallet's pages (autoescaped; shared with ``approvals``).

Globals: ``csrf_token(request)``. Filters: ``money(amount, currency)`` for minor units,
``brand`` for a card brand's display name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from .csrf import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "ugx", "xof", "xaf"}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
}


def format_money(amount: int | None, currency: str | None = "usd") -> str:
    """``1234, "usd"`` → ``$12.34``; unknown currencies as ``12.34 XYZ``."""
    if amount is None:
        return "—"
    code = (currency or "usd").lower()
    sign = "-" if amount < 0 else ""
    value = abs(int(amount))
    number = f"{value:,}" if code in _ZERO_DECIMAL else f"{value // 100:,}.{value % 100:02d}"
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code.upper()}"


def brand_name(brand: str | None) -> str:
    """Display name of a card brand."""
    return _BRANDS.get((brand or "").lower(), (brand or "Card").title())


def make_templates() -> Jinja2Templates:
    """The configured template renderer (``app.state.templates``)."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.filters["money"] = format_money
    templates.env.filters["brand"] = brand_name
    return templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    """Render template ``name`` with ``context`` (``request`` is always available)."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context or {}, status_code=status)
