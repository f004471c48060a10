"""Stripe's list parameters (``limit``, ``starting_after``, ``ending_before``, ``created``)
validated into :class:`ListParams`, and the list object answered.

Lists are newest first, ordered by (``created``, ``id``) descending, as on Stripe; a cursor
is the id of an object of the list. Every refusal is a 400 ``invalid_request_error`` naming
the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from link_cli.money import is_ascii_digits

from .stripe_errors import invalid_request

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "CreatedRange", "ListParams", "list_object", "parse_list"]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# Year 9999: larger timestamps cannot become a datetime.
_MAX_TIMESTAMP = 253_402_300_799
_CREATED_OPERATORS = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True, slots=True)
class CreatedRange:
    """``created`` bounds in whole seconds since the epoch: ``since <= created < until``."""

    since: int | None = None
    until: int | None = None


@dataclass(frozen=True, slots=True)
class ListParams:
    """A validated list request; at most one of the two cursors is set."""

    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    created: CreatedRange = CreatedRange()


def parse_list(form: Mapping[str, Any], *, tolerated: frozenset[str] = frozenset()) -> ListParams:
    """Validate a decoded query string; raises :class:`StripeError` naming the parameter."""
    allowed = {"limit", "starting_after", "ending_before", "created", "expand"} | tolerated
    unknown = sorted(set(form) - allowed)
    if unknown:
        raise invalid_request(
            f"Received unknown parameter: {unknown[0][:60]}",
            code="parameter_unknown",
            param=unknown[0][:60],
        )
    limit = DEFAULT_LIMIT
    if "limit" in form:
        raw = form["limit"]
        if not isinstance(raw, str) or not is_ascii_digits(raw) or len(raw) > 6:
            raise invalid_request(
                f"Invalid integer: {str(raw)[:40]}", code="parameter_invalid_integer", param="limit"
            )
        limit = int(raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid_request(
                f"This value must be greater than or equal to 1 and less than or equal to "
                f"{MAX_LIMIT}.",
                code="parameter_invalid_integer",
                param="limit",
            )
    after = _cursor(form, "starting_after")
    before = _cursor(form, "ending_before")
    if after is not None and before is not None:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameter_invalid",
            param="ending_before",
        )
    return ListParams(
        limit=limit, starting_after=after, ending_before=before, created=_created(form)
    )


def _cursor(form: Mapping[str, Any], name: str) -> str | None:
    raw = form.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 255:
        raise invalid_request(
            f"Invalid {name}: an object id is expected.", code="parameter_invalid", param=name
        )
    return raw


def _created(form: Mapping[str, Any]) -> CreatedRange:
    raw = form.get("created")
    if raw is None:
        return CreatedRange()
    if isinstance(raw, str):
        exact = _timestamp(raw, "created")
        return CreatedRange(since=exact, until=exact + 1)
    if not isinstance(raw, dict):
        raise invalid_request(
            "Invalid created: an integer or a hash of gt, gte, lt, lte.",
            code="parameter_invalid",
            param="created",
        )
    since: int | None = None
    until: int | None = None
    for operator, value in raw.items():
        if operator not in _CREATED_OPERATORS:
            raise invalid_request(
                f"Received unknown parameter: created[{str(operator)[:20]}]",
                code="parameter_unknown",
                param=f"created[{str(operator)[:20]}]",
            )
        bound = _timestamp(value, f"created[{operator}]")
        if operator in ("gt", "gte"):
            low = bound + 1 if operator == "gt" else bound
            since = low if since is None else max(since, low)
        else:
            high = bound + 1 if operator == "lte" else bound
            until = high if until is None else min(until, high)
    return CreatedRange(since=since, until=until)


def _timestamp(raw: Any, param: str) -> int:
    if not isinstance(raw, str) or not is_ascii_digits(raw) or len(raw) > 12:
        raise invalid_request(
            f"Invalid integer: {str(raw)[:40]}", code="parameter_invalid_integer", param=param
        )
    value = int(raw)
    if value >= _MAX_TIMESTAMP:  # gt/lte add one second, which must stay a datetime
        raise invalid_request(
            f"Invalid timestamp: must be less than {_MAX_TIMESTAMP}.",
            code="parameter_invalid_integer",
            param=param,
        )
    return value


def list_object(url: str, data: Sequence[Mapping[str, Any]], *, has_more: bool) -> dict[str, Any]:
    """Stripe's list object."""
    return {"object": "list", "url": url, "has_more": has_more, "data": [dict(d) for d in data]}
