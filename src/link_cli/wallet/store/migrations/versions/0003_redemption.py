"""Redemption: merchants, payment intents, idempotency keys.

Revision ID: 0003_redemption
Revises: 0002_spend_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_redemption"
down_revision = "0002_spend_requests"
branch_labels = None
depends_on = None


def _merchant_fk() -> sa.ForeignKey:
    return sa.ForeignKey("merchants.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("network_id", sa.String(200), nullable=False),
        sa.Column("secret_key_hash", sa.String(64), nullable=False),
        sa.Column("secret_key_last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("network_id", name="uq_merchants_network_id"),
        sa.UniqueConstraint("secret_key_hash", name="uq_merchants_secret_key_hash"),
    )
    op.create_table(
        "payment_intents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("merchant_id", sa.String(40), _merchant_fk(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("credential_kind", sa.String(10), nullable=False),
        sa.Column("credential_id", sa.String(64)),
        sa.Column("spend_request_id", sa.String(40)),
        sa.Column("payment_method_id", sa.String(40), nullable=False),
        sa.Column("shared_payment_granted_token", sa.String(64)),
        sa.Column("payment_method_types", sa.Text(), nullable=False),
        sa.Column("automatic_payment_methods", sa.Text()),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("last_payment_error", sa.Text()),
        sa.Column("failure_effect", sa.String(10)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_payment_intents_merchant_id", "payment_intents", ["merchant_id"])
    op.create_index("ix_payment_intents_credential_id", "payment_intents", ["credential_id"])
    op.create_index("ix_payment_intents_spend_request_id", "payment_intents", ["spend_request_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("merchant_id", sa.String(40), _merchant_fk(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_mac", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_payment_intents_spend_request_id", table_name="payment_intents")
    op.drop_index("ix_payment_intents_credential_id", table_name="payment_intents")
    op.drop_index("ix_payment_intents_merchant_id", table_name="payment_intents")
    op.drop_table("payment_intents")
    op.drop_table("merchants")
