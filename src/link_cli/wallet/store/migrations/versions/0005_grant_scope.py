"""Spend requests record the agent connection (OAuth grant) that created them.

Older rows keep ``grant_id`` NULL: no agent can tell which connection made them, so none
sees them through the API; the person still does on their pages.

Revision ID: 0005_grant_scope
Revises: 0004_throttle
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_grant_scope"
down_revision = "0004_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("spend_requests", sa.Column("grant_id", sa.String(40), nullable=True))
    op.create_index("ix_spend_requests_grant_created", "spend_requests", ["grant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_spend_requests_grant_created", table_name="spend_requests")
    with op.batch_alter_table("spend_requests") as batch:
        batch.drop_column("grant_id")
