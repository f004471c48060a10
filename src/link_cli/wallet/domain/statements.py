"""Bank statement exports (CSV, OFX/QFX) turned into transactions the wallet can store.

OFX is read by ``ofxtools`` (SGML 1.x and XML 2.x); CSV by the standard library, with the
column names banks commonly use. Everything a file says is untrusted: sizes, counts, text
lengths, dates and amounts are bounded, and any problem is an :class:`ImportRefused` (400)
naming the line or element, never an exception from deep inside a parser.

Amounts become integers in the currency's minor unit (negative = money leaving the account).
Each transaction carries a stable ``external_id`` (the bank's FITID, a CSV id column, or a
digest of the row) so importing the same export twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from link_cli.money import CURRENCY_DECIMALS

from .errors import InvalidRequest
from .financial import derive_category

MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_TRANSACTIONS = 5000
MAX_DESCRIPTION = 200
MAX_CATEGORY = 50
MAX_ABS_MINOR = 10**12
_ACCOUNT_DIGITS = re.compile(r"\d")


class ImportRefused(InvalidRequest):
    """The file is not a statement this wallet can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="import_invalid")


@dataclass(frozen=True)
class StatementLine:
    external_id: str
    posted: str  # YYYY-MM-DD
    amount: int
    description: str
    category: str | None


@dataclass(frozen=True)
class Statement:
    """One account's transactions, and what the file says about the account."""

    institution: str | None
    account_last4: str
    account_key: str  # stable identity of the account within the person's wallet
    currency: str
    ledger_balance: int | None
    ledger_as_of: str | None  # YYYY-MM-DD
    lines: tuple[StatementLine, ...]


def to_minor(value: Decimal | str, currency: str, where: str) -> int:
    """A decimal amount in ``currency`` as an integer of its minor unit."""
    try:
        number = Decimal(value) if isinstance(value, str) else value
    except InvalidOperation:
        raise ImportRefused(f"{where}: {str(value)[:40]!r} is not an amount.") from None
    if not number.is_finite():
        raise ImportRefused(f"{where}: the amount is not a number.")
    scaled = number.scaleb(CURRENCY_DECIMALS[currency])
    if scaled != scaled.to_integral_value():
        raise ImportRefused(f"{where}: {number} has more decimals than {currency.upper()} allows.")
    minor = int(scaled)
    if abs(minor) > MAX_ABS_MINOR:
        raise ImportRefused(f"{where}: the amount is too large.")
    return minor


def _clean(text: str | None, limit: int) -> str:
    return " ".join("".join(ch for ch in (text or "") if ch.isprintable()).split())[:limit]


def _currency(raw: str | None, where: str) -> str:
    code = (raw or "").strip().lower()
    if code not in CURRENCY_DECIMALS:
        raise ImportRefused(f"{where}: {code[:10]!r} is not a currency this wallet knows.")
    return code


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def detect_format(data: bytes, filename: str) -> str:
    """``"ofx"`` or ``"csv"``, from the content first, the file name second."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if head.startswith(b"OFXHEADER") or b"<OFX>" in head or head.startswith(b"<?XML"):
        return "ofx"
    if filename.lower().endswith((".ofx", ".qfx")):
        return "ofx"
    return "csv"


def parse_statement(
    data: bytes, *, filename: str, account_name: str | None, currency: str | None
) -> Statement:
    """Read a CSV or OFX export; ``account_name``/``currency`` name a CSV's account."""
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_IMPORT_BYTES} bytes.")
    if detect_format(data, filename) == "ofx":
        return parse_ofx(data)
    return parse_csv(data, account_name=account_name, currency=currency or "usd")


# ---------------------------------------------------------------------------
# OFX
# ---------------------------------------------------------------------------


