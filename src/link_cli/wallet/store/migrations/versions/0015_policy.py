"""Spending policies: the person's rules, which requests they approved, preferences.

Revision ID: 0015_policy
Revises: 0014_manage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_policy"
down_revision = "0014_manage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spending_policies",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_spending_policies_user_id", "spending_policies", ["user_id"])
    op.create_table(
        "policy_approvals",
        sa.Column(
            "spend_request_id",
            sa.String(40),
            sa.ForeignKey("spend_requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("policy_id", sa.String(40), nullable=False),
        sa.Column("grant_id", sa.String(40), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_policy_approvals_policy_approved", "policy_approvals", ["policy_id", "approved_at"]
    )
    op.create_index("ix_policy_approvals_user_id", "policy_approvals", ["user_id"])
    op.create_table(
        "policy_preferences",
        sa.Column(
            "user_id",
            sa.String(40),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
    )
    with op.batch_alter_table("notification_outbox") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_column("summary")
    op.drop_table("policy_preferences")
    op.drop_table("policy_approvals")
    op.drop_table("spending_policies")
