"""Runs the demo merchant as a real subprocess on a free loopback port (for tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from tests.support.environment import clean_env
from tests.support.ports import free_port

CHALLENGE_SECRET = "test-merchant-challenge-secret-0123456789abcdef"


@dataclass
class ShopProcess:
    """``python -m link_cli.merchant`` settling at ``wallet_url``; use as a context manager."""

    wallet_url: str
    secret_key: str
    network_id: str
    challenge_ttl: int = 300
    extra_env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    _process: subprocess.Popen[bytes] | None = None
    _log: Path | None = None

    def __enter__(self) -> ShopProcess:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = clean_env(
            {
                "LINK_MERCHANT_WALLET_URL": self.wallet_url,
                "LINK_MERCHANT_SECRET_KEY": self.secret_key,
                "LINK_MERCHANT_NETWORK_ID": self.network_id,
                "LINK_MERCHANT_CHALLENGE_SECRET": CHALLENGE_SECRET,
                **self.extra_env,
            },
            drop_prefixes=("LINK_", "MPP_"),
        )
        handle, name = tempfile.mkstemp(prefix="shop-", suffix=".log")
        self._log = Path(name)
        with os.fdopen(handle, "wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "link_cli.merchant",
                    "--port",
                    str(port),
                    "--challenge-ttl",
                    str(self.challenge_ttl),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        for _ in range(300):  # bounded: 30 s at most
            if self._process.poll() is not None:
                raise RuntimeError(f"the shop exited during start-up:\n{self.log()}")
            try:
                if httpx2.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the shop did not answer in time:\n{self.log()}")

    def log(self) -> str:
        """What the shop printed so far."""
        return self._log.read_text(errors="replace") if self._log else ""

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._log is not None:
            self._log.unlink(missing_ok=True)
