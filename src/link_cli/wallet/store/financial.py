"""The person's financial data: sources, transactions and balances, and statement imports.

Sources are the person's cards (``payment_methods``) and the bank accounts they imported.
Link transactions are read from ``payment_intents`` through the spend request that issued
the credential (so only the person's own); imported lines from ``external_transactions``.
Everything is scoped by ``user_id``; no function takes an id without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import Conflict
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
    "transactions",
]

# A settled payment is money leaving the card; a refused one is shown as failed.
_LINK_STATUS = {"succeeded": "succeeded", "requires_payment_method": "failed", "canceled": "failed"}


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

    def sort_key(self) -> tuple[str, datetime, str]:
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


def _link_transactions(session: Session, user_id: str, query: ListQuery) -> list[TransactionRow]:
    statement = (
        select(PaymentIntentRecord, SpendRequestRow, Merchant.name)
        .join(SpendRequestRow, SpendRequestRow.id == PaymentIntentRecord.spend_request_id)
        .join(Merchant, Merchant.id == PaymentIntentRecord.merchant_id)
        .where(SpendRequestRow.user_id == user_id)
        .where(PaymentIntentRecord.status.in_(tuple(_LINK_STATUS)))
    )
    if query.sources:
        statement = statement.where(SpendRequestRow.payment_method_id.in_(query.sources))
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


def _external_transactions(
    session: Session, user_id: str, query: ListQuery
) -> list[TransactionRow]:
    statement = select(ExternalTransaction).where(ExternalTransaction.user_id == user_id)
    if query.sources:
        statement = statement.where(ExternalTransaction.account_id.in_(query.sources))
    if query.date_start:
        statement = statement.where(ExternalTransaction.posted >= query.date_start)
    if query.date_end:
        statement = statement.where(ExternalTransaction.posted <= query.date_end)
    if query.category:
        statement = statement.where(ExternalTransaction.category == query.category)
    return [
        TransactionRow(
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
        for row in session.scalars(statement)
    ]


def transactions(session: Session, user_id: str, query: ListQuery) -> list[TransactionRow]:
    """Every transaction matching the filters, newest first (the cursor is cut later)."""
    found: list[TransactionRow] = []
    if query.origin in (None, ORIGIN_LINK):
        found += [
            row
            for row in _link_transactions(session, user_id, query)
            if (not query.date_start or row.created_date >= query.date_start)
            and (not query.date_end or row.created_date <= query.date_end)
            and (not query.category or row.category == query.category)
        ]
    if query.origin in (None, ORIGIN_EXTERNAL):
        found += _external_transactions(session, user_id, query)
    found.sort(key=TransactionRow.sort_key, reverse=True)
    return found


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
