"""Provision the demo wallet with the real ``link-wallet`` administration commands.

The demo creates what a newcomer would otherwise set up by hand (docs/internals.md,
"Wallet: command line"): the database, a sandbox person with a test card, and a merchant
account whose secret key the demo merchant uses to settle payments at the wallet. It runs
the same commands an operator would, against the demo's own data directory.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from link_cli.demo.agent import child_environment
from link_cli.demo.processes import program_argv

__all__ = [
    "DemoMerchantAccount",
    "DemoPersonAccount",
    "WalletAdmin",
    "WalletAdminError",
    "new_demo_person",
]

_ADMIN_TIMEOUT_SECONDS = 120.0
_SECRET_KEY = re.compile(r"sk_test_[A-Za-z0-9_-]+")

# The person's own card: the well-known Visa test number. The wallet never charges it; it
# is what approved spend requests are backed by when the wallet issues a virtual card.
TEST_CARD = {
    "number": "4242424242424242",
    "cvc": "123",
    "name": "Demo Person",
    "line1": "510 Townsend St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94103",
    "country": "US",
}


class WalletAdminError(RuntimeError):
    """A ``link-wallet`` administration command failed."""


@dataclass(frozen=True)
class DemoPersonAccount:
    """The sandbox person: sign-in details for the wallet's pages."""

    email: str
    name: str
    password: str


@dataclass(frozen=True)
class DemoMerchantAccount:
    """The merchant registered at the wallet: its name, network id and secret key."""

    name: str
    network_id: str
    secret_key: str


def new_demo_person() -> DemoPersonAccount:
    """A person with a fresh random password (shown on a terminal so a person can sign in)."""
    return DemoPersonAccount(
        email="demo@example.com",
        name="Demo Person",
        password=secrets.token_urlsafe(12),
    )


@dataclass
class WalletAdmin:
    """Runs ``link-wallet --data-dir <dir> …`` with a clean environment."""

    data_dir: Path

    def upgrade_database(self) -> None:
        """Create or migrate the wallet's database (``db upgrade``)."""
        self._run("db", "upgrade")

    def create_person(self, person: DemoPersonAccount) -> dict[str, Any]:
        """``user create``; the password goes through stdin, never argv."""
        output = self._run(
            "user",
            "create",
            "--email",
            person.email,
            "--name",
            person.name,
            "--password-stdin",
            stdin=person.password + "\n",
        )
        return _json_object(output, "user create")

    def add_test_card(self, person: DemoPersonAccount) -> dict[str, Any]:
        """``card add``: the Visa test card as the default, its address also for shipping."""
        expiry_year = datetime.datetime.now(datetime.UTC).year + 3
        card = TEST_CARD
        output = self._run(
            "card",
            "add",
            "--email",
            person.email,
            "--card-stdin",  # number and CVC stay out of the process list
            "--exp-month",
            "12",
            "--exp-year",
            str(expiry_year),
            "--name",
            card["name"],
            "--line1",
            card["line1"],
            "--city",
            card["city"],
            "--state",
            card["state"],
            "--postal-code",
            card["postal_code"],
            "--country",
            card["country"],
            "--nickname",
            "Demo Visa",
            "--default",
            "--shipping",
            stdin=json.dumps({"number": card["number"], "cvc": card["cvc"]}),
        )
        return _json_object(output, "card add")

    def create_merchant(self, name: str, network_id: str) -> DemoMerchantAccount:
        """``merchant create``; returns the account with its ``sk_test_…`` key."""
        output = self._run("merchant", "create", "--name", name, "--network-id", network_id)
        try:
            key = json.loads(output).get("secret_key")
        except (json.JSONDecodeError, AttributeError):
            match = _SECRET_KEY.search(output)
            key = match.group(0) if match else None
        if not isinstance(key, str) or not key.startswith("sk_test_"):
            raise WalletAdminError("`link-wallet merchant create` printed no sk_test_ key")
        return DemoMerchantAccount(name=name, network_id=network_id, secret_key=key)

    def _run(self, *args: str, stdin: str | None = None) -> str:
        argv = [*program_argv("link-wallet"), "--data-dir", str(self.data_dir), *args]
        completed = subprocess.run(
            argv,
            env=child_environment({}),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=_ADMIN_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit status {completed.returncode}"
            raise WalletAdminError(f"`link-wallet {' '.join(args[:2])}` failed: {last}")
        return completed.stdout


def _json_object(output: str, command: str) -> dict[str, Any]:
    try:
        value = json.loads(output)
    except json.JSONDecodeError as error:
        raise WalletAdminError(f"`link-wallet {command}` did not print JSON") from error
    if not isinstance(value, dict):
        raise WalletAdminError(f"`link-wallet {command}` printed {type(value).__name__}")
    return value
