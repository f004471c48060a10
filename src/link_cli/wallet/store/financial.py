"""The person's financial data: sources, transactions and balances, and statement imports.

Sources are the person's cards (``payment_methods``) and the bank accounts they imported.
Link transactions are read from ``payment_intents`` through the spend request that issued
the credential (so only the person's own); imported lines from ``external_transactions``.
Everything is scoped by ``user_id``; no function takes an id without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import Conflict, InvalidRequest
from ..domain.financial import ORIGIN_EXTERNAL, ORIGIN_LINK, ListQuery, derive_category
from ..domain.statements import Statement
from .models.accounts import PaymentMethod
from .models.base import new_id
from .models.financial import ExternalAccount, ExternalTransaction
from .models.merchants import Merchant, PaymentIntentRecord
from .models.spend import SpendRequestRow

__all__ = [
    "TransactionRow",
    "card_sources",
    "external_accounts",
    "import_statement",
    "imported_sums",
    "link_transactions",
    "transactions_page",
]

# A settled payment is money leaving the card; a refused one is shown as failed.
_LINK_STATUS = {"succeeded": "succeeded", "requires_payment_method": "failed", "canceled": "failed"}


SortKey = tuple[str, datetime, str]  # (date, recorded at, id): list order is this, descending


@dataclass(frozen=True)
class TransactionRow:
    """One transaction in the wire's terms, plus its sort key."""

    id: str
    source_id: str | None
    amount: int
    currency: str
    created_date: str
    description: str
    origin: str
    category: str | None
    status: str
    created_at: datetime

    def sort_key(self) -> SortKey:
        return (self.created_date, self.created_at, self.id)


def card_sources(session: Session, user_id: str) -> list[PaymentMethod]:
    """The person's cards, oldest first (a stable order for cursors)."""
    query = (
        select(PaymentMethod)
        .where(PaymentMethod.user_id == user_id)
        .order_by(PaymentMethod.created_at, PaymentMethod.id)
    )
    return list(session.scalars(query))


def external_accounts(session: Session, user_id: str) -> list[ExternalAccount]:
    """The bank accounts the person imported, oldest first."""
    query = (
        select(ExternalAccount)
        .where(ExternalAccount.user_id == user_id)
        .order_by(ExternalAccount.created_at, ExternalAccount.id)
    )
    return list(session.scalars(query))


def _link_transactions(
    session: Session, user_id: str, sources: tuple[str, ...]
) -> list[TransactionRow]:
    statement = (
        select(PaymentIntentRecord, SpendRequestRow, Merchant.name)
        .join(SpendRequestRow, SpendRequestRow.id == PaymentIntentRecord.spend_request_id)
        .join(Merchant, Merchant.id == PaymentIntentRecord.merchant_id)
        .where(SpendRequestRow.user_id == user_id)
        .where(PaymentIntentRecord.status.in_(tuple(_LINK_STATUS)))
    )
    if sources:
        statement = statement.where(SpendRequestRow.payment_method_id.in_(sources))
    rows: list[TransactionRow] = []
    for intent, request, merchant_name in session.execute(statement):
        description = request.merchant_name or merchant_name or intent.description or "Payment"
        status = _LINK_STATUS[intent.status]
        rows.append(
            TransactionRow(
                id=intent.id,
                source_id=request.payment_method_id,
                amount=-intent.amount,
                currency=intent.currency,
                created_date=intent.created_at.date().isoformat(),
                description=description,
                origin=ORIGIN_LINK,
                category=derive_category(description),
                status=status,
                created_at=intent.created_at,
            )
        )
    return rows


def _external_filters(user_id: str, query: ListQuery) -> list[ColumnElement[bool]]:
    conditions = [ExternalTransaction.user_id == user_id]
    if query.sources:
        conditions.append(ExternalTransaction.account_id.in_(query.sources))
    if query.date_start:
        conditions.append(ExternalTransaction.posted >= query.date_start)
    if query.date_end:
        conditions.append(ExternalTransaction.posted <= query.date_end)
    if query.category:
        conditions.append(ExternalTransaction.category == query.category)
    return conditions


def _beyond(key: SortKey, *, before: bool) -> ColumnElement[bool]:
    """Rows after ``key`` in list order (newest first), or before it."""
    day, moment, row_id = key
    posted, created, ident = (
        ExternalTransaction.posted,
        ExternalTransaction.created_at,
        ExternalTransaction.id,
    )
    if before:
        return or_(
            posted > day,
            and_(posted == day, or_(created > moment, and_(created == moment, ident > row_id))),
        )
    return or_(
        posted < day,
        and_(posted == day, or_(created < moment, and_(created == moment, ident < row_id))),
    )


def _external_row(row: ExternalTransaction) -> TransactionRow:
    return TransactionRow(
        id=row.id,
        source_id=row.account_id,
        amount=row.amount,
        currency=row.currency,
        created_date=row.posted,
        description=row.description,
        origin=ORIGIN_EXTERNAL,
        category=row.category,
        status="succeeded",
        created_at=row.created_at,
    )


def _external_window(
    session: Session, user_id: str, query: ListQuery, key: SortKey | None, *, before: bool
) -> list[TransactionRow]:
    """At most ``limit + 1`` imported lines next to the cursor, nearest first (keyset, so a
    person with many imported lines costs one indexed query per page)."""
    conditions = _external_filters(user_id, query)
    if key is not None:
        conditions.append(_beyond(key, before=before))
    columns = (ExternalTransaction.posted, ExternalTransaction.created_at, ExternalTransaction.id)
    order = [c.asc() for c in columns] if before else [c.desc() for c in columns]
    statement = (
        select(ExternalTransaction).where(*conditions).order_by(*order).limit(query.limit + 1)
    )
    return [_external_row(row) for row in session.scalars(statement)]


