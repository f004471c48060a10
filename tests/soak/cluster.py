"""The wallets a soak runs against: one database, several ``link-wallet serve`` processes.

A :class:`Cluster` is N wallet processes on one database (a fresh PostgreSQL database, or one
SQLite file), each with its own data directory and log, sharing the secret key. Processes
can be killed (SIGKILL) and restarted on the same port, so every client keeps its URL.
:class:`Postgres` is a throwaway server from ``scripts/pg.sh`` (or databases in a given one).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from tests.conftest import fresh_postgres_database
from tests.redemption.delegated import (
    DelegatedAgent,
    Merchant,
    delegated_agent,
    register_merchant,
)
from tests.support.approvals import ApiAgent, new_agent
from tests.support.person import Person
from tests.support.wallet import REPO_ROOT, WalletProcess

from link_cli.wallet.store.engine import Database

PG_SCRIPT = REPO_ROOT / "scripts" / "pg.sh"
# Every round creates requests for the same few people: limits must not end the soak.
ROOMY_LIMITS = {
    "LINK_WALLET_LIMIT_HOURLY_CREATIONS": "1000000",
    "LINK_WALLET_LIMIT_CREATIONS_60D": "1000000",
    "LINK_WALLET_LIMIT_MAX_ACTIVE": "1000000",
    "LINK_WALLET_LIMIT_MAX_APPROVED": "1000000",
    "LINK_WALLET_LIMIT_DAILY_SPEND": "1000000000",
    "LINK_WALLET_LIMIT_MONTHLY_SPEND": "1000000000",
    "LINK_WALLET_LIMIT_MAX_AMOUNT": "1000000000",
    # Rounds of phrase guesses by many people add up in the global budget.
    "LINK_WALLET_THROTTLE_PHRASE_GLOBAL": "1000000",
}
# The host of the cards' ``merchant_url`` (tests/redemption/delegated.py ``approved_card``).
CARD_SITE = "https://shop.example"
# Access tokens live an hour: long soaks log their shared agents in again before that.
ACTOR_MAX_AGE_SECONDS = 1800.0


class Postgres:
    """A throwaway PostgreSQL server started by ``scripts/pg.sh`` (stopped by :meth:`stop`),
    or an existing one given by URL (left alone)."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url
        self.directory: Path | None = None

    def start(self) -> None:
        if self.base_url is not None:
            return
        result = subprocess.run(
            [str(PG_SCRIPT), "start"], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"scripts/pg.sh start failed: {result.stderr.strip()}")
        self.directory = Path(result.stdout.strip().splitlines()[-1])
        self.base_url = (self.directory / "url").read_text().strip()

    def new_database(self) -> str:
        assert self.base_url is not None
        return fresh_postgres_database(self.base_url)

    def files(self) -> list[Path]:
        """The server's data directory and log, when this harness started it."""
        return [self.directory] if self.directory is not None else []

    def stop(self) -> None:
        if self.directory is not None:
            subprocess.run(
                [str(PG_SCRIPT), "stop", str(self.directory)],
                capture_output=True,
                timeout=120,
                check=False,
            )
            self.directory = None


@dataclass
class Cluster:
    """``processes`` serving one database ``url`` (SQLAlchemy URL) on ``backend``."""

    backend: str
    url: str
    root: Path
    env: dict[str, str]
    processes: list[WalletProcess] = field(default_factory=list)
    known_cards: set[tuple[str, str]] = field(default_factory=set)
    """(number, cvc) of every card the harness was shown: none may be stored in clear."""
    _database: Database | None = None
    _actors: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _amounts: Iterator[int] = field(default_factory=lambda: iter(range(101, 10**9)))

    @classmethod
    def start(
        cls,
        backend: str,
        root: Path,
        count: int,
        postgres: Postgres,
        extra_env: Mapping[str, str] | None = None,
    ) -> Cluster:
        root.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            (root / "db").mkdir(exist_ok=True)
            url = f"sqlite:///{root / 'db' / 'wallet.db'}"
        else:
            url = postgres.new_database()
        env = {**ROOMY_LIMITS, "LINK_WALLET_SECRET_KEY": "soak-" + secrets.token_hex(24)}
        env.update(extra_env or {})
        cluster = cls(backend=backend, url=url, root=root, env=env)
        try:
            for index in range(count):
                cluster.processes.append(
                    WalletProcess.start(root / f"wallet-{index}", database_url=url, env=env)
                )
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.url.removeprefix("sqlite:///")) if self.backend == "sqlite" else None

    def database(self) -> Database:
        """The harness's own connection to the cluster's database (for the invariants)."""
        if self._database is None:
            self._database = Database(self.url)
        return self._database

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read transaction on the cluster's database."""
        with self.database().read_scope() as session:
            yield session

    def next_amount(self) -> int:
        """An amount no earlier request of this cluster used (so no create is a duplicate)."""
        return next(self._amounts)

    # -- shared actors ---------------------------------------------------------------------

    def actor(self, name: str, make: Any) -> Any:
        """``make()`` once per cluster (again after :data:`ACTOR_MAX_AGE_SECONDS`)."""
        made = self._actors.get(name)
        if made is None or time.monotonic() - made[0] > ACTOR_MAX_AGE_SECONDS:
            made = (time.monotonic(), make())
            self._actors[name] = made
        return made[1]

    def merchant(self) -> Merchant:
        """The merchant the cluster's SPTs are for (SPT presentations are not budgeted)."""
        return self.actor("merchant", lambda: register_merchant(self.processes[0]))

    def card_merchant(self) -> Merchant:
        """A new merchant whose site is the virtual cards' ``merchant_url`` (their intended
        merchant): each round's losing card presentations spend a fresh key's budget of
        declines (docs/security.md, "Card enumeration and card burning")."""
        return register_merchant(self.processes[0], url=CARD_SITE)

    def delegated(self) -> DelegatedAgent:
        """An agent with the approve scope: its requests are approved and issued at once."""
        return self.actor("delegated", lambda: delegated_agent(self.processes[0]))

    def agent(self) -> ApiAgent:
        """An agent without the approve scope, whose person approves on the pages."""
        return self.actor("agent", lambda: new_agent(self.processes[0]))

    def person_on(self, person: Person, index: int) -> Person:
        """``person`` in a new browser on process ``index`` (not signed in yet)."""
        return Person(
            wallet=self.processes[index],
            email=person.email,
            password=person.password,
            user_id=person.user_id,
            payment_method_id=person.payment_method_id,
        )

    def on(self, delegated: DelegatedAgent, index: int) -> DelegatedAgent:
        """The same delegated agent talking to process ``index``."""
        return DelegatedAgent(
            wallet=self.processes[index],
            payment_method_id=delegated.payment_method_id,
            headers=delegated.headers,
        )

    # -- crashes -----------------------------------------------------------------------------

    def kill(self, index: int) -> None:
        """SIGKILL process ``index``."""
        self.processes[index].kill()

    def restart(self, index: int) -> None:
        """Start process ``index`` again on its port, on the same database."""
        self.processes[index].restart()

    def log_files(self) -> list[Path]:
        return [process.data_dir / "wallet.log" for process in self.processes]

    def stop(self) -> None:
        """Stop every process and close the harness's connections (idempotent)."""
        for actor in self._actors.values():
            close = getattr(actor[1], "close", None)
            if close is not None:
                close()
        self._actors.clear()
        for process in self.processes:
            try:
                process.stop()
            except Exception:  # keep stopping the others
                process.kill()
        if self._database is not None:
            self._database.dispose()
            self._database = None
