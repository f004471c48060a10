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

from link_cli.money import format_amount

from .csrf import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
}


def format_money(amount: int | None, currency: str | None = "usd") -> str:
    """The ``money`` filter: :func:`~link_cli.money.format_amount`, with ``—`` for no amount."""
    if amount is None:
        return "—"
    return format_amount(int(amount), currency or "usd")


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
