"""Management: when an agent connection last used its tokens.

``oauth_grants.last_used_at`` is written at most once a minute per connection (store/oauth.py
``touch_grant``), so listing agents shows "last used" without a write per request.

Revision ID: 0014_manage
Revises: 0013_notify
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_manage"
down_revision = "0013_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_grants") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_grants") as batch:
        batch.drop_column("last_used_at")
