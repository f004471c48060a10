"""Financial insights as pure rules: list queries, cursor pages, categories, balances.

The wire (contract §3.17, §7.9): ``GET /transactions|/sources|/balances`` take ``limit``
(1–100), ``starting_after`` / ``ending_before`` (an item id; one of them at most),
transactions also ``date_start`` / ``date_end`` (YYYY-MM-DD, inclusive), ``category``,
``origin`` (``link`` | ``external_connection``) and ``sources[]`` (repeatable); balances take
``sources[]``. Every bad value is a 400 naming the parameter, never a 5xx.

Amounts are integers in the currency's minor unit, negative for money leaving the account,
as every other amount of the Link API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from .errors import InvalidRequest

ORIGIN_LINK = "link"
ORIGIN_EXTERNAL = "external_connection"
ORIGINS = (ORIGIN_LINK, ORIGIN_EXTERNAL)
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_SOURCES_FILTER = 50
MAX_PARAM_LENGTH = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z", re.ASCII)
_PARAMS = {
    "transactions": (
        "limit",
        "starting_after",
        "ending_before",
        "date_start",
        "date_end",
        "category",
        "origin",
        "sources[]",
    ),
    "sources": ("limit", "starting_after", "ending_before"),
    "balances": ("limit", "starting_after", "ending_before", "sources[]"),
}

T = TypeVar("T")


@dataclass(frozen=True)
class ListQuery:
    """A validated list request."""

    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    date_start: str | None = None
    date_end: str | None = None
    category: str | None = None
    origin: str | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)


def _bad(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, code="invalid_request", extra={"param": param})


def _date(param: str, value: str) -> str:
    if not _DATE.match(value):
        raise _bad(param, f"{param} must be a date in YYYY-MM-DD format.")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _bad(param, f"{param} is not a calendar date: {value!r}.") from None
    return value


def parse_list_query(kind: str, pairs: Iterable[tuple[str, str]]) -> ListQuery:
    """Validate the query string of ``GET /<kind>``; unknown parameters are ignored."""
    allowed = _PARAMS[kind]
    single: dict[str, str] = {}
    sources: list[str] = []
    for name, value in pairs:
        if name not in allowed:
            continue
        if len(value) > MAX_PARAM_LENGTH:
            raise _bad(name, f"{name} is longer than {MAX_PARAM_LENGTH} characters.")
        if name == "sources[]":
            if not value:
                raise _bad(name, "sources[] must not be empty.")
            if value not in sources:
                sources.append(value)
            if len(sources) > MAX_SOURCES_FILTER:
                raise _bad(name, f"At most {MAX_SOURCES_FILTER} sources may be given.")
            continue
        if name in single:
            raise _bad(name, f"{name} was given more than once.")
        single[name] = value
    limit = DEFAULT_LIMIT
    if "limit" in single:
        raw = single["limit"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise _bad("limit", f"limit must be an integer between 1 and {MAX_LIMIT}.")
        limit = int(raw)
    for cursor in ("starting_after", "ending_before"):
        if cursor in single and not single[cursor]:
            raise _bad(cursor, f"{cursor} must not be empty.")
    if "starting_after" in single and "ending_before" in single:
        raise _bad("ending_before", "Give starting_after or ending_before, not both.")
    date_start = _date("date_start", single["date_start"]) if "date_start" in single else None
    date_end = _date("date_end", single["date_end"]) if "date_end" in single else None
    if date_start and date_end and date_start > date_end:
        raise _bad("date_end", "date_end is before date_start.")
    origin = single.get("origin")
    if origin is not None and origin not in ORIGINS:
        raise _bad("origin", 'origin must be "link" or "external_connection".')
    category = single.get("category")
    if category is not None and not category.strip():
        raise _bad("category", "category must not be empty.")
    return ListQuery(
        limit=limit,
        starting_after=single.get("starting_after"),
        ending_before=single.get("ending_before"),
        date_start=date_start,
        date_end=date_end,
        category=category.strip().lower() if category else None,
        origin=origin,
        sources=tuple(sources),
    )


@dataclass(frozen=True)
class Page:
    """One page of items and whether more lie further in the direction of travel."""

    items: list[Any]
    has_more: bool


def paginate(items: Sequence[T], key: Callable[[T], str], query: ListQuery) -> Page:
    """Cut ``items`` (already in list order) at the query's cursor.

    ``starting_after=X``: the items after X; ``ending_before=Y``: the ``limit`` items just
    before Y, still in list order. An id that is not in the list is a 400 (the same for an
    unknown id and another person's, so nothing leaks).
    """
    ids = [key(item) for item in items]
    cursor = query.starting_after or query.ending_before
    if cursor is None:
        window = list(items[: query.limit])
        return Page(window, len(items) > query.limit)
    try:
        position = ids.index(cursor)
    except ValueError:
        param = "starting_after" if query.starting_after else "ending_before"
        raise _bad(param, f"No such object: {cursor[:MAX_PARAM_LENGTH]!r}.") from None
    if query.starting_after is not None:
        rest = items[position + 1 :]
        return Page(list(rest[: query.limit]), len(rest) > query.limit)
    before = items[:position]
    start = max(0, len(before) - query.limit)
    return Page(list(before[start:]), start > 0)


# Category of a merchant, from words in its name; None when nothing fits (the wire allows it).
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("groceries", ("grocery", "market", "supermarket", "whole foods", "trader joe", "aldi")),
    ("dining", ("restaurant", "cafe", "café", "coffee", "pizza", "bistro", "bar ", "kitchen")),
    ("travel", ("airline", "air ", "hotel", "airbnb", "rail", "train", "travel", "flight")),
    ("transport", ("uber", "lyft", "taxi", "parking", "transit", "fuel", "gas station")),
    ("software", ("cloud", "software", "saas", "github", "hosting", "domain", "api")),
    ("shopping", ("shop", "store", "outdoor", "apparel", "books", "amazon", "mall")),
    ("entertainment", ("cinema", "movie", "music", "spotify", "netflix", "game", "ticket")),
    ("utilities", ("electric", "water", "internet", "phone", "utility", "telecom")),
    ("income", ("payroll", "salary", "deposit", "interest")),
    ("donations", ("donation", "charity", "contribute", "climate")),
)


def derive_category(description: str | None) -> str | None:
    """A lower-case category from the merchant's name or the bank's description."""
    text = f" {(description or '').lower()} "
    for category, words in _CATEGORY_WORDS:
        if any(word in text for word in words):
            return category
    return None


def card_source_name(brand: str, last4: str) -> str:
    """``Visa •••• 4242``."""
    label = {"amex": "American Express", "mastercard": "Mastercard"}.get(brand, brand.title())
    return f"{label} •••• {last4}"


def bank_source_name(institution: str | None, last4: str) -> str:
    """``Chase •••• 6789``; ``Bank account`` when the export names no bank."""
    name = institution or "Bank account"
    return f"{name} •••• {last4}" if last4 and last4 not in name else name


def add_amount(totals: dict[str, int], currency: str, amount: int) -> None:
    """Accumulate ``amount`` under ``currency``."""
    totals[currency] = totals.get(currency, 0) + amount
