"""Link Pay Tokens: a spend request may name an execution method and a merchant account.

``spend_requests.execution_method`` is ``link_pay_token`` or NULL; ``merchant_account_id``
is the registered merchant (``merchants.id``, ``acct_…``) whose key alone may redeem the
token. No foreign key: a spend request is a record that outlives a removed merchant.

Revision ID: 0012_lpt
Revises: 0011_stripe_compat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_lpt"
down_revision = "0011_stripe_compat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spend_requests") as batch:
        batch.add_column(sa.Column("execution_method", sa.String(30), nullable=True))
        batch.add_column(sa.Column("merchant_account_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("spend_requests") as batch:
        batch.drop_column("merchant_account_id")
        batch.drop_column("execution_method")
