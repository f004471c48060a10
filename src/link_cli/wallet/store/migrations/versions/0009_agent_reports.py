"""Agents report how their purchase attempts went (``POST /agent_observations``).

Revision ID: 0009_agent_reports
Revises: 0008_livemode
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_agent_reports"
down_revision = "0008_livemode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_reports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("grant_id", sa.String(40), nullable=True),
        sa.Column(
            "spend_request_id",
            sa.String(40),
            sa.ForeignKey("spend_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("step", sa.Text(), nullable=True),
        sa.Column("freeform_context", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_agent_reports_user_id", "agent_reports", ["user_id"])
    op.create_index(
        "ix_agent_reports_spend_request", "agent_reports", ["spend_request_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("agent_reports")
