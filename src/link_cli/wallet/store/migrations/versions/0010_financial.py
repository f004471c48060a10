"""Financial insights: bank accounts the person imports and their transactions.

Revision ID: 0010_financial
Revises: 0009_agent_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_financial"
down_revision = "0009_agent_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("account_key", sa.String(80), nullable=False),
        sa.Column("institution", sa.String(100), nullable=True),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("ledger_balance", sa.BigInteger(), nullable=True),
        sa.Column("ledger_as_of", sa.String(10), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "account_key"),
    )
    op.create_index("ix_external_accounts_user_id", "external_accounts", ["user_id"])
    op.create_table(
        "external_transactions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "account_id",
            sa.String(40),
            sa.ForeignKey("external_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("posted", sa.String(10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "external_id"),
    )
    op.create_index(
        "ix_external_transactions_order",
        "external_transactions",
        ["user_id", "posted", "created_at", "id"],
    )
    op.create_index("ix_external_transactions_account_id", "external_transactions", ["account_id"])


def downgrade() -> None:
    op.drop_table("external_transactions")
    op.drop_table("external_accounts")
