"""The pure rules of management (wallet/domain/manage.py): CSV cells, addresses, phones,
nicknames, history filters and the last-used write interval."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.manage import (
    AddressValidationError,
    csv_cell,
    history_csv,
    history_filter,
    needs_touch,
    validate_address,
    validate_nickname,
    validate_phone,
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Shop = fine", "Shop = fine"),
        (None, ""),
        (1200, "1200"),
        (True, "true"),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_history_csv_quotes_commas_quotes_and_newlines() -> None:
    rows = [{"a": 'x, "y"\nz', "b": "=HYPERLINK(1)"}]
    text = history_csv(rows, ["a", "b"])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ['x, "y"\nz', "'=HYPERLINK(1)"]]


def test_address_validation_lists_every_problem() -> None:
    with pytest.raises(AddressValidationError) as caught:
        validate_address({"name": " ", "line_1": "x" * 201, "country_code": "USA"})
    assert set(caught.value.field_errors) == {"name", "line_1", "country_code"}
    assert caught.value.code == "invalid_address"
    ok = validate_address({"name": " Jo ", "line_1": "1 St", "country_code": "de"})
    assert ok.values["name"] == "Jo" and ok.values["country_code"] == "DE"
    assert ok.values["line_2"] is None


def test_address_refuses_bidi_overrides() -> None:
    with pytest.raises(AddressValidationError):
        validate_address({"name": "Jo\u202e", "line_1": "1 St", "country_code": "US"})


def test_phone_and_nickname() -> None:
    assert validate_phone(" +1 (555) 010-0100 ") == "+1 (555) 010-0100"
    assert validate_phone("") is None
    for bad in ("call me", "12", "+1 555\n0100", "=1+2"):
        with pytest.raises(InvalidRequest):
            validate_phone(bad)
    assert validate_nickname("  ") is None
    with pytest.raises(InvalidRequest):
        validate_nickname("a" * 101)


def test_history_filter_parsing() -> None:
    statuses = frozenset({"approved", "denied"})
    parsed = history_filter(
        status=" Approved ", since="2026-01-01", until="2026-01-31", merchant=" Books ",
        statuses=statuses,
    )  # fmt: skip
    assert parsed.status == "approved" and parsed.since == date(2026, 1, 1)
    assert parsed.matches_merchant(None, "Corner BOOKS") and not parsed.matches_merchant("Cafe")
    for bad in (
        {"status": "weird"},
        {"since": "yesterday"},
        {"since": "2026-02-01", "until": "2026-01-01"},
    ):
        args = {"status": None, "since": None, "until": None, "merchant": None, **bad}
        with pytest.raises(InvalidRequest):
            history_filter(**args, statuses=statuses)


def test_last_used_is_written_at_most_once_a_minute() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert needs_touch(None, now)
    assert not needs_touch(now - timedelta(seconds=59), now)
    assert needs_touch(now - timedelta(seconds=60), now)
