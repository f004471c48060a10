"""Long-poll: hold a request until what it waits for changes (docs/long-poll.md).

A client that asks ``Prefer: wait=N`` (RFC 7240) for a state that has not changed yet may be
held up to ``N`` seconds (at most ``LINK_WALLET_LONG_POLL_MAX_WAIT_SECONDS``) and is answered
with ``Preference-Applied: wait=N``. Clients that do not ask (the official CLI) are answered
at once, as before.

A held request costs no worker thread and no database connection: the route reads in a
worker thread, then awaits an ``asyncio.Event`` here, then reads again. Events are set by:

* a commit in this process that changed the key (``Database.commit_listeners``);
* on PostgreSQL, ``NOTIFY`` from any process, heard by one ``LISTEN`` task per process on
  its own connection (the notification is sent in the committing transaction);
* on SQLite (and on PostgreSQL while the listener reconnects) a re-check every
  ``recheck_ms`` that reads the versions of every waited-for key in one query per kind;
* the test clock moving, and shutdown (every held request is answered at once).

Routes pass the deadline of what they watch (a request's expiry) as the timeout, so expiry
wakes them too. Held requests are bounded per process and per agent: past the bound the
route answers 429 ``too_many_waiting_requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .domain.errors import RateLimited, WalletError
from .settings import LongPollSettings
from .store import changes
from .store.engine import Database

log = logging.getLogger("link_wallet.long_poll")

TOO_MANY_WAITING = "too_many_waiting_requests"
_LISTEN_START_SECONDS = 5.0
_RECONNECT_SECONDS = 1.0


def requested_wait(request: Request, settings: LongPollSettings) -> int | None:
    """The seconds a ``Prefer: wait=N`` header asks for, capped by the settings; None when
    long-poll is off or the client did not ask (or asked for 0)."""
    if not settings.enabled:
        return None
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() != "wait":
                continue
            value = value.strip().strip('"')
            if value.isascii() and value.isdigit() and 0 < len(value) <= 6 and int(value) > 0:
                return min(int(value), settings.max_wait_seconds)
    return None


def applied(seconds: int) -> dict[str, str]:
    """Response headers of a request that was held (or could have been) up to ``seconds``."""
    return {"Preference-Applied": f"wait={seconds}", "Vary": "Prefer"}


class _Waiter:
    __slots__ = ("event", "version")

    def __init__(self, version: str | None) -> None:
        self.event = asyncio.Event()
        self.version = version


class LongPoll:
    """One per app (``app.state.long_poll``): who waits for which key, and what wakes them."""

    def __init__(self, settings: LongPollSettings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._waiters: dict[str, set[_Waiter]] = {}
        self._held = 0
        self._per_agent: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._listening = False
        self._tasks: list[asyncio.Task[None]] = []
        self._signals: dict[int, Any] = {}
        database.commit_listeners.append(self._committed)

    @property
    def held(self) -> int:
        """Requests held right now."""
        return self._held

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the listener (PostgreSQL) and the re-check; release held requests on
        SIGTERM/SIGINT before the server waits for in-flight requests to finish."""
        self._loop = asyncio.get_running_loop()
        self._closing = False
        if not self.settings.enabled:
            return
        self._tasks.append(asyncio.create_task(self._recheck_forever()))
        if self.database.engine.dialect.name == "postgresql":
            listening = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._listen_forever(listening)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listening.wait(), _LISTEN_START_SECONDS)
        self._chain_signal_handlers()

    async def stop(self) -> None:
        """Answer every held request and stop the background tasks."""
        self.release()
        for sig, handler in self._signals.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
        self._signals.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def release(self) -> None:
        """Shutdown: wake every held request and hold no new one."""
        self._closing = True
        self.wake_all()

    def _chain_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop = self._loop
        assert loop is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: Any, previous: Callable[..., Any] = previous) -> None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(self.release)
                previous(signum, frame)

            self._signals[sig] = previous
            signal.signal(sig, handler)

    # -- waking -------------------------------------------------------------------------------

    def _committed(self, keys: frozenset[str]) -> None:
        """A commit in this process (any thread) changed ``keys``."""
        loop = self._loop
        if loop is None or not self._waiters:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(self.wake, keys)

    def wake(self, keys: Collection[str]) -> None:
        """Wake whoever waits on one of ``keys`` (on the event loop)."""
        for key in keys:
            for waiter in self._waiters.get(key, ()):
                waiter.event.set()

    def wake_all(self) -> None:
        """Wake every waiter: each reads again and decides (the clock moved, shutdown)."""
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.event.set()

    # -- holding ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def watch(self, key: str) -> Iterator[_Waiter | None]:
        """Watch ``key``. Enter it *before* the first read, so a change committed meanwhile
        is not missed, then set the waiter's ``version`` to what that read saw. Yields None
        while shutting down (answer at once)."""
        if self._closing:
            yield None
            return
        waiter = _Waiter(None)
        self._waiters.setdefault(key, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[key]

    @contextlib.contextmanager
    def count(self, agent: str, refusal: Callable[[str], WalletError]) -> Iterator[None]:
        """Count one held request of ``agent``; raise ``refusal(message)`` past a bound."""
        if self._held >= self.settings.max_held:
            raise refusal(
                f"This wallet process already holds {self.settings.max_held} waiting requests; "
                "poll again without Prefer: wait, or later."
            )
        count = self._per_agent.get(agent, 0)
        if count >= self.settings.max_held_per_agent:
            raise refusal(
                f"This connection already has {self.settings.max_held_per_agent} waiting "
                "requests; poll again without Prefer: wait, or later."
            )
        self._held += 1
        self._per_agent[agent] = count + 1
        try:
            yield
        finally:
            self._held -= 1
            left = self._per_agent[agent] - 1
            if left:
                self._per_agent[agent] = left
            else:
                del self._per_agent[agent]

    async def wait(
        self, waiter: _Waiter, timeout: float, gone: asyncio.Future[None] | None = None
    ) -> None:
        """Return when the waiter's key may have changed, after ``timeout`` seconds, at
        shutdown, or when ``gone`` (the client disconnected) is done. The caller reads again
        to find out which."""
        if self._closing or timeout <= 0:
            return
        woken = asyncio.ensure_future(waiter.event.wait())
        try:
            await asyncio.wait(
                {woken, gone} if gone else {woken},
                timeout=timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()
        waiter.event.clear()

    @property
    def closing(self) -> bool:
        """Shutting down: held requests are being answered."""
        return self._closing

    # -- across processes ---------------------------------------------------------------------

    async def _recheck_forever(self) -> None:
        period = self.settings.recheck_ms / 1000
        while True:
            await asyncio.sleep(period)
            if self._listening or not self._waiters:
                continue
            keys = list(self._waiters)
            try:
                current = await run_in_threadpool(self._versions, keys)
            except Exception:  # a busy or restarting database: try again next period
                log.warning("long-poll re-check failed", exc_info=True)
                continue
            for key in keys:
                for waiter in self._waiters.get(key, ()):
                    if current.get(key) != waiter.version:
                        waiter.event.set()

    def _versions(self, keys: list[str]) -> dict[str, str]:
        with self.database.read_connection() as connection:
            return changes.versions(connection, keys)

    async def _listen_forever(self, listening: asyncio.Event) -> None:
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {changes.CHANNEL}")
                    self._listening = True
                    listening.set()
                    self.wake_all()  # whatever changed while nobody listened
                    async for notification in connection.notifies():
                        self.wake((notification.payload,))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("long-poll listener lost its connection; reconnecting", exc_info=True)
            finally:
                self._listening = False
            await asyncio.sleep(_RECONNECT_SECONDS)


class Seen(NamedTuple):
    """One read of a watched thing."""

    value: Any
    version: str | None
    """Comparable with :func:`store.changes.versions` for the watched key."""
    waitable: bool
    """Still in a state worth waiting on (not final for the client)."""
    due: datetime | None = None
    """When it changes by itself (a request's expiry), by the wallet's clock."""


def too_many_waiting(message: str) -> WalletError:
    """429 past a bound, in the Link API's error shape."""
    return RateLimited(message, code=TOO_MANY_WAITING, headers={"Retry-After": "1"})


async def hold_until_changed(
    request: Request,
    *,
    key: str,
    agent: str,
    read: Callable[[], Seen],
    refusal: Callable[[str], WalletError] = too_many_waiting,
) -> tuple[Any, dict[str, str]]:
    """Read once (in a worker thread); with ``Prefer: wait=N`` and a waitable state, hold the
    request on the event loop until the version changes, the state stops being waitable,
    ``due`` passes or ``N`` seconds pass, reading again after each wake-up. Returns the last
    value and the headers to answer with."""
    hub: LongPoll = request.app.state.long_poll
    seconds = requested_wait(request, hub.settings)
    if seconds is None:
        return (await run_in_threadpool(read)).value, {}
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    clock = request.app.state.clock
    with hub.watch(key) as waiter:
        seen = await run_in_threadpool(read)
        if waiter is None or not seen.waitable:
            return seen.value, {}
        with hub.count(agent, refusal):
            waiter.version = seen.version
            gone = asyncio.ensure_future(_disconnected(request))
            try:
                while True:
                    timeout = end - loop.time()
                    if seen.due is not None:
                        # A hair past the deadline, so the next read finds it passed.
                        timeout = min(timeout, (seen.due - clock.now()).total_seconds() + 0.01)
                    await hub.wait(waiter, max(timeout, 0.01), gone)
                    if gone.done():  # nobody to answer: free the hold now
                        return seen.value, applied(seconds)
                    fresh = await run_in_threadpool(read)
                    if (
                        fresh.version != seen.version
                        or not fresh.waitable
                        or loop.time() >= end - 0.005
                        or hub.closing
                    ):
                        return fresh.value, applied(seconds)
            finally:
                gone.cancel()


async def _disconnected(request: Request) -> None:
    """Return when the client has gone (its connection closed while the poll is held)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
