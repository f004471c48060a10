"""Stripe Issuing: cardholders, applied webhook events, authorization decisions, and the
issuer's id and state of each card.

Revision ID: 0016_issuing
Revises: 0014_manage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_issuing"
down_revision = "0015_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credentials") as batch:
        batch.add_column(sa.Column("issuer_ref", sa.String(255), nullable=True))
        batch.add_column(sa.Column("issuer_state", sa.String(20), nullable=True))
        batch.create_unique_constraint("uq_issued_credentials_issuer_ref", ["issuer_ref"])
    op.create_table(
        "issuing_cardholders",
        sa.Column(
            "user_id",
            sa.String(40),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("issuer", sa.String(30), nullable=False),
        sa.Column("cardholder_id", sa.String(255), nullable=False),
        sa.Column("profile_fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "issuing_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "issuing_authorizations",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("issuer_card", sa.String(255), nullable=False),
        sa.Column("credential_id", sa.String(40), nullable=True),
        sa.Column("spend_request_id", sa.String(40), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("merchant_name", sa.String(255), nullable=True),
        sa.Column("merchant_url", sa.String(2048), nullable=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_issuing_authorizations_issuer_card", "issuing_authorizations", ["issuer_card"]
    )
    op.create_index(
        "ix_issuing_authorizations_spend_request_id",
        "issuing_authorizations",
        ["spend_request_id"],
    )


def downgrade() -> None:
    op.drop_table("issuing_authorizations")
    op.drop_table("issuing_events")
    op.drop_table("issuing_cardholders")
    with op.batch_alter_table("issued_credentials") as batch:
        batch.drop_constraint("uq_issued_credentials_issuer_ref", type_="unique")
        batch.drop_column("issuer_state")
        batch.drop_column("issuer_ref")
