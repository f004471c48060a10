"""Everything the demo starts, in one place, and stopped again on the way out.

A :class:`DemoSession` owns a private directory (0700: it holds the wallet's database and
key file, the agent's credential file and the retrieved card), the wallet and shop
processes, and the clients that talk to them. Leaving the ``with`` block — normally, on
an error, or on Ctrl-C — stops both servers and deletes the directory, unless ``keep``.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from link_cli.demo.agent import LinkCliAgent, child_environment
from link_cli.demo.processes import (
    ProcessStartError,
    ServerSupervisor,
    free_loopback_port,
    program_argv,
)
from link_cli.demo.progress import StepReporter
from link_cli.demo.shop import DemoShop
from link_cli.demo.wallet_admin import DemoPersonAccount, WalletAdmin, new_demo_person

__all__ = ["DemoSession"]

SHOP_NAME = "Trailhead Supply Co."
# The shop's seller identity at the wallet; SPTs are bound to it (contract §8.1).
SHOP_NETWORK_ID = "profile_demo_trailhead"
_START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


class DemoSession:
    """The demo's world: directory, wallet, shop, person and the agent's CLI."""

    def __init__(self, reporter: StepReporter, *, keep: bool) -> None:
        self.reporter = reporter
        self.keep = keep
        self.work_dir = Path(tempfile.mkdtemp(prefix="link-cli-demo-"))
        self.supervisor = ServerSupervisor(log_dir=self.work_dir)
        self.person: DemoPersonAccount = new_demo_person()
        self.wallet_url = ""
        self.shop = DemoShop(base_url="", name=SHOP_NAME)
        self.agent = LinkCliAgent(wallet_url="", auth_file=self.work_dir / "link-cli-auth.json")

    def __enter__(self) -> DemoSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.keep:
            kept = self.supervisor.detach_all()
            if kept:
                pids = ", ".join(f"{server.name} pid {server.pid}" for server in kept)
                self.reporter.line(f"Left running ({pids}); files in {self.work_dir}")
                for line in self.sign_in_lines():
                    self.reporter.line(line)
                stop = " ".join(str(server.pid) for server in kept)
                self.reporter.line(f"Stop them with: kill {stop}")
            return
        # A second Ctrl-C must not cut the clean-up short and orphan a server; stopping
        # is bounded (a grace period, then SIGKILL), so holding interrupts back is safe.
        with _interrupts_deferred():
            self.supervisor.stop_all()
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def sign_in_lines(self) -> list[str]:
        """How a person signs in to the wallet the demo leaves running (``--keep``)."""
        if not self.wallet_url:
            return []
        return [
            f"Sign in to the wallet at {self.wallet_url}/wallet",
            f"  email: {self.person.email}",
            f"  password: {self.person.password}",
        ]

    def start(self) -> None:
        """Provision the wallet, start it, register and start the shop."""
        wallet_dir = self.work_dir / "wallet"
        admin = WalletAdmin(data_dir=wallet_dir)
        with self.reporter.step("Create the wallet's database") as step:
            admin.upgrade_database()
            step.detail = f"SQLite in {wallet_dir}"
        with self.reporter.step("Create a sandbox person with a test card") as step:
            admin.create_person(self.person)
            card = admin.add_test_card(self.person)
            step.detail = (
                f"{self.person.email}, {card.get('brand', 'card')} ending {card.get('last4')}"
            )
        with self.reporter.step("Register the demo shop as a merchant") as step:
            merchant = admin.create_merchant(SHOP_NAME, SHOP_NETWORK_ID)
            step.detail = f"{SHOP_NAME} ({SHOP_NETWORK_ID})"
        with self.reporter.step("Start the wallet") as step:
            self.wallet_url = self._start_wallet(wallet_dir)
            step.detail = self.wallet_url
        with self.reporter.step("Start the demo shop") as step:
            shop_url = self._start_shop(merchant.secret_key, merchant.network_id)
            step.detail = shop_url
        self.shop = DemoShop(base_url=shop_url, name=SHOP_NAME)
        self.agent = LinkCliAgent(wallet_url=self.wallet_url, auth_file=self.agent.auth_file)

    def _start_wallet(self, data_dir: Path) -> str:
        def launch(port: int, url: str) -> tuple[list[str], dict[str, str]]:
            argv = [
                *program_argv("link-wallet"),
                "--data-dir",
                str(data_dir),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            env = child_environment({"LINK_WALLET_PUBLIC_URL": url, "PYTHONUNBUFFERED": "1"})
            return argv, env

        return self._start_on_free_port("wallet", launch)

    def _start_shop(self, secret_key: str, network_id: str) -> str:
        def launch(port: int, url: str) -> tuple[list[str], dict[str, str]]:
            argv = [
                sys.executable,
                "-m",
                "link_cli.merchant",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--wallet-url",
                self.wallet_url,
                "--network-id",
                network_id,
            ]
            # The key travels in the environment: argv is visible to every local user.
            env = child_environment(
                {
                    "LINK_MERCHANT_SECRET_KEY": secret_key,
                    "LINK_MERCHANT_NAME": SHOP_NAME,
                    "PYTHONUNBUFFERED": "1",
                }
            )
            return argv, env

        return self._start_on_free_port("shop", launch)

    def _start_on_free_port(
        self, name: str, launch: Callable[[int, str], tuple[list[str], dict[str, str]]]
    ) -> str:
        """Start server ``name`` on a free loopback port; retry if the port got taken."""
        for attempt in range(_START_ATTEMPTS):
            port = free_loopback_port()
            url = f"http://127.0.0.1:{port}"
            argv, env = launch(port, url)
            try:
                self.supervisor.start(name, argv, base_url=url, env=env, health_path="/healthz")
                return url
            except ProcessStartError as error:
                if not error.exited or attempt == _START_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ignore SIGINT inside the block (main thread only; elsewhere signals never arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
