"""Accounts: users, web sessions, payment methods, shipping addresses, OAuth device flow.

Revision ID: 0001_accounts
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_accounts"
down_revision = None
branch_labels = None
depends_on = None


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("phone", sa.String(40)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("brand", sa.String(20), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("number_encrypted", sa.Text(), nullable=False),
        sa.Column("cvc_encrypted", sa.Text(), nullable=False),
        sa.Column("billing_name", sa.String(200), nullable=False),
        sa.Column("billing_line1", sa.String(200), nullable=False),
        sa.Column("billing_line2", sa.String(200)),
        sa.Column("billing_city", sa.String(100)),
        sa.Column("billing_state", sa.String(100)),
        sa.Column("billing_postal_code", sa.String(20)),
        sa.Column("billing_country", sa.String(2), nullable=False),
        sa.Column("nickname", sa.String(100)),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_payment_methods_user_id", "payment_methods", ["user_id"])
    op.create_table(
        "shipping_addresses",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("nickname", sa.String(100)),
        sa.Column("name", sa.String(200)),
        sa.Column("line_1", sa.String(200)),
        sa.Column("line_2", sa.String(200)),
        sa.Column("locality", sa.String(100)),
        sa.Column("dependent_locality", sa.String(100)),
        sa.Column("administrative_area", sa.String(100)),
        sa.Column("postal_code", sa.String(20)),
        sa.Column("sorting_code", sa.String(20)),
        sa.Column("country_code", sa.String(2)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_shipping_addresses_user_id", "shipping_addresses", ["user_id"])
    op.create_table(
        "device_authorizations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("device_code_hash", sa.String(64), nullable=False),
        sa.Column("user_code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("requested_scope", sa.Text(), nullable=False),
        sa.Column("connection_label", sa.String(300)),
        sa.Column("client_hint", sa.String(200)),
        sa.Column("authorization_details", sa.Text()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(40), _user_fk()),
        sa.Column("granted_scope", sa.Text()),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", sa.DateTime()),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("device_code_hash", name="uq_device_authorizations_device_code_hash"),
    )
    op.create_index(
        "ix_device_authorizations_user_code_hash", "device_authorizations", ["user_code_hash"]
    )
    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), _user_fk(), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("authorization_details", sa.Text()),
        sa.Column("connection_label", sa.String(300)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime()),
    )
    op.create_index("ix_oauth_grants_user_id", "oauth_grants", ["user_id"])
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "grant_id",
            sa.String(40),
            sa.ForeignKey("oauth_grants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rotated_at", sa.DateTime()),
        sa.UniqueConstraint("token_hash", name="uq_oauth_tokens_token_hash"),
    )
    op.create_index("ix_oauth_tokens_grant_id", "oauth_tokens", ["grant_id"])
    op.create_table(
        "auth_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_auth_attempts_lookup", "auth_attempts", ["kind", "key_hash", "created_at"])


def downgrade() -> None:
    for table in (
        "auth_attempts",
        "oauth_tokens",
        "oauth_grants",
        "device_authorizations",
        "shipping_addresses",
        "payment_methods",
        "web_sessions",
        "users",
    ):
        op.drop_table(table)
