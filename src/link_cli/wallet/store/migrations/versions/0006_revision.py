"""Spend requests carry a revision, bumped by every stored change (compare-and-set).

Revision ID: 0006_revision
Revises: 0005_grant_scope
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_revision"
down_revision = "0005_grant_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spend_requests") as batch:
        batch.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("spend_requests") as batch:
        batch.drop_column("revision")
