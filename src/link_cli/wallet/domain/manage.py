"""Rules of the person's management pages and ``link-wallet`` management commands.

Pure: validation of shipping addresses, phone numbers, nicknames and history filters; when a
connection's "last used" time is worth writing; how a history cell is made safe for a
spreadsheet. Policy: docs/security.md, "Management".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .errors import InvalidRequest
from .text import CONTROL_SINGLE_LINE

__all__ = [
    "ADDRESS_FIELDS",
    "LAST_USED_RESOLUTION",
    "AddressInput",
    "HistoryFilter",
    "csv_cell",
    "history_csv",
    "history_filter",
    "needs_touch",
    "validate_address",
    "validate_nickname",
    "validate_phone",
]

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""A connection's ``last_used_at`` is rewritten at most this often: one write a minute, not
one per request."""


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token use at ``now`` should be recorded as the connection's last use."""
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


# Field name → (label, max length, required). The names are those of contract §7.6.
ADDRESS_FIELDS: dict[str, tuple[str, int, bool]] = {
    "nickname": ("Nickname", 100, False),
    "name": ("Full name", 200, True),
    "line_1": ("Address", 200, True),
    "line_2": ("Apartment, suite (optional)", 200, False),
    "locality": ("City", 100, False),
    "administrative_area": ("State / region", 100, False),
    "postal_code": ("ZIP / postal code", 20, False),
    "country_code": ("Country (2 letters)", 2, True),
}


class AddressValidationError(InvalidRequest):
    """Bad shipping address input; ``field_errors`` maps each field to its problem."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        first = next(iter(field_errors.items()))
        super().__init__(f"{first[0]}: {first[1]}", code="invalid_address")
        self.field_errors = field_errors


@dataclass(frozen=True)
class AddressInput:
    """A validated shipping address (blank optional fields are None)."""

    values: dict[str, str | None]


def validate_address(raw: Mapping[str, str | None]) -> AddressInput:
    """Trim and check every field; raises :class:`AddressValidationError` listing them all."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name, (label, limit, required) in ADDRESS_FIELDS.items():
        value = (raw.get(name) or "").strip()
        if name == "country_code":
            value = value.upper()
            if not re.fullmatch(r"[A-Z]{2}", value):
                errors[name] = "Enter a two-letter country code, such as US."
                continue
        if not value:
            if required:
                errors[name] = f"{label} is required."
            values[name] = None
            continue
        if len(value) > limit:
            errors[name] = f"{label} must have at most {limit} characters."
        elif CONTROL_SINGLE_LINE.search(value):
            errors[name] = f"{label} must not contain control characters."
        values[name] = value
    if errors:
        raise AddressValidationError(errors)
    return AddressInput(values)


MAX_NICKNAME_LENGTH = 100


def validate_nickname(value: str | None) -> str | None:
    """A card nickname, trimmed; None (no nickname) when blank."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_NICKNAME_LENGTH or CONTROL_SINGLE_LINE.search(text):
        raise InvalidRequest(
            f"the nickname must have at most {MAX_NICKNAME_LENGTH} characters and no control "
            "characters",
            code="invalid_nickname",
        )
    return text


_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{3,30}")


def validate_phone(value: str | None) -> str | None:
    """A phone number as people write it (digits, spaces, ``+ ( ) . -``); None when blank."""
    text = (value or "").strip()
    if not text:
        return None
    if not _PHONE.fullmatch(text) or sum(c.isdigit() for c in text) < 4:
        raise InvalidRequest(
            "the phone number may hold only digits, spaces and + ( ) . -", code="invalid_phone"
        )
    return text


@dataclass(frozen=True)
class HistoryFilter:
    """Which spend requests the history shows: all of them when every field is None."""

    status: str | None = None
    since: date | None = None
    until: date | None = None
    merchant: str | None = None

    def matches_merchant(self, *names: str | None) -> bool:
        """Case-insensitive substring match against the request's merchant fields."""
        if not self.merchant:
            return True
        wanted = self.merchant.casefold()
        return any(wanted in name.casefold() for name in names if name)


def _date(value: str | None, name: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{name} must be a date such as 2026-01-31", code="invalid_history_filter"
        ) from None


def history_filter(
    *,
    status: str | None,
    since: str | None,
    until: str | None,
    merchant: str | None,
    statuses: frozenset[str],
) -> HistoryFilter:
    """Parse the filters typed on the history page or given to ``link-wallet history``."""
    wanted = (status or "").strip().lower() or None
    if wanted is not None and wanted not in statuses:
        raise InvalidRequest(
            f"status must be one of {', '.join(sorted(statuses))}", code="invalid_history_filter"
        )
    first, last = _date(since, "since"), _date(until, "until")
    if first and last and first > last:
        raise InvalidRequest("since must not be after until", code="invalid_history_filter")
    text = (merchant or "").strip()
    if len(text) > 200 or CONTROL_SINGLE_LINE.search(text):
        raise InvalidRequest("merchant filter is not valid", code="invalid_history_filter")
    return HistoryFilter(status=wanted, since=first, until=last, merchant=text or None)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text, never runs as a formula.

    Cells starting with ``= + - @`` (or a tab or carriage return, which some spreadsheets
    skip before those) get a leading apostrophe (OWASP "CSV injection"). Agent-typed text
    such as merchant names and context reaches the export, so this applies to every cell;
    numbers are written as they are (amounts in minor units are never negative here).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def history_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Rows as CSV (RFC 4180 quoting by the csv module): a header, then one formula-safe
    line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return out.getvalue()
