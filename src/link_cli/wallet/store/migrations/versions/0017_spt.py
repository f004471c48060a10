"""Stripe-issued shared payment tokens: a card may be a Stripe PaymentMethod (``pm_…``,
tokenised by Stripe.js), whose number and CVC the wallet never sees.

Revision ID: 0017_spt
Revises: 0016_issuing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_spt"
down_revision = "0016_issuing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        batch.add_column(sa.Column("stripe_payment_method", sa.String(255), nullable=True))
        # One PaymentMethod, one person: a pm_ id seen elsewhere cannot be claimed again.
        batch.create_unique_constraint(
            "uq_payment_methods_stripe_payment_method", ["stripe_payment_method"]
        )
        batch.alter_column("number_encrypted", existing_type=sa.Text(), nullable=True)
        batch.alter_column("cvc_encrypted", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        # Number and CVC stay nullable: cards added with Stripe.js have none to put back.
        batch.drop_constraint("uq_payment_methods_stripe_payment_method", type_="unique")
        batch.drop_column("stripe_payment_method")
