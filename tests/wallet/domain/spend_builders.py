"""Builders for the pure-domain tests: plain spend requests and drafts, no I/O.

Imported by name (pytest puts this directory on ``sys.path``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from link_cli.wallet.domain.spend_request import (
    CredentialType,
    SpendRequest,
    SpendRequestDraft,
    Status,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
LIFETIME = timedelta(hours=12)
CONTEXT = "Buying one blue widget for the team offsite; the person asked for it this morning. " * 2


def build_request(**changes: Any) -> SpendRequest:
    """A card request created at T0 for $50 at Widget Shop, with ``changes`` applied."""
    base = SpendRequest(
        id="lsrq_test",
        user_id="usr_test",
        status=Status.CREATED,
        credential_type=CredentialType.CARD,
        amount=5000,
        currency="usd",
        context=CONTEXT,
        payment_method_id="csmrpd_test",
        created_at=T0,
        updated_at=T0,
        approval_expires_at=T0 + WINDOW,
        expires_at=T0 + LIFETIME,
        merchant_name="Widget Shop",
        merchant_url="https://widgets.example",
    )
    return dataclasses.replace(base, **changes)


def build_draft(**changes: Any) -> SpendRequestDraft:
    """The draft matching :func:`build_request`'s merchant, amount and context."""
    base = SpendRequestDraft(
        credential_type=CredentialType.CARD,
        amount=5000,
        currency="usd",
        context=CONTEXT,
        merchant_name="Widget Shop",
        merchant_url="https://widgets.example",
    )
    return dataclasses.replace(base, **changes)
