"""Card guard: a merchant's site (who a card was meant for) and the failed attempts of
merchants a card was not meant for, counted apart from the ones that burn it.

Revision ID: 0007_card_guard
Revises: 0006_revision
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_card_guard"
down_revision = "0006_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("site", sa.String(2048), nullable=True))
    with op.batch_alter_table("issued_credentials") as batch:
        batch.add_column(
            sa.Column(
                "foreign_failed_attempts",
                sa.Integer(),
                nullable=False,
                server_default=sa.text("0"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credentials") as batch:
        batch.drop_column("foreign_failed_attempts")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("site")
