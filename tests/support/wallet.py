"""A real ``link-wallet serve`` subprocess for tests, driven over HTTP on loopback.

    wallet = WalletProcess.start(tmp_path)           # SQLite under tmp_path
    person = wallet.create_person()                  # as `user create` + `card add` would
    wallet.advance_clock(601)                        # POST /__test__/clock
    wallet.kill(); wallet.restart()                  # a crash (SIGKILL), then the same port
    wallet.stop()                                    # SIGTERM, then kill after a bound

Output of the process goes to a log file (``log_text()``) so a full pipe can never block it.

Every wallet is its own OS process running ``link_cli.wallet.cli.main(["serve", ...])``, the
function behind the ``link-wallet`` console script: signals, crashes and several processes on
one database behave as in production. By default the process is forked from a server that
imported the wallet once per test process (tests/support/fork_server.py), which saves the ~1 s
of imports a fresh interpreter pays; ``console_script=True`` executes the real ``link-wallet``
instead, for the tests of the command itself (tests/wallet/test_wallet_cli.py).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

from .environment import clean_env
from .fork_server import fork_server
from .ports import free_port

if TYPE_CHECKING:
    from .wallet_store import WalletStore

REPO_ROOT = Path(__file__).resolve().parents[2]
LINK_WALLET = str(Path(sys.executable).with_name("link-wallet"))
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
BIND_ATTEMPTS = 3
DEFAULT_PASSWORD = "correct horse battery staple"
DEFAULT_CARD = {
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2034",
    "cvc": "123",
    "name": "Jenny Rosen",
    "line1": "510 Townsend St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94103",
    "country": "US",
}


class WalletStartError(RuntimeError):
    """The wallet process died or never became healthy."""


def wallet_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a test wallet runs with: no ``LINK_*`` leaks from the caller."""
    env = clean_env()
    env.update(
        {
            "LINK_WALLET_TEST_CLOCK": "1",
            "LINK_WALLET_PASSWORD_HASH": "fast",
            "PYTHONUNBUFFERED": "1",
            # Every test connects from 127.0.0.1: per-address budgets would add up across a
            # whole session. tests/security/test_throttles.py tests them at their defaults.
            "LINK_WALLET_THROTTLE_SIGNIN_PER_ADDRESS": "100000",
            "LINK_WALLET_THROTTLE_DEVICE_CODE_PER_ADDRESS": "100000",
        }
    )
    env.update(extra or {})
    return env


_MIGRATED_SQLITE: list[Path] = []


def copy_migrated_sqlite(target: Path) -> None:
    """Put an empty database at the newest revision at ``target`` (0600), unless one exists.

    The template is migrated once per test process with the wallet's own migrations; each
    copy then costs a file copy instead of a replay of every revision.
    """
    if target.exists():
        return
    if not _MIGRATED_SQLITE:
        import atexit
        import shutil
        import sqlite3
        import tempfile

        from link_cli.wallet.store.migrations import upgrade

        directory = Path(tempfile.mkdtemp(prefix="migrated-wallet-"))
        atexit.register(shutil.rmtree, directory, True)
        template = directory / "wallet.db"
        upgrade(f"sqlite:///{template}")
        with sqlite3.connect(template) as connection:  # fold the WAL into the file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        _MIGRATED_SQLITE.append(template)
    data = _MIGRATED_SQLITE[0].read_bytes()
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


