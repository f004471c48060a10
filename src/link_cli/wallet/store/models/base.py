"""Declarative base shared by every model module, plus column helpers.

Times are stored as naive UTC (portable between SQLite and PostgreSQL) and always come back
timezone-aware through :class:`UTCDateTime`. Ids are prefixed random strings (internals.md).
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A random id such as ``usr_3fA9…`` (about 143 bits of randomness for length 24)."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC as a naive timestamp; returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Every table of the wallet hangs off this metadata (Alembic's target)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