def _matches(row: TransactionRow, query: ListQuery) -> bool:
    return (
        (not query.date_start or row.created_date >= query.date_start)
        and (not query.date_end or row.created_date <= query.date_end)
        and (not query.category or row.category == query.category)
    )


def _cursor_key(
    session: Session, user_id: str, query: ListQuery, link: list[TransactionRow]
) -> SortKey | None:
    cursor = query.starting_after or query.ending_before
    if cursor is None:
        return None
    for row in link:
        if row.id == cursor:
            return row.sort_key()
    found = session.scalars(
        select(ExternalTransaction).where(
            ExternalTransaction.user_id == user_id, ExternalTransaction.id == cursor
        )
    ).first()
    if found is None:
        param = "starting_after" if query.starting_after else "ending_before"
        raise InvalidRequest(
            f"No such object: {cursor[:100]!r}.", code="invalid_request", extra={"param": param}
        )
    return _external_row(found).sort_key()


def transactions_page(
    session: Session, user_id: str, query: ListQuery
) -> tuple[list[TransactionRow], bool]:
    """One page of the person's transactions, newest first, and whether more lie beyond it.

    Link payments (bounded by the spend-request limits) are read whole; imported lines are
    read by keyset around the cursor, so the page costs the same however many were imported.
    A cursor may be any of the person's transaction ids; another person's is unknown (400).
    """
    every_link = _link_transactions(session, user_id, query.sources)
    key = _cursor_key(session, user_id, query, every_link)
    before = query.ending_before is not None
    link: list[TransactionRow] = []
    if query.origin in (None, ORIGIN_LINK):
        link = [row for row in every_link if _matches(row, query)]
        if key is not None:
            link = [
                row for row in link if (row.sort_key() > key if before else row.sort_key() < key)
            ]
    external: list[TransactionRow] = []
    if query.origin in (None, ORIGIN_EXTERNAL):
        external = _external_window(session, user_id, query, key, before=before)
    nearest = sorted(link + external, key=TransactionRow.sort_key, reverse=not before)
    window = nearest[: query.limit]
    has_more = len(nearest) > query.limit
    if before:
        window.reverse()
    return window, has_more


def imported_sums(session: Session, user_id: str) -> dict[tuple[str, str], int]:
    """``(account id, currency)`` → the sum of its imported lines."""
    statement = (
        select(
            ExternalTransaction.account_id,
            ExternalTransaction.currency,
            func.sum(ExternalTransaction.amount),
        )
        .where(ExternalTransaction.user_id == user_id)
        .group_by(ExternalTransaction.account_id, ExternalTransaction.currency)
    )
    return {
        (account, currency): int(total or 0)
        for account, currency, total in session.execute(statement)
    }


def link_transactions(session: Session, user_id: str) -> list[TransactionRow]:
    """The person's Link payments (settled and refused), unordered."""
    return _link_transactions(session, user_id, ())


@dataclass(frozen=True)
class ImportResult:
    account: ExternalAccount
    added: int
    skipped: int


def import_statement(
    session: Session, user_id: str, statement: Statement, now: datetime
) -> ImportResult:
    """Store a parsed statement under its account (created on first import); lines already
    imported are skipped, so the same export imported twice, even at once, adds nothing."""
    account = _account_for(session, user_id, statement, now)
    if statement.ledger_balance is not None and (
        account.ledger_as_of is None or (statement.ledger_as_of or "") >= account.ledger_as_of
    ):
        account.ledger_balance = statement.ledger_balance
        account.ledger_as_of = statement.ledger_as_of
    account.updated_at = now
    for _attempt in range(3):
        existing = set(
            session.scalars(
                select(ExternalTransaction.external_id).where(
                    ExternalTransaction.account_id == account.id
                )
            )
        )
        fresh = [line for line in statement.lines if line.external_id not in existing]
        try:
            with session.begin_nested():
                session.add_all(
                    ExternalTransaction(
                        id=new_id("txn"),
                        user_id=user_id,
                        account_id=account.id,
                        external_id=line.external_id,
                        posted=line.posted,
                        amount=line.amount,
                        currency=statement.currency,
                        description=line.description,
                        category=line.category,
                        created_at=now,
                    )
                    for line in fresh
                )
        except IntegrityError:
            continue  # a concurrent import of the same file won some lines: look again
        return ImportResult(account, len(fresh), len(statement.lines) - len(fresh))
    raise Conflict(
        "Another import of this account is running; try again.", code="import_in_progress"
    )


def _account_for(
    session: Session, user_id: str, statement: Statement, now: datetime
) -> ExternalAccount:
    def find() -> ExternalAccount | None:
        return session.scalars(
            select(ExternalAccount).where(
                ExternalAccount.user_id == user_id,
                ExternalAccount.account_key == statement.account_key,
            )
        ).first()

    account = find()
    if account is not None:
        return account
    try:
        with session.begin_nested():
            account = ExternalAccount(
                id=new_id("src"),
                user_id=user_id,
                account_key=statement.account_key,
                institution=statement.institution,
                last4=statement.account_last4,
                currency=statement.currency,
                ledger_balance=None,
                ledger_as_of=None,
                created_at=now,
                updated_at=now,
            )
            session.add(account)
    except IntegrityError:
        account = find()
        assert account is not None
    return account
