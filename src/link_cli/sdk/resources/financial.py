"""Financial-insights pages: transactions, sources, balances (contract §3.17, §7.9).

Query parameters keep the official order and spelling (``date_start``, ``sources[]`` as
``sources%5B%5D``). Pages must be objects whose ``data`` is an array of objects and whose
``has_more``, when present, is a boolean; transactions are validated field by field and
unknown per-item fields dropped. Violations raise ``Failed to list <x> (<status>):
invalid response shape: <reason>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient, Query
from link_cli.sdk.resources._shapes import invalid_shape

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.types import Page

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _page(
    body: Any, name: str, operation: str, *, allow_bare_array: bool = False
) -> dict[str, Any]:
    if allow_bare_array and isinstance(body, list):
        body = {"data": body}
    if not isinstance(body, dict):
        raise invalid_shape(operation, "Expected response body to be an object")
    data = body.get("data")
    if not isinstance(data, list):
        raise invalid_shape(operation, f"Expected {name} to be an array")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise invalid_shape(operation, f"Expected {name}[{index}] to be an object")
    if "has_more" in body and not isinstance(body["has_more"], bool):
        raise invalid_shape(operation, "Expected has_more to be a boolean")
    # Extra server fields first, then data, then has_more (contract §3.17).
    page = {key: value for key, value in body.items() if key not in ("data", "has_more")}
    page["data"] = data
    if "has_more" in body:
        page["has_more"] = body["has_more"]
    return page


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_amount(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_TRANSACTION_FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "id": (_is_str, "a string"),
    "source_id": (_is_optional_str, "a string or null"),
    "amount": (_is_amount, "a finite number"),
    "currency": (_is_str, "a string"),
    "created_date": (lambda v: isinstance(v, str) and bool(_DATE.match(v)), "a YYYY-MM-DD date"),
    "description": (_is_str, "a string"),
    "origin": (lambda v: v in ("link", "external_connection"), '"link" or "external_connection"'),
    "category": (_is_optional_str, "a string or null"),
    "status": (_is_str, "a string"),
}


def _transaction(item: dict[str, Any], index: int, operation: str) -> dict[str, Any]:
    for field, (check, expected) in _TRANSACTION_FIELDS.items():
        if field not in item or not check(item[field]):
            raise invalid_shape(
                operation, f"Expected transactions[{index}].{field} to be {expected}"
            )
    return {field: item.get(field) for field in _TRANSACTION_FIELDS}


def _get_page(
    http: HttpClient, name: str, query: Query, *, allow_bare_array: bool = False
) -> tuple[dict[str, Any], str]:
    """``GET /<name>`` as a validated page (not yet sanitised) and its operation name."""
    operation = f"list {name}"
    body = http.call(
        "GET", f"/{name}", family=ErrorFamily.ACCOUNT, operation=operation, query=query
    )
    return _page(body, name, operation, allow_bare_array=allow_bare_array), operation


def _cursor_query(
    limit: int | None, starting_after: str | None, ending_before: str | None
) -> Query:
    return [("limit", limit), ("starting_after", starting_after), ("ending_before", ending_before)]


def _sources_query(sources: Iterable[str]) -> Query:
    return [("sources[]", source) for source in sources]


class Transactions:
    """Card and bank transactions across the person's sources ([beta])."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        date_start: str | None = None,
        date_end: str | None = None,
        category: str | None = None,
        origin: str | None = None,
        sources: Iterable[str] = (),
    ) -> Page:
        """``GET /transactions`` → a validated page (amounts negative for money leaving)."""
        query = [
            *_cursor_query(limit, starting_after, ending_before),
            ("date_start", date_start),
            ("date_end", date_end),
            ("category", category),
            ("origin", origin),
            *_sources_query(sources),
        ]
        page, operation = _get_page(self._http, "transactions", query, allow_bare_array=True)
        page["data"] = [_transaction(item, i, operation) for i, item in enumerate(page["data"])]
        transactions: Page = sanitize_deep(page)
        return transactions


class Sources:
    """Connected sources (cards, bank accounts) ([beta])."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> Page:
        """``GET /sources`` → a page of loosely typed sources."""
        query = _cursor_query(limit, starting_after, ending_before)
        sources: Page = sanitize_deep(_get_page(self._http, "sources", query)[0])
        return sources


class Balances:
    """Balances of connected sources ([beta])."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(
        self,
        *,
        sources: Iterable[str] = (),
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> Page:
        """``GET /balances`` → a page of loosely typed balances."""
        query = [*_sources_query(sources), *_cursor_query(limit, starting_after, ending_before)]
        balances: Page = sanitize_deep(_get_page(self._http, "balances", query)[0])
        return balances
