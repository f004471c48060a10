"""Merchants have a mode (test or live); credentials carry the mode of their spend request.

A merchant's network id is unique per mode, so one seller can hold a test and a live key for
the same profile, as on Stripe. Every key issued before this revision was ``sk_test_…``: those
merchants stay in test mode. Credentials were all recorded ``livemode = false``; from now on a
credential is live unless its spend request was created with ``test: true``.

Revision ID: 0008_livemode
Revises: 0007_card_guard
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_livemode"
down_revision = "0007_card_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(
            sa.Column("livemode", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.drop_constraint("uq_merchants_network_id", type_="unique")
        batch.create_unique_constraint(
            "uq_merchants_network_id_livemode", ["network_id", "livemode"]
        )
    credentials = sa.table(
        "issued_credentials",
        sa.column("spend_request_id", sa.String()),
        sa.column("livemode", sa.Boolean()),
    )
    requests = sa.table(
        "spend_requests", sa.column("id", sa.String()), sa.column("test", sa.Boolean())
    )
    is_test = (
        sa.select(requests.c.test)
        .where(requests.c.id == credentials.c.spend_request_id)
        .scalar_subquery()
    )
    op.execute(credentials.update().values(livemode=sa.not_(is_test)))


def downgrade() -> None:
    # Mode can only be dropped when no network id is registered in both modes.
    with op.batch_alter_table("merchants") as batch:
        batch.drop_constraint("uq_merchants_network_id_livemode", type_="unique")
        batch.create_unique_constraint("uq_merchants_network_id", ["network_id"])
        batch.drop_column("livemode")
    credentials = sa.table("issued_credentials", sa.column("livemode", sa.Boolean()))
    op.execute(credentials.update().values(livemode=sa.false()))
