"""People, cards and merchants written straight into a test wallet's database, in-process.

The only test module that touches the wallet's store: it does what ``link-wallet user create``,
``card add --shipping`` and ``merchant create`` do (same settings, password hashing, secret
key and store functions) without paying for a subprocess each time. Those commands are
tested through the real subprocess in tests/wallet/test_wallet_cli*.py and
tests/redemption/test_merchant_cli.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from link_cli.wallet.clock import Clock
from link_cli.wallet.domain import oauth as oauth_rules
from link_cli.wallet.domain.cards import validate_card
from link_cli.wallet.passwords import hash_password, password_problem
from link_cli.wallet.settings import WalletSettings, load_settings
from link_cli.wallet.store import accounts
from link_cli.wallet.store import oauth as oauth_store
from link_cli.wallet.store.crypto import FieldCipher
from link_cli.wallet.store.engine import Database
from link_cli.wallet.store.merchants import create_merchant
from link_cli.wallet.store.migrations import upgrade


class WalletStore:
    """An open connection to one wallet's storage, as its CLI would open it."""

    def __init__(self, data_dir: Path, database_url: str | None, env: Mapping[str, str]) -> None:
        self.settings: WalletSettings = load_settings(
            database_url=database_url, data_dir=data_dir, env=env
        )
        # As every command does first; a database already at the newest revision is only read.
        upgrade(self.settings.database_url)
        self.database = Database(self.settings.database_url)

    def create_user(self, email: str, password: str, name: str | None) -> dict[str, Any]:
        """Like ``link-wallet user create``; returns the same JSON-shaped answer."""
        problem = password_problem(password)
        if problem:
            raise RuntimeError(f"user create failed: {problem}")
        with self.database.session_scope() as session:
            user = accounts.create_user(
                session,
                email=email,
                name=name,
                password_hash=hash_password(password, fast=self.settings.fast_password_hash),
                now=Clock().now(),
            )
            return {"id": user.id, "email": user.email, "name": user.name}

    def add_card(self, email: str, card: Mapping[str, str], *, shipping: bool) -> dict[str, Any]:
        """Like ``link-wallet card add [--shipping]``; returns the same JSON-shaped answer."""
        now = Clock().now()
        validated = validate_card(card, today=now.date())
        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            if user is None:
                raise RuntimeError(f"card add failed: no user with email {email}")
            method = accounts.add_card(
                session,
                user_id=user.id,
                card=validated,
                cipher=FieldCipher(self.settings.secret_key),
                now=now,
            )
            if shipping:
                accounts.add_shipping_address_from_billing(
                    session, user_id=user.id, method=method, now=now
                )
            return {
                "id": method.id,
                "brand": method.brand,
                "last4": method.last4,
                "exp_month": method.exp_month,
                "exp_year": method.exp_year,
            }

    def create_merchant(
        self, name: str, network_id: str, *, livemode: bool = False, url: str | None = None
    ) -> dict[str, Any]:
        """Like ``link-wallet merchant create [--live] [--url]`` (test mode unless
        ``livemode``); returns the same JSON-shaped answer."""
        with self.database.session_scope() as session:
            merchant, secret_key = create_merchant(
                session,
                name=name,
                network_id=network_id,
                now=Clock().now(),
                livemode=livemode,
                site=url,
            )
            return {
                "id": merchant.id,
                "name": merchant.name,
                "network_id": merchant.network_id,
                "livemode": merchant.livemode,
                "url": merchant.site,
                "secret_key": secret_key,
            }

    def grant_agent(self, email: str, scopes: list[str]) -> dict[str, Any]:
        """A device login approved by the person, as ``/device/code``, the setup page and
        ``/device/token`` would make it (same store functions); returns the token pair."""
        now = Clock().now()
        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            if user is None:
                raise RuntimeError(f"grant failed: no user with email {email}")
            started = oauth_store.start_device_authorization(
                session,
                client_id=oauth_rules.PUBLIC_CLIENT_ID,
                scopes=scopes,
                connection_label="fuzz agent",
                client_hint=None,
                authorization_details=[],
                now=now,
            )
            pending = oauth_store.find_pending_by_phrase(session, started.user_code, now=now)
            assert pending is not None
            oauth_store.decide(
                session, pending, user_id=user.id, approve=True, granted_scopes=scopes, now=now
            )
            return oauth_store.poll_device_token(
                session,
                device_code=started.device_code,
                client_id=oauth_rules.PUBLIC_CLIENT_ID,
                now=now,
            )

    def create_policy(self, email: str, **raw: Any) -> dict[str, Any]:
        """Like ``link-wallet policy create`` (``raw`` as the service takes it: amounts in
        minor units); returns the same JSON-shaped answer."""
        from link_cli.wallet.services import policies

        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            assert user is not None
            return policies.create_policy(session, user_id=user.id, raw=raw, now=Clock().now())

    def update_policy(self, email: str, policy_id: str, **raw: Any) -> dict[str, Any]:
        """Like ``link-wallet policy update``."""
        from link_cli.wallet.services import policies

        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            assert user is not None
            return policies.update_policy(
                session, user_id=user.id, policy_id=policy_id, raw=raw, now=Clock().now()
            )

    def policy_settings(self, email: str, *, time_zone: str, notify: bool) -> None:
        """Like ``link-wallet policy settings --time-zone … --notify on|off``."""
        from link_cli.wallet.services import policies

        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            assert user is not None
            policies.set_preferences(session, user_id=user.id, time_zone=time_zone, notify=notify)

    def agent_ids(self, email: str) -> list[str]:
        """The person's live agent connections (grant ids), newest first."""
        from link_cli.wallet.services import manage

        with self.database.session_scope() as session:
            user = accounts.get_user_by_email(session, email)
            assert user is not None
            return [agent["id"] for agent in manage.list_agents(session, user.id)]

    def outbox_summaries(self, email: str) -> list[str]:
        """The auto-approval notices queued for the person (one per channel)."""
        from sqlalchemy import select

        from link_cli.wallet.store.models.accounts import User
        from link_cli.wallet.store.models.notify import NotificationChannel, NotificationOutbox

        with self.database.session_scope() as session:
            rows = session.scalars(
                select(NotificationOutbox.summary)
                .join(NotificationChannel, NotificationChannel.id == NotificationOutbox.channel_id)
                .join(User, User.id == NotificationChannel.user_id)
                .where(User.email == email, NotificationOutbox.summary.is_not(None))
            )
            return [str(summary) for summary in rows]

    def close(self) -> None:
        """Close the pooled connections."""
        self.database.dispose()
