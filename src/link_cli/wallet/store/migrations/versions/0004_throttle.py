"""Throttles: lock rows per throttled key, indexes for purging old attempts and logins.

Revision ID: 0004_throttle
Revises: 0003_redemption
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_throttle"
down_revision = "0003_redemption"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("touched_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_throttle_keys_touched_at", "throttle_keys", ["touched_at"])
    op.create_index("ix_auth_attempts_created_at", "auth_attempts", ["created_at"])
    op.create_index("ix_device_authorizations_expires_at", "device_authorizations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_device_authorizations_expires_at", table_name="device_authorizations")
    op.drop_index("ix_auth_attempts_created_at", table_name="auth_attempts")
    op.drop_table("throttle_keys")
