"""Repository of merchants that settle at this wallet: registration and key lookup.

A merchant's secret key is shown once; only its SHA-256 is stored. Its prefix says the
merchant's mode, as Stripe's keys do: ``sk_test_…`` or ``sk_live_…``.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .crypto import sha256_hex
from .models.base import new_id
from .models.merchants import Merchant

__all__ = [
    "authenticate_merchant",
    "create_merchant",
    "get_merchant",
    "list_merchants",
    "merchant_for_network_id",
    "network_id_registered",
]


def create_merchant(
    session: Session,
    *,
    name: str,
    network_id: str,
    now: datetime,
    livemode: bool = False,
    site: str | None = None,
) -> tuple[Merchant, str]:
    """Register a merchant in test mode (default) or live mode; returns it and its secret
    key (shown once, stored hashed).

    ``site`` is the merchant's web address: cards whose spend request names its host were
    meant for this merchant (docs/security.md, "Card enumeration and card burning").

    Raises :class:`ValueError` when the network id is already registered in that mode.
    """
    mode = "live" if livemode else "test"
    secret_key = f"sk_{mode}_" + secrets.token_urlsafe(24)
    merchant = Merchant(
        id=new_id("acct", 16),
        name=name,
        network_id=network_id,
        livemode=livemode,
        secret_key_hash=sha256_hex(secret_key),
        secret_key_last4=secret_key[-4:],
        site=site,
        created_at=now,
    )
    session.add(merchant)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValueError(
            f"a {mode}-mode merchant with network id {network_id!r} already exists"
        ) from None
    return merchant, secret_key


def authenticate_merchant(session: Session, secret_key: str) -> Merchant | None:
    """The merchant owning ``secret_key``, looked up by its SHA-256 and compared in constant
    time; None for anything else."""
    if not secret_key.startswith("sk_") or len(secret_key) > 200:
        return None
    digest = sha256_hex(secret_key)
    merchant = session.scalar(select(Merchant).where(Merchant.secret_key_hash == digest))
    if merchant is None or not hmac.compare_digest(merchant.secret_key_hash, digest):
        return None
    return merchant


def network_id_registered(session: Session, network_id: str, *, livemode: bool) -> bool:
    """Whether a merchant of that mode settles at this wallet under ``network_id``."""
    found = session.scalar(
        select(Merchant.id).where(Merchant.network_id == network_id, Merchant.livemode == livemode)
    )
    return found is not None


def merchant_for_network_id(
    session: Session, network_id: str, *, livemode: bool
) -> Merchant | None:
    """The merchant of that mode registered under ``network_id`` (unique per mode), or None."""
    return session.scalar(
        select(Merchant).where(Merchant.network_id == network_id, Merchant.livemode == livemode)
    )


def get_merchant(session: Session, merchant_id: str) -> Merchant | None:
    """The merchant with account id ``merchant_id`` (``acct_…``), or None."""
    if not merchant_id.startswith("acct_") or len(merchant_id) > 40:
        return None
    return session.get(Merchant, merchant_id)


def list_merchants(session: Session) -> list[Merchant]:
    """Every registered merchant, oldest first."""
    return list(session.scalars(select(Merchant).order_by(Merchant.created_at, Merchant.id)))
