"""Tables of revision ``0010_financial``: bank accounts the person imported, and their lines.

Cards are sources already (``payment_methods``) and Link transactions are derived from
``payment_intents``; only what comes from outside the wallet is stored here. A statement
imported twice adds nothing: an account is unique per person by ``account_key``, a line per
account by the bank's ``external_id``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

__all__ = ["ExternalAccount", "ExternalTransaction"]


class ExternalAccount(Base):
    """A bank account connected by importing its export."""

    __tablename__ = "external_accounts"
    __table_args__ = (UniqueConstraint("user_id", "account_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_key: Mapped[str] = mapped_column(String(80))
    institution: Mapped[str | None] = mapped_column(String(100))
    last4: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    ledger_balance: Mapped[int | None] = mapped_column(BigInteger)
    ledger_as_of: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExternalTransaction(Base):
    """One line of an imported statement."""

    __tablename__ = "external_transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        # The list order, per person: pages are read by keyset on it.
        Index("ix_external_transactions_order", "user_id", "posted", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(
        ForeignKey("external_accounts.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(255))
    posted: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
