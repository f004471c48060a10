"""Tables of revision ``0001_accounts``: people, web sessions, payment methods, shipping
addresses, OAuth device authorizations, grants and tokens, and sign-in/phrase attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class User(Base):
    """A person who owns a wallet. ``email`` is stored lower-cased. The ``issuing_terms_*``
    columns (revision ``0018_terms``) record their acceptance of the card program's
    Authorized User Terms, sent to the issuer with their cardholder."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issuing_terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issuing_terms_ip: Mapped[str | None] = mapped_column(String(45))
    issuing_terms_user_agent: Mapped[str | None] = mapped_column(String(255))


class WebSession(Base):
    """A signed-in browser session; the cookie carries the raw id, the table its SHA-256."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentMethod(Base):
    """A card. Number and CVC are AES-GCM ciphertexts (store/crypto.py); a card added with
    Stripe.js has neither, only its Stripe PaymentMethod id (revision ``0017_spt``)."""

    __tablename__ = "payment_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20), default="card")
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    number_encrypted: Mapped[str | None] = mapped_column(Text)
    cvc_encrypted: Mapped[str | None] = mapped_column(Text)
    billing_name: Mapped[str] = mapped_column(String(200))
    billing_line1: Mapped[str] = mapped_column(String(200))
    billing_line2: Mapped[str | None] = mapped_column(String(200))
    billing_city: Mapped[str | None] = mapped_column(String(100))
    billing_state: Mapped[str | None] = mapped_column(String(100))
    billing_postal_code: Mapped[str | None] = mapped_column(String(20))
    billing_country: Mapped[str] = mapped_column(String(2))
    nickname: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stripe_payment_method: Mapped[str | None] = mapped_column(String(255), unique=True)


class ShippingAddress(Base):
    """A delivery address, in the field names of contract §7.6."""

    __tablename__ = "shipping_addresses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    nickname: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    line_1: Mapped[str | None] = mapped_column(String(200))
    line_2: Mapped[str | None] = mapped_column(String(200))
    locality: Mapped[str | None] = mapped_column(String(100))
    dependent_locality: Mapped[str | None] = mapped_column(String(100))
    administrative_area: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    sorting_code: Mapped[str | None] = mapped_column(String(20))
    country_code: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceAuthorization(Base):
    """One RFC 8628 device authorization; codes are stored only as SHA-256 hashes.

    ``status``: pending → approved | denied; approved → consumed when the agent collects
    its tokens (single use).
    """

    __tablename__ = "device_authorizations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(100))
    requested_scope: Mapped[str] = mapped_column(Text)
    connection_label: Mapped[str | None] = mapped_column(String(300))
    client_hint: Mapped[str | None] = mapped_column(String(200))
    authorization_details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    granted_scope: Mapped[str | None] = mapped_column(Text)
    interval: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OAuthGrant(Base):
    """What a person granted one agent connection; revoking it kills all of its tokens."""

    __tablename__ = "oauth_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(Text)
    authorization_details: Mapped[str | None] = mapped_column(Text)
    connection_label: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Revision ``0014_manage``: written at most once a minute (store/oauth.py touch_grant).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OAuthToken(Base):
    """An access or refresh token of a grant, stored as its SHA-256 hash.

    A refresh token is single use: ``rotated_at`` marks it spent. Presenting a spent one
    again revokes the whole grant (refresh-token reuse detection).
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthAttempt(Base):
    """A reserved attempt (sign-in, device phrase, device login), counted for throttling.

    Keys are hashed. Reserved before the check; a successful check deletes its row again.
    """

    __tablename__ = "auth_attempts"
    __table_args__ = (
        Index("ix_auth_attempts_lookup", "kind", "key_hash", "created_at"),
        Index("ix_auth_attempts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
