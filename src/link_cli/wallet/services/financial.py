"""Financial insights as the wire shows them: sources, balances and transactions (contract §7.9).

Shared by the agent's ``GET /transactions|/sources|/balances`` and the person's page, so
both read the same data in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..domain.errors import InvalidRequest
from ..domain.financial import add_amount, bank_source_name, card_source_name
from ..store import financial as store
from ..store.models.accounts import PaymentMethod
from ..store.models.financial import ExternalAccount

_ELIGIBLE = {"status": "eligible"}


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as the API writes times."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def transaction_json(row: store.TransactionRow) -> dict[str, Any]:
    """A Transaction in the order of contract §7.9."""
    return {
        "id": row.id,
        "object": "transaction",
        "source_id": row.source_id,
        "amount": row.amount,
        "currency": row.currency,
        "created_date": row.created_date,
        "description": row.description,
        "origin": row.origin,
        "category": row.category,
        "status": row.status,
    }


def card_source_json(card: PaymentMethod) -> dict[str, Any]:
    return {
        "id": card.id,
        "object": "source",
        "name": card_source_name(card.brand, card.last4),
        "type": "card",
        "capabilities": {"transactions": dict(_ELIGIBLE), "balances": dict(_ELIGIBLE)},
        "card": {
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    }


def bank_source_json(account: ExternalAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "object": "source",
        "name": bank_source_name(account.institution, account.last4),
        "type": "bank_account",
        "capabilities": {"transactions": dict(_ELIGIBLE), "balances": dict(_ELIGIBLE)},
        "external_connection": {"status": "active"},
        "bank_account": {
            "institution_name": account.institution,
            "last4": account.last4 or None,
            "currency": account.currency,
        },
    }


def all_sources(db: Session, user_id: str) -> list[dict[str, Any]]:
    """Cards first, then imported accounts, each oldest first."""
    cards = [card_source_json(card) for card in store.card_sources(db, user_id)]
    banks = [bank_source_json(account) for account in store.external_accounts(db, user_id)]
    return cards + banks


def check_sources(db: Session, user_id: str, wanted: tuple[str, ...]) -> None:
    """A filter naming a source the person does not have is a 400 (unknown and another
    person's alike)."""
    if not wanted:
        return
    known = {source["id"] for source in all_sources(db, user_id)}
    for source_id in wanted:
        if source_id not in known:
            raise InvalidRequest(
                f"No such source: {source_id!r}.",
                code="invalid_request",
                extra={"param": "sources[]"},
            )


def balances_for(db: Session, user_id: str, now: datetime) -> list[dict[str, Any]]:
    """One balance per source: cards are credit (settled Link payments), bank accounts cash
    (the statement's ledger balance, else the sum of imported lines)."""
    link = store.link_transactions(db, user_id)
    sums = store.imported_sums(db, user_id)
    balances: list[dict[str, Any]] = []
    for card in store.card_sources(db, user_id):
        used: dict[str, int] = {}
        for row in link:
            if row.source_id == card.id and row.status == "succeeded":
                add_amount(used, row.currency, -row.amount)
        currency = next(iter(used), "usd")
        balances.append(
            {
                "source_id": card.id,
                "object": "balance",
                "name": card_source_name(card.brand, card.last4),
                "type": "credit",
                "credit": {"used": used or {currency: 0}},
                "current": dict(used or {currency: 0}),
                "currency": currency,
                "as_of": iso(now),
            }
        )
    for account in store.external_accounts(db, user_id):
        available: dict[str, int] = {}
        if account.ledger_balance is not None:
            available[account.currency] = account.ledger_balance
            as_of = f"{account.ledger_as_of}T00:00:00.000Z" if account.ledger_as_of else iso(now)
        else:
            available[account.currency] = 0
            for (account_id, currency), total in sums.items():
                if account_id == account.id:
                    add_amount(available, currency, total)
            as_of = iso(account.updated_at)
        balances.append(
            {
                "source_id": account.id,
                "object": "balance",
                "name": bank_source_name(account.institution, account.last4),
                "type": "cash",
                "cash": {"available": available},
                "current": dict(available),
                "currency": account.currency,
                "as_of": as_of,
            }
        )
    return balances