def _ofx_date(value: object, where: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise ImportRefused(f"{where}: missing date.")


def parse_ofx(data: bytes) -> Statement:
    """The first statement of an OFX file (bank or credit-card account)."""
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
        statements = list(ofx.statements)
    except ImportRefused:
        raise
    except Exception as exc:
        raise ImportRefused(f"Not a readable OFX file ({type(exc).__name__}).") from None
    if not statements:
        raise ImportRefused("The OFX file holds no bank or card statement.")
    stmt = statements[0]
    currency = _currency(getattr(stmt, "curdef", None), "CURDEF")
    account = stmt.account
    account_id = str(getattr(account, "acctid", "") or "")
    bank_id = str(getattr(account, "bankid", "") or "")
    digits = "".join(_ACCOUNT_DIGITS.findall(account_id)) or account_id
    if not account_id:
        raise ImportRefused("The OFX file names no account (ACCTID).")
    institution = None
    signon = getattr(ofx, "signonmsgsrsv1", None)
    fi = getattr(getattr(signon, "sonrs", None), "fi", None)
    if fi is not None and getattr(fi, "org", None):
        institution = _clean(str(fi.org), 60) or None
    lines: list[StatementLine] = []
    transactions = list(stmt.transactions or ())
    if len(transactions) > MAX_IMPORT_TRANSACTIONS:
        raise ImportRefused(f"More than {MAX_IMPORT_TRANSACTIONS} transactions in one file.")
    seen: set[str] = set()
    for index, tx in enumerate(transactions):
        where = f"transaction {index + 1}"
        fitid = _clean(str(getattr(tx, "fitid", "") or ""), 255)
        amount = getattr(tx, "trnamt", None)
        if amount is None:
            raise ImportRefused(f"{where}: missing TRNAMT.")
        posted = _ofx_date(getattr(tx, "dtposted", None), where)
        description = _clean(
            getattr(tx, "name", None) or getattr(tx, "memo", None), MAX_DESCRIPTION
        )
        minor = to_minor(Decimal(amount), currency, where)
        external_id = fitid or _digest(posted, str(minor), description, str(index))
        if external_id in seen:
            continue
        seen.add(external_id)
        lines.append(
            StatementLine(
                external_id,
                posted,
                minor,
                description or "Transaction",
                derive_category(description),
            )
        )
    ledger = getattr(stmt, "ledgerbal", None)
    balance = as_of = None
    if ledger is not None and getattr(ledger, "balamt", None) is not None:
        balance = to_minor(Decimal(ledger.balamt), currency, "LEDGERBAL")
        as_of = _ofx_date(getattr(ledger, "dtasof", None), "LEDGERBAL")
    return Statement(
        institution=institution,
        account_last4=digits[-4:],
        account_key="ofx:" + _digest(bank_id, account_id),
        currency=currency,
        ledger_balance=balance,
        ledger_as_of=as_of,
        lines=tuple(lines),
    )


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

_DATE_COLUMNS = ("date", "posted date", "posting date", "transaction date", "booking date")
_DESCRIPTION_COLUMNS = ("description", "payee", "merchant", "name", "details", "memo", "narrative")
_AMOUNT_COLUMNS = ("amount", "value", "amount (usd)")
_DEBIT_COLUMNS = ("debit", "withdrawal", "withdrawals", "money out", "paid out")
_CREDIT_COLUMNS = ("credit", "deposit", "deposits", "money in", "paid in")
_CATEGORY_COLUMNS = ("category",)
_CURRENCY_COLUMNS = ("currency",)
_ID_COLUMNS = ("id", "transaction id", "reference", "fitid")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%y")
_AMOUNT_TEXT = re.compile(r"^[+-]?\d{1,15}(?:\.\d{1,6})?$")


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _csv_date(raw: str, where: str) -> str:
    text = raw.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ImportRefused(f"{where}: {text[:20]!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY).")


def csv_amount(raw: str, currency: str, where: str) -> int:
    """``-1,234.56``, ``$12.00``, ``(12.00)`` (negative) → minor units."""
    text = raw.strip().replace(",", "").replace("$", "").replace("€", "").replace("£", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").strip()
    if not _AMOUNT_TEXT.match(text):
        raise ImportRefused(f"{where}: {raw.strip()[:30]!r} is not an amount.")
    minor = to_minor(text, currency, where)
    return -minor if negative else minor


def parse_csv(data: bytes, *, account_name: str | None, currency: str) -> Statement:
    """A bank's CSV export: a header row, then one transaction per row."""
    currency = _currency(currency, "currency")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\x00" in text:
        raise ImportRefused("The file holds NUL characters; it is not a CSV export.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        header = [_clean(cell, 40).lower() for cell in next(rows)]
    except (StopIteration, csv.Error):
        raise ImportRefused("The CSV file has no header row.") from None
    date_col = _column(header, _DATE_COLUMNS)
    description_col = _column(header, _DESCRIPTION_COLUMNS)
    amount_col = _column(header, _AMOUNT_COLUMNS)
    debit_col, credit_col = _column(header, _DEBIT_COLUMNS), _column(header, _CREDIT_COLUMNS)
    if date_col is None or description_col is None:
        raise ImportRefused("The CSV header needs a Date column and a Description column.")
    if amount_col is None and debit_col is None and credit_col is None:
        raise ImportRefused("The CSV header needs an Amount column (or Debit/Credit columns).")
    category_col = _column(header, _CATEGORY_COLUMNS)
    currency_col = _column(header, _CURRENCY_COLUMNS)
    id_col = _column(header, _ID_COLUMNS)
    lines: list[StatementLine] = []
    seen: dict[str, int] = {}
    try:
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_IMPORT_TRANSACTIONS:
                raise ImportRefused(
                    f"More than {MAX_IMPORT_TRANSACTIONS} transactions in one file."
                )
            where = f"line {number}"

            def cell(index: int | None, row: list[str] = row) -> str:
                return row[index] if index is not None and index < len(row) else ""

            row_currency = currency
            if cell(currency_col).strip():
                row_currency = _currency(cell(currency_col), where)
                if row_currency != currency:
                    raise ImportRefused(
                        f"{where}: one import holds one currency ({currency.upper()})."
                    )
            if amount_col is not None and cell(amount_col).strip():
                amount = csv_amount(cell(amount_col), currency, where)
            else:
                debit, credit = cell(debit_col).strip(), cell(credit_col).strip()
                if not debit and not credit:
                    raise ImportRefused(f"{where}: no amount.")
                amount = (csv_amount(credit, currency, where) if credit else 0) - (
                    abs(csv_amount(debit, currency, where)) if debit else 0
                )
            posted = _csv_date(cell(date_col), where)
            description = _clean(cell(description_col), MAX_DESCRIPTION) or "Transaction"
            category = _clean(cell(category_col), MAX_CATEGORY).lower() or derive_category(
                description
            )
            given_id = _clean(cell(id_col), 255)
            base = given_id or _digest(posted, str(amount), description)
            occurrence = seen.get(base, 0)
            seen[base] = occurrence + 1
            if given_id and occurrence:
                continue  # the bank's own id repeated: the same transaction
            external_id = base if given_id or not occurrence else f"{base}.{occurrence}"
            lines.append(StatementLine(external_id, posted, amount, description, category))
    except csv.Error as exc:
        raise ImportRefused(f"Not a readable CSV file ({str(exc)[:80]}).") from None
    if not lines:
        raise ImportRefused("The CSV file holds no transactions.")
    name = _clean(account_name, 60) or "Bank account"
    digits = "".join(_ACCOUNT_DIGITS.findall(name))
    return Statement(
        institution=name,
        account_last4=digits[-4:] if len(digits) >= 4 else "",
        account_key="csv:" + _digest(name.lower(), currency),
        currency=currency,
        ledger_balance=None,
        ledger_as_of=None,
        lines=tuple(lines),
    )
