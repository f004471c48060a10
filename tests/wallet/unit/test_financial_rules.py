"""Financial insights as pure rules: query parsing, cursor pages, statement import (CSV, OFX)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_cli.wallet.domain.errors import InvalidRequest
from link_cli.wallet.domain.financial import (
    MAX_LIMIT,
    ListQuery,
    derive_category,
    paginate,
    parse_list_query,
)
from link_cli.wallet.domain.statements import (
    ImportRefused,
    csv_amount,
    parse_csv,
    parse_ofx,
    parse_statement,
)

OFX = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261201120000
<LANGUAGE>ENG<FI><ORG>Acme Bank<FID>123</FI></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING
</BANKACCTFROM><BANKTRANLIST><DTSTART>20261101<DTEND>20261130
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261105<TRNAMT>-12.34<FITID>A1<NAME>Corner Coffee</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261110<TRNAMT>1000.00<FITID>A2<NAME>Payroll</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261110<TRNAMT>1000.00<FITID>A2<NAME>Payroll</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>2500.10<DTASOF>20261130</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


# -- query parsing ---------------------------------------------------------------------


def test_a_full_query_is_read_in_the_wire_names() -> None:
    query = parse_list_query(
        "transactions",
        [
            ("limit", "5"),
            ("starting_after", "pi_1"),
            ("date_start", "2026-01-01"),
            ("date_end", "2026-01-31"),
            ("category", " Dining "),
            ("origin", "link"),
            ("sources[]", "a"),
            ("sources[]", "b"),
            ("sources[]", "a"),
            ("start_date", "ignored"),
        ],
    )
    assert query == ListQuery(
        limit=5,
        starting_after="pi_1",
        date_start="2026-01-01",
        date_end="2026-01-31",
        category="dining",
        origin="link",
        sources=("a", "b"),
    )


def test_sources_take_no_transaction_filters() -> None:
    assert parse_list_query("sources", [("origin", "nonsense")]) == ListQuery()


@given(st.lists(st.tuples(st.sampled_from(
    ["limit", "starting_after", "ending_before", "date_start", "date_end", "category",
     "origin", "sources[]", "other"]), st.text(max_size=120)), max_size=8))  # fmt: skip
def test_any_query_string_is_a_query_or_a_400_naming_the_parameter(pairs) -> None:
    try:
        query = parse_list_query("transactions", pairs)
    except InvalidRequest as error:
        assert error.status == 400 and error.extra["param"]
        return
    assert 1 <= query.limit <= MAX_LIMIT
    assert not (query.starting_after and query.ending_before)
    assert query.origin in (None, "link", "external_connection")


@pytest.mark.parametrize("value", ["0", "101", "-1", "1.5", "1e2", "", "１"])
def test_a_limit_outside_1_to_100_is_refused(value: str) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        parse_list_query("sources", [("limit", value)])


# -- cursor pages ----------------------------------------------------------------------


@given(st.integers(0, 30), st.integers(1, 7))
def test_walking_forward_then_backward_visits_every_item_once(size: int, limit: int) -> None:
    items = [f"id{i:02}" for i in range(size)]
    forward: list[str] = []
    cursor: str | None = None
    while True:
        page = paginate(items, str, ListQuery(limit=limit, starting_after=cursor))
        forward += page.items
        if not page.has_more:
            break
        cursor = page.items[-1]
    assert forward == items
    backward: list[str] = []
    if items:
        before = items[-1]
        backward = [before]
        while True:
            page = paginate(items, str, ListQuery(limit=limit, ending_before=before))
            backward = page.items + backward
            if not page.has_more:
                break
            before = page.items[0]
        assert backward == items


def test_an_unknown_cursor_is_a_400() -> None:
    with pytest.raises(InvalidRequest, match="No such object"):
        paginate(["a"], str, ListQuery(starting_after="b"))


def test_categories_come_from_the_merchant_or_are_none() -> None:
    assert derive_category("Corner Coffee") == "dining"
    assert derive_category("Galtee Outdoor") == "shopping"
    assert derive_category("Zzyzx LLC") is None


# -- statement import ------------------------------------------------------------------


def test_an_ofx_statement_becomes_lines_a_balance_and_an_account() -> None:
    statement = parse_ofx(OFX)
    assert (statement.institution, statement.account_last4, statement.currency) == (
        "Acme Bank",
        "6789",
        "usd",
    )
    assert (statement.ledger_balance, statement.ledger_as_of) == (250010, "2026-11-30")
    assert [(x.external_id, x.posted, x.amount, x.category) for x in statement.lines] == [
        ("A1", "2026-11-05", -1234, "dining"),
        ("A2", "2026-11-10", 100000, "income"),
    ]
    assert parse_statement(OFX, filename="x.csv", account_name=None, currency=None) == statement


def test_a_csv_with_debit_and_credit_columns_and_duplicates() -> None:
    data = (
        "Posting Date;Payee;Debit;Credit\n03/01/2026;Corner Coffee;4,50;\n".replace("4,50", "4.50")
        + "03/02/2026;Refund;;10.00\n"
        "03/02/2026;Refund;;10.00\n"
    ).encode()
    statement = parse_csv(data, account_name="Checking 1234", currency="usd")
    assert [(x.posted, x.amount, x.description) for x in statement.lines] == [
        ("2026-03-01", -450, "Corner Coffee"),
        ("2026-03-02", 1000, "Refund"),
        ("2026-03-02", 1000, "Refund"),
    ]
    assert len({x.external_id for x in statement.lines}) == 3
    assert statement.account_last4 == "1234"
    again = parse_csv(data, account_name="checking 1234", currency="usd")
    assert again.account_key == statement.account_key  # same account on re-import


@pytest.mark.parametrize(
    ("raw", "minor"),
    [("-1,234.56", -123456), ("$12.00", 1200), ("(3.10)", -310), ("+7", 700)],
)
def test_csv_amounts(raw: str, minor: int) -> None:
    assert csv_amount(raw, "usd", "line 2") == minor


@pytest.mark.parametrize("raw", ["1.234", "abc", "1e5", "NaN", "9" * 20])
def test_csv_amounts_that_are_not_amounts(raw: str) -> None:
    with pytest.raises(ImportRefused):
        csv_amount(raw, "usd", "line 2")


@given(st.binary(max_size=2000))
def test_any_bytes_import_or_are_refused_with_a_clear_error(data: bytes) -> None:
    for name in ("x.csv", "x.ofx"):
        try:
            statement = parse_statement(data, filename=name, account_name="A", currency="usd")
        except ImportRefused as error:
            assert error.status == 400 and error.message
            continue
        for line in statement.lines:
            assert len(line.posted) == 10 and len(line.description) <= 200


_CELL = st.text(alphabet=string.ascii_letters + string.digits + " ,.;\"'-$()/", max_size=30)


@given(st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=15))
def test_any_csv_rows_import_or_are_refused(rows) -> None:
    text = "Date,Description,Amount\n" + "\n".join(",".join(row) for row in rows)
    try:
        statement = parse_csv(text.encode(), account_name=None, currency="usd")
    except ImportRefused as error:
        assert error.message
        return
    assert statement.institution == "Bank account"
    assert len({line.external_id for line in statement.lines}) == len(statement.lines)


@given(
    st.lists(
        st.tuples(
            st.dates().map(lambda d: d.isoformat()),
            st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=20),
            st.integers(-(10**9), 10**9),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_well_formed_csv_rows_round_trip(rows) -> None:
    lines = [
        f"{day},{name},{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02}"
        for day, name, cents in rows
    ]
    text = "Date,Description,Amount\n" + "\n".join(lines) + "\n"
    statement = parse_csv(text.encode(), account_name="Mine", currency="usd")
    kept = [(d, " ".join(n.split()) or "Transaction", c) for d, n, c in rows]
    assert [(x.posted, x.description, x.amount) for x in statement.lines] == kept
