"""Fixtures of the interop suite: peer processes (pympp and mppx merchants, the mppx
client) and an agent whose spend requests the person approves on the wallet's page."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from tests.merchant.buyer import Buyer, demo_shop, logged_in_buyer
from tests.merchant.shop_process import ShopProcess
from tests.redemption.delegated import Merchant, register_merchant
from tests.support.environment import clean_env, outer_env
from tests.support.ports import free_port
from tests.support.wallet import WalletProcess

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Peers start slowly, and the first test may install mppx with npm (up to 300 s)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.timeout(600))


@pytest.fixture(scope="module")
def buyer(wallet: WalletProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Buyer]:
    with logged_in_buyer(wallet, tmp_path_factory.mktemp("interop-agent")) as person_and_agent:
        yield person_and_agent


@pytest.fixture(scope="module", name="demo_shop")
def demo_shop_fixture(wallet: WalletProcess) -> Iterator[tuple[Merchant, ShopProcess]]:
    """Our demo merchant, registered at the wallet."""
    with demo_shop(wallet) as merchant_and_shop:
        yield merchant_and_shop


@contextlib.contextmanager
def _peer(argv: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run a peer merchant on a free loopback port until ``/healthz`` answers; yield its URL.

    ``argv`` holds ``{port}``, replaced by the port; the peer is stopped at the end.
    """
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="peer-merchant-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(  # the child keeps its own descriptor of the log
            [arg.replace("{port}", str(port)) for arg in argv],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded: 30 s
            if process.poll() is not None:
                raise RuntimeError(Path(log.name).read_text(errors="replace"))
            try:
                if httpx2.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the peer merchant did not start: {argv[:2]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        Path(log.name).unlink(missing_ok=True)


def _peer_env(**extra: str) -> dict[str, str]:
    return clean_env(extra, drop_prefixes=("LINK_", "MPP_"))


@pytest.fixture(scope="module")
def pympp_merchant(wallet: WalletProcess) -> Iterator[tuple[Merchant, str]]:
    """A merchant built with pympp 0.16.0 only, settling at the wallet: (merchant, url)."""
    merchant = register_merchant(wallet)
    argv = [
        sys.executable,
        str(HERE / "pympp_merchant.py"),
        "--port",
        "{port}",
        "--wallet-url",
        wallet.url,
        "--secret-key",
        merchant.secret_key,
        "--network-id",
        merchant.network_id,
    ]
    with _peer(argv, _peer_env()) as url:
        yield merchant, url


@pytest.fixture(scope="session")
def node_peers() -> Path:
    """The directory holding ``node_modules/mppx`` 0.11.0; installs it (npm) when missing.

    Skipped, with the reason, only when Node is not installed.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm are not installed: the mppx 0.11.0 interop tests need them")
    result = subprocess.run(
        [str(REPO / "scripts" / "install-node-peers.sh")],
        env=outer_env(),  # npm's own configuration and cache live in the real home
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"installing mppx failed:\n{result.stderr[-2000:]}"
    return Path(result.stdout.strip())


@pytest.fixture(scope="session")
def mppx_client(node_peers: Path) -> str:
    """File URL of mppx 0.11.0's client module."""
    module = node_peers / "node_modules" / "mppx" / "dist" / "client" / "index.js"
    assert module.is_file(), module
    return module.as_uri()


@pytest.fixture(scope="module")
def mppx_merchant(wallet: WalletProcess, node_peers: Path) -> Iterator[tuple[Merchant, str]]:
    """A merchant built with mppx 0.11.0's server, settling at the wallet: (merchant, url)."""
    merchant = register_merchant(wallet)
    argv = [
        "node",
        str(HERE / "mppx_merchant.mjs"),
        str(node_peers),
        "{port}",
        wallet.url,
        merchant.network_id,
    ]
    with _peer(argv, _peer_env(MERCHANT_SECRET_KEY=merchant.secret_key)) as url:
        yield merchant, url
