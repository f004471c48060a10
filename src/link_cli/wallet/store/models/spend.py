"""Tables of revision ``0002_spend_requests``: spend requests, issued credentials, and the
per-person lock row that serialises limit decisions.

A spend request keeps its line items, totals, metadata and approval details as JSON (they
are read whole, never queried). An issued credential is one row per spend request (UNIQUE),
so a race between two approvals can never leave two credentials; card number and CVC are
AES-GCM ciphertexts (store/crypto.py) and ``card_fingerprint`` (a keyed HMAC) lets the
redemption side find a card by number without decrypting every row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class SpendRequestRow(Base):
    """One spend request (contract §7.2). Amounts in minor units, times UTC."""

    __tablename__ = "spend_requests"
    __table_args__ = (
        Index("ix_spend_requests_user_created", "user_id", "created_at"),
        Index("ix_spend_requests_grant_created", "grant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    credential_type: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    context: Mapped[str] = mapped_column(Text)
    payment_method_id: Mapped[str] = mapped_column(String(40))
    merchant_name: Mapped[str | None] = mapped_column(String(500))
    merchant_url: Mapped[str | None] = mapped_column(String(2048))
    network_id: Mapped[str | None] = mapped_column(String(255))
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    totals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # ``metadata`` is reserved on declarative classes; the column keeps the contract's name.
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    test: Mapped[bool] = mapped_column(Boolean)
    approval_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payment_status_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    link_transaction_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approval_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approval_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The agent connection (``oauth_grants.id``) that created it; NULL for older rows.
    grant_id: Mapped[str | None] = mapped_column(String(40))
    # Bumped by every stored change; writes are ``WHERE revision = :seen`` (compare-and-set).
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Revision ``0012_lpt``: ``link_pay_token`` and the merchant account (``acct_…``) it pays.
    execution_method: Mapped[str | None] = mapped_column(String(30))
    merchant_account_id: Mapped[str | None] = mapped_column(String(40))


class IssuedCredential(Base):
    """The one credential of an approved spend request: a virtual card, an SPT or a Link Pay
    Token.

    ``id`` is the credential's public id (``vcard_…``, ``spt_…`` or ``lpt_…``). ``consumed_at`` is set
    once a merchant redeemed it; ``failed_attempts`` counts wrong expiry/CVC presentations by the merchant the card was
    meant for, ``foreign_failed_attempts`` those of any other merchant.
    """

    __tablename__ = "issued_credentials"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    spend_request_id: Mapped[str] = mapped_column(
        ForeignKey("spend_requests.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    issuer: Mapped[str] = mapped_column(String(30))
    livemode: Mapped[bool] = mapped_column(Boolean)
    max_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    network_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    card_number_encrypted: Mapped[str | None] = mapped_column(Text)
    card_cvc_encrypted: Mapped[str | None] = mapped_column(Text)
    card_fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Wrong presentations by merchants the card was not meant for: they never burn it.
    foreign_failed_attempts: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0")
    )
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Revision ``0016_issuing``: the outside issuer's id of the card (Stripe's ``ic_…``) and
    # whether it is still open there (``active``) or was stopped (``canceled``).
    issuer_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    issuer_state: Mapped[str | None] = mapped_column(String(20))


class SpendLimitLock(Base):
    """One row per person; writing it first serialises that person's create/approve
    decisions across processes (a row lock on PostgreSQL, the write lock on SQLite), so
    limits checked inside the transaction cannot be raced."""

    __tablename__ = "spend_limit_locks"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, default=0)
