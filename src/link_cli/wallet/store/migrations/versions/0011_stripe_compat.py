"""PaymentIntents created unconfirmed, canceled and listed; merchants' PaymentMethods.

Each credential a merchant presents becomes a row of ``merchant_payment_methods``, kept as
Stripe's PaymentMethod shows it (brand, last four digits, expiry; never the number or CVC),
so ``GET /v1/payment_methods/{id}`` can answer. An index serves the merchant's newest-first
list of PaymentIntents.

Revision ID: 0011_stripe_compat
Revises: 0010_financial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_stripe_compat"
down_revision = "0010_financial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_intents") as batch:
        batch.add_column(sa.Column("canceled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("cancellation_reason", sa.String(40), nullable=True))
    op.create_index(
        "ix_payment_intents_merchant_created",
        "payment_intents",
        ["merchant_id", "created_at", "id"],
    )
    op.create_table(
        "merchant_payment_methods",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "merchant_id",
            sa.String(40),
            sa.ForeignKey("merchants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("card_brand", sa.String(20), nullable=True),
        sa.Column("card_last4", sa.String(4), nullable=True),
        sa.Column("card_exp_month", sa.Integer(), nullable=True),
        sa.Column("card_exp_year", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_merchant_payment_methods_merchant_id", "merchant_payment_methods", ["merchant_id"]
    )


def downgrade() -> None:
    op.drop_table("merchant_payment_methods")
    op.drop_index("ix_payment_intents_merchant_created", "payment_intents")
    with op.batch_alter_table("payment_intents") as batch:
        batch.drop_column("cancellation_reason")
        batch.drop_column("canceled_at")
