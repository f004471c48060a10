"""Authorized User Terms: when, from which address and browser each person accepted the
card program's terms (sent to Stripe Issuing with their cardholder).

Revision ID: 0018_terms
Revises: 0017_spt
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_terms"
down_revision = "0017_spt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("issuing_terms_accepted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("issuing_terms_ip", sa.String(45), nullable=True))
        batch.add_column(sa.Column("issuing_terms_user_agent", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("issuing_terms_user_agent")
        batch.drop_column("issuing_terms_ip")
        batch.drop_column("issuing_terms_accepted_at")
