"""Spend requests, issued credentials, and the per-person limit lock.

Revision ID: 0002_spend_requests
Revises: 0001_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_spend_requests"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "spend_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("credential_type", sa.String(30), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("payment_method_id", sa.String(40), nullable=False),
        sa.Column("merchant_name", sa.String(500)),
        sa.Column("merchant_url", sa.String(2048)),
        sa.Column("network_id", sa.String(255)),
        sa.Column("line_items", sa.JSON(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("approval_details", sa.JSON()),
        sa.Column("status_details", sa.JSON()),
        sa.Column("payment_status_details", sa.JSON()),
        sa.Column("link_transaction_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("approval_expires_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("approval_requested_at", sa.DateTime()),
        sa.Column("approved_at", sa.DateTime()),
        sa.Column("valid_until", sa.DateTime()),
    )
    op.create_index("ix_spend_requests_user_created", "spend_requests", ["user_id", "created_at"])
    op.create_table(
        "issued_credentials",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "spend_request_id",
            sa.String(40),
            sa.ForeignKey("spend_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("issuer", sa.String(30), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("max_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.Column("network_id", sa.String(255)),
        sa.Column("card_brand", sa.String(20)),
        sa.Column("card_last4", sa.String(4)),
        sa.Column("card_exp_month", sa.Integer()),
        sa.Column("card_exp_year", sa.Integer()),
        sa.Column("card_number_encrypted", sa.Text()),
        sa.Column("card_cvc_encrypted", sa.Text()),
        sa.Column("card_fingerprint", sa.String(64)),
        sa.Column("billing_address", sa.JSON()),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        # One credential per spend request: the database settles racing approvals.
        sa.UniqueConstraint("spend_request_id", name="uq_issued_credentials_spend_request_id"),
        sa.UniqueConstraint("card_fingerprint", name="uq_issued_credentials_card_fingerprint"),
    )
    op.create_index("ix_issued_credentials_user_id", "issued_credentials", ["user_id"])
    op.create_table(
        "spend_limit_locks",
        sa.Column("user_id", sa.String(40), _user_fk(), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spend_limit_locks")
    op.drop_index("ix_issued_credentials_user_id", table_name="issued_credentials")
    op.drop_table("issued_credentials")
    op.drop_index("ix_spend_requests_user_created", table_name="spend_requests")
    op.drop_table("spend_requests")
