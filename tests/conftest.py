"""Fixtures shared by every suite.

* every test runs with no ``LINK_*`` variable from the outer environment (autouse);
* ``HOME`` and the XDG base directories point at a temporary directory, one for the session's
  shared fixtures and one per test (autouse), so no test touches a real ~/.config/link-cli;
* ``wallet``: one real SQLite-backed ``link-wallet serve`` for the session (for each xdist
  worker);
* ``pg_wallet``: the same on PostgreSQL, in a fresh database of ``LINK_TEST_POSTGRES_URL``
  (skipped with a reason when that is unset; ``make test`` always sets it);
* ``any_wallet``: parametrized over both, for suites that must pass on either store.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# `tests.support` must import the same way under `pytest` and `python -m pytest`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.support.environment import HOME_VARIABLES, home_layout  # noqa: E402
from tests.support.fork_server import stop_fork_server  # noqa: E402
from tests.support.wallet import WalletProcess  # noqa: E402

POSTGRES_ENV = "LINK_TEST_POSTGRES_URL"

# Every httpx2 client builds its own TLS context, loading the system's CA bundle: about 25 ms
# of CPU, spent even for the plain-HTTP loopback calls that are all the tests make, and the
# tests make thousands of clients (each ``httpx2.get`` is one). One context per test process,
# built on first use, serves them all; it is never changed after it is built.
import httpcore2  # noqa: E402

httpcore2.default_ssl_context = functools.cache(httpcore2.default_ssl_context)

# No test asserts on wall-clock time, so Hypothesis's per-example deadline is off (on a
# loaded machine it fails tests that are merely slow). Property tests that do not set their
# own example count run 100 examples in `make test` ("suite"), 25 in `make check` ("quick")
# and 1,000 with HYPOTHESIS_PROFILE=deep, a long search to run now and then; every input a
# search once found stays pinned as an @example or a named test.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("suite", deadline=None)
_hypothesis_settings.register_profile("quick", deadline=None, max_examples=25)
_hypothesis_settings.register_profile("deep", deadline=None, max_examples=1000)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
_POSTGRES_URL = os.environ.get(POSTGRES_ENV)


@pytest.fixture(scope="session", autouse=True)
def _fork_server() -> Iterator[None]:
    """Stops the wallets' fork server (tests/support/wallet.py) after every wallet, last."""
    yield
    stop_fork_server()


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary home for session- and module-scoped fixtures (set up before any test's)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in home_layout(tmp_path_factory.mktemp("session-home")).items():
            patch.setenv(name, value)
        yield


@pytest.fixture(autouse=True)
def _no_link_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.startswith("LINK_"):
            monkeypatch.delenv(name, raising=False)
    layout = home_layout(tmp_path_factory.mktemp("home"))
    for name in HOME_VARIABLES:
        monkeypatch.setenv(name, layout[name])


_MIGRATED_TEMPLATES: dict[str, str] = {}


def fresh_postgres_database(base_url: str, *, migrated: bool = False) -> str:
    """Create a database next to ``base_url``'s and return its URL: empty, or with
    ``migrated`` a copy of one brought to the newest revision once per test process
    (PostgreSQL copies a template database far faster than the migrations replay)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    template = None
    if migrated:
        template = _MIGRATED_TEMPLATES.get(base_url)
        if template is None:
            from link_cli.wallet.store.migrations import upgrade

            template_url = fresh_postgres_database(base_url)
            upgrade(template_url)  # disposes its engine: nobody stays connected to the template
            template = make_url(template_url).database
            _MIGRATED_TEMPLATES[base_url] = template
    name = "link_wallet_" + secrets.token_hex(6)
    conninfo = url.set(drivername="postgresql", database=url.database or "postgres")
    with psycopg.connect(
        conninfo.render_as_string(hide_password=False), autocommit=True
    ) as connection:
        # Both names are our own hex, not input.
        copy = f' TEMPLATE "{template}"' if template else ""
        connection.execute(f'CREATE DATABASE "{name}"{copy}')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """A wallet on SQLite shared by the whole session (create your own people in it)."""
    with WalletProcess.start(tmp_path_factory.mktemp("wallet")) as process:
        yield process


@pytest.fixture(scope="session")
def pg_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """A wallet on a fresh PostgreSQL database, shared by the session."""
    if not _POSTGRES_URL:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(_POSTGRES_URL, migrated=True)
    with WalletProcess.start(tmp_path_factory.mktemp("pg-wallet"), database_url=url) as process:
        yield process


@pytest.fixture(params=["sqlite", "postgres"])
def any_wallet(request: pytest.FixtureRequest) -> WalletProcess:
    """The SQLite wallet, then the PostgreSQL one."""
    name = "wallet" if request.param == "sqlite" else "pg_wallet"
    return request.getfixturevalue(name)


@pytest.fixture
def make_wallet(tmp_path: Path) -> Iterator[object]:
    """Factory for a private wallet process (stopped at the end of the test)."""
    started: list[WalletProcess] = []

    def factory(**kwargs: object) -> WalletProcess:
        process = WalletProcess.start(tmp_path / f"w{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(process)
        return process

    yield factory
    for process in started:
        process.stop()


# Fixtures that start a wallet (or another server) process: tests using them are `server`.
SERVER_FIXTURES = frozenset(
    {"wallet", "pg_wallet", "any_wallet", "make_wallet", "clock_wallet", "limited_wallet"}
)


# The modules that take longest (measured with --durations=0), handed to xdist workers first:
# one started last would leave the other worker idle at the end of the run.
LONGEST_FIRST = (
    "tests/security/test_throttles.py",
    "tests/wallet/test_spend_api.py",
    "tests/demo/test_demo_command.py",
    "tests/security/test_zero_5xx.py",
    "tests/mcp/test_mcp_flow.py",
    "tests/security/test_agent_isolation.py",
    "tests/mcp/test_mcp_stdio_tools.py",
    "tests/redemption/test_api.py",
    "tests/security/test_lost_update.py",
    "tests/soak/test_soak.py",
    "tests/security/test_card_enumeration.py",
    "tests/security/test_test_mode.py",
    "tests/redemption/test_race.py",
    "tests/wallet/test_wallet_cli.py",
    "tests/e2e/test_command_tree.py",
    "tests/security/test_shown_is_charged.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand out modules in the order of the collection as reordered below (not
    by test count), so that each worker reaches the Playwright modules only after all the
    others."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that start a server process or a browser, start the longest modules first
    and run the Playwright ones last.

    ``make check`` runs ``-m "not server and not browser"``. Modules whose tests start
    processes themselves carry ``pytestmark = pytest.mark.server``.

    Playwright's sync API keeps an event loop running in the main thread for the rest of the
    session, after which ``asyncio.run`` (and anyio-marked tests) would fail; under xdist every
    worker runs its own share in this order too.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)
        if "page" in names or "browser" in names or "playwright" in names:
            item.add_marker(pytest.mark.browser)
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda i: rank.get(i.nodeid.split("::")[0], len(rank)))  # stable
    uses_playwright = [i for i in items if "playwright" in getattr(i, "fixturenames", ())]
    if uses_playwright:
        chosen = set(map(id, uses_playwright))
        items[:] = [i for i in items if id(i) not in chosen] + uses_playwright
