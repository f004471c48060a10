"""Tables of revision ``0003_redemption``: merchants, their PaymentIntents and the
idempotency records of ``POST /v1/payment_intents``.

A merchant's secret key is stored only as its SHA-256 (the key is 192 random bits, so a
plain hash is enough to make a stolen table useless). Spend requests and credentials are
referenced by id without a foreign key: a PaymentIntent is a ledger entry that must outlive
whatever it paid for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

__all__ = ["IdempotencyRecord", "Merchant", "PaymentIntentRecord", "PaymentMethodRecord"]


class Merchant(Base):
    """A seller registered with the wallet (``link-wallet merchant create``).

    ``livemode`` is fixed at registration (``sk_live_…`` or ``sk_test_…``): a test merchant
    redeems only test credentials, a live one only live credentials. One network id may be
    registered once per mode (revision ``0008_livemode``).
    """

    __tablename__ = "merchants"
    __table_args__ = (
        UniqueConstraint("network_id", "livemode", name="uq_merchants_network_id_livemode"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    network_id: Mapped[str] = mapped_column(String(200))
    livemode: Mapped[bool] = mapped_column(Boolean, server_default=false())
    secret_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secret_key_last4: Mapped[str] = mapped_column(String(4))
    # The merchant's web site (``merchant create --url``): a card whose spend request names
    # this host was meant for this merchant (docs/security.md, card guard).
    site: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentIntentRecord(Base):
    """One PaymentIntent: created unconfirmed, succeeded, refused or canceled.

    ``failure_effect`` keeps what a refusal did (``none``/``attempt``/``burn``), so wrong
    CVC attempts on a card can be counted. ``credential_kind`` is ``none`` and
    ``payment_method_id`` empty until a credential is presented (revision
    ``0011_stripe_compat``).
    """

    __tablename__ = "payment_intents"
    __table_args__ = (
        Index("ix_payment_intents_credential_id", "credential_id"),
        Index("ix_payment_intents_merchant_created", "merchant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(40))
    credential_kind: Mapped[str] = mapped_column(String(10))
    credential_id: Mapped[str | None] = mapped_column(String(64))
    spend_request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payment_method_id: Mapped[str] = mapped_column(String(40))
    shared_payment_granted_token: Mapped[str | None] = mapped_column(String(64))
    payment_method_types: Mapped[str] = mapped_column(Text)
    automatic_payment_methods: Mapped[str | None] = mapped_column(Text)
    metadata_json: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    last_payment_error: Mapped[str | None] = mapped_column(Text)
    failure_effect: Mapped[str | None] = mapped_column(String(10))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentMethodRecord(Base):
    """A credential one merchant presented on a confirmation, as Stripe's PaymentMethod shows
    it: what the presenter typed (brand, last four digits, expiry), never the number or
    CVC, and never anything of the stored credential. Empty ``card_*`` for an SPT."""

    __tablename__ = "merchant_payment_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """The stored answer to one ``Idempotency-Key`` of one merchant.

    ``request_mac`` is a keyed MAC of the request's parameters (never the parameters: they
    may hold a card number), compared in constant time on a replay.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("merchant_id", "key", name="pk_idempotency_keys"),)

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_mac: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