class ChildProcess(Protocol):
    """What the tests use of a wallet's process: ``subprocess.Popen``'s interface."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


@dataclass
class WalletProcess:
    """A running wallet; ``url`` is both the Link API and the auth base URL."""

    data_dir: Path
    port: int
    database_url: str | None
    env: dict[str, str]
    process: ChildProcess | None = None
    console_script: bool = False
    _log_path: Path = field(init=False)
    _store: WalletStore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._log_path = self.data_dir / "wallet.log"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        own_database: bool = False,
        console_script: bool = False,
    ) -> WalletProcess:
        """Start ``link-wallet serve`` on a free port and wait until ``/healthz`` answers
        (forked from the fork server, or the console script with ``console_script=True``).

        A new SQLite wallet starts from a copy of a database migrated once per test process
        (:func:`copy_migrated_sqlite`), so it does not replay every migration;
        ``own_database=True`` lets the wallet create and migrate its file itself, for tests
        about exactly that. A port picked free can be taken by a parallel test before the
        wallet binds it; then the start is tried again on another port.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        if (
            database_url is None
            and not own_database
            and "LINK_WALLET_DATABASE_URL" not in (env or {})
        ):
            copy_migrated_sqlite(data_dir / "wallet.db")
        attempts_left = BIND_ATTEMPTS
        while True:
            attempts_left -= 1
            wallet = cls(
                data_dir=data_dir,
                port=free_port(),
                database_url=database_url,
                env=wallet_env(env),
                console_script=console_script,
            )
            try:
                wallet._spawn()
            except WalletStartError as error:
                if attempts_left and "address already in use" in str(error).lower():
                    continue
                raise
            return wallet

    def base_args(self) -> list[str]:
        """``link-wallet`` plus the global flags selecting this wallet's storage."""
        args = [LINK_WALLET, "--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def _spawn(self) -> None:
        args = [*self.base_args(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.console_script:
            log = self._log_path.open("ab")
            try:
                self.process = subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=self.env,
                    cwd=REPO_ROOT,
                )
            finally:
                log.close()
        else:
            self.process = fork_server().start(args[1:], self.env, self._log_path, REPO_ROOT)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WalletStartError(
                    f"link-wallet exited with {self.process.returncode}:\n{self.log_text()}"
                )
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise WalletStartError(f"link-wallet did not become healthy:\n{self.log_text()}")

    def log_text(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def run_cli(
        self, *args: str, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``link-wallet <args>`` against this wallet's storage (not through HTTP).

        A process of its own, forked from the warm fork server (``console_script=True``: the
        installed console script itself), with ``input_text`` on its stdin.
        """
        if self.console_script:
            return subprocess.run(
                [*self.base_args(), *args],
                input=input_text,
                capture_output=True,
                text=True,
                env=self.env,
                timeout=60,
                check=False,
            )
        argv = [*self.base_args()[1:], *args]
        return fork_server().run(argv, self.env, REPO_ROOT, input_text=input_text, timeout=60)

    def create_user(self, email: str, password: str, name: str | None = None) -> dict[str, Any]:
        """``link-wallet user create`` (password on stdin); returns its JSON output."""
        args = ["user", "create", "--email", email, "--password-stdin"]
        if name:
            args += ["--name", name]
        result = self.run_cli(*args, input_text=password + "\n")
        if result.returncode != 0:
            raise RuntimeError(f"user create failed: {result.stderr}")
        return json.loads(result.stdout)

    def add_card(self, email: str, *, shipping: bool = True, **card: str) -> dict[str, Any]:
        """``link-wallet card add`` with :data:`DEFAULT_CARD` overridden by ``card``."""
        values = {**DEFAULT_CARD, **card}
        secrets_in = {"number": values.pop("number"), "cvc": values.pop("cvc")}
        args = ["card", "add", "--email", email, "--card-stdin"]
        for key, value in values.items():
            args += [f"--{key.replace('_', '-')}", value]
        if shipping:
            args.append("--shipping")
        # The number and CVC go on stdin, as docs/deploy.md advises, never into argv.
        result = self.run_cli(*args, input_text=json.dumps(secrets_in))
        if result.returncode != 0:
            raise RuntimeError(f"card add failed: {result.stderr}")
        return json.loads(result.stdout)

    def create_person(
        self,
        email: str | None = None,
        password: str | None = None,
        with_card: bool = True,
        name: str = "Jenny Rosen",
    ) -> Any:
        """A new person (unique email by default), with a Visa card and shipping address.

        Written in-process through the wallet's store, exactly as ``user create`` and
        ``card add --shipping`` would (those commands are tested as subprocesses on their own).
        """
        from .person import Person

        email = email or f"person-{secrets.token_hex(6)}@example.com"
        password = password or DEFAULT_PASSWORD
        store = self.store()
        user = store.create_user(email, password, name)
        payment_method_id = (
            store.add_card(email, DEFAULT_CARD, shipping=True)["id"] if with_card else None
        )
        return Person(
            wallet=self,
            email=email,
            password=password,
            user_id=user["id"],
            payment_method_id=payment_method_id,
        )

    def store(self) -> WalletStore:
        """This wallet's storage opened in-process (kept open until :meth:`stop`)."""
        if self._store is None:
            from .wallet_store import WalletStore

            self._store = WalletStore(self.data_dir, self.database_url, self.env)
        return self._store

    def stored_values(self) -> list[str]:
        """Every non-null value of every table of this wallet's database, as text.

        Works on the SQLite file and on PostgreSQL, so "nothing in clear" tests can scan both.
        """
        values: list[str] = []
        if self.database_url is None:
            import sqlite3

            with sqlite3.connect(self.data_dir / "wallet.db") as connection:
                listing = "SELECT name FROM sqlite_master WHERE type='table'"
                for (table,) in connection.execute(listing).fetchall():
                    for row in connection.execute(f'SELECT * FROM "{table}"'):  # our tables
                        values.extend(str(v) for v in row if v is not None)
            return values
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
            listing = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            for (table,) in connection.execute(listing).fetchall():
                for row in connection.execute(f'SELECT * FROM "{table}"'):  # our tables
                    values.extend(str(v) for v in row if v is not None)
        return values

    def advance_clock(self, seconds: int) -> int:
        """Move this process's clock forward; returns the wallet's new now (unix seconds)."""
        response = httpx2.post(
            f"{self.url}/__test__/clock", json={"advance_seconds": seconds}, timeout=10
        )
        response.raise_for_status()
        return int(response.json()["now"])

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL if it has not exited within the bound."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs. The storage is left as it is."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def restart(self) -> None:
        """Start the process again on the same port and storage (after :meth:`kill` or
        :meth:`stop`), so clients holding :attr:`url` reach the new process."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the wallet process is still running")
        self._spawn()

    def __enter__(self) -> WalletProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
