"""Database engine and sessions (synchronous SQLAlchemy).

SQLite gets WAL, foreign keys and a busy timeout on every connection, and every transaction
starts with ``BEGIN IMMEDIATE``: writers are serialized up front, so a read-then-write
(check-then-act) inside one transaction cannot interleave with another process's write, and
no transaction fails half-way with SQLITE_BUSY on lock upgrade. PostgreSQL uses psycopg 3;
there, code that checks then acts on a person's data locks the person first
(``spend_requests.lock_person``).
Callers use :func:`session_scope` (scripts, CLI) or the FastAPI dependency in ``wallet/deps.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a SQLite writer waits for the write lock (then ``database_busy``, 503)."""
_READ_ONLY = "wallet_read_only"
_CHANGED_KEYS = "changed_keys"  # store/changes.SESSION_KEYS (changes imports the models)


def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED_KEYS, None)


class ReadOnlyTransaction(RuntimeError):
    """A write was attempted in a read transaction (a programming error)."""


# SQLSTATEs of PostgreSQL's transient lock conflicts: serialization failure, deadlock,
# lock not available.
_PG_CONTENTION = frozenset({"40001", "40P01", "55P03"})


def is_contention(error: BaseException) -> bool:
    """True when ``error`` means the database was too busy, not that the request was wrong:
    SQLite's busy timeout ran out ("database is locked") or PostgreSQL gave up on a lock."""
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    if "database is locked" in str(error.orig) or "database is busy" in str(error.orig):
        return True
    return getattr(error.orig, "sqlstate", None) in _PG_CONTENTION


def is_writable(session: Session) -> bool:
    """False for sessions of :meth:`Database.read_scope`, which must not write."""
    return not session.info.get(_READ_ONLY, False)


def make_engine(database_url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """Create an engine for ``sqlite:///…`` or ``postgresql+psycopg://…`` URLs."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            _create_private_file(Path(url.database).expanduser())
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            # One connection per worker thread (anyio's 40), all kept: an overflow connection
            # is closed on return, and reopening one (file, WAL, pragmas) costs more than the
            # query it serves.
            pool_size=40,
            max_overflow=0,
        )
        event.listen(engine, "connect", partial(_configure_sqlite, busy_timeout_ms))
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # hide_parameters: error messages and logs never carry bound values.
    # 15 connections per process, all kept open (no overflow to close and reconnect).
    return create_engine(
        url, pool_pre_ping=True, hide_parameters=True, pool_size=15, max_overflow=0
    )


def _create_private_file(path: Path) -> None:
    # The database holds password hashes and ciphertexts: keep it 0600 from the first byte
    # (SQLite gives its -wal/-shm files the same mode).
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
    except FileExistsError:
        return
    os.close(fd)


def _configure_sqlite(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # Readers take no lock until their first SELECT (a WAL snapshot); writers take the
    # write lock up front, waiting at most the busy timeout.
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _refuse_write_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        raise ReadOnlyTransaction("a read transaction must not write")


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyTransaction("a read transaction must not write")


class Database:
    """An engine and its session factories; one per process (``app.state.db``)."""

    def __init__(self, database_url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self.engine = make_engine(database_url, busy_timeout_ms=busy_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}),
            expire_on_commit=False,
            info={_READ_ONLY: True},
        )
        event.listen(self.read_sessions, "do_orm_execute", _refuse_write_statement)
        event.listen(self.read_sessions, "before_flush", _refuse_flush)
        self._read_engine = self.engine.execution_options(**{_READ_ONLY: True})
        # On PostgreSQL one SELECT needs no transaction around it (a statement sees one
        # snapshot): in autocommit the token lookup is one round trip, not BEGIN, SELECT and
        # COMMIT. SQLite keeps its explicit read transaction (no lock until the SELECT).
        self._lookup_engine = self._read_engine
        if self.engine.dialect.name == "postgresql":
            self._lookup_engine = self._read_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.commit_listeners: list[Callable[[frozenset[str]], None]] = []
        """Called (in the committing thread) with the change keys of each commit that had some
        (``store/changes.py``)."""
        event.listen(self.sessions, "after_commit", self._announce)
        event.listen(self.sessions, "after_rollback", _forget_changes)

    def _announce(self, session: Session) -> None:
        keys = session.info.pop(_CHANGED_KEYS, None)
        if keys:
            for listener in self.commit_listeners:
                listener(frozenset(keys))

    @contextmanager
    def write_scope(self) -> Iterator[Session]:
        """A transaction that may write (on SQLite it holds the write lock from its start):
        commits when the block succeeds and rolls back when it raises. Keep it short."""
        with self._scope(self.sessions) as session:
            yield session

    # Scripts and the CLI write.
    session_scope = write_scope

    @contextmanager
    def read_scope(self) -> Iterator[Session]:
        """A transaction that only reads: takes no lock on SQLite, refuses any write."""
        with self._scope(self.read_sessions) as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection in a read transaction (no lock on SQLite), for a lookup done on
        every request (the bearer token) where an ORM session's bookkeeping would cost more
        than the query itself. Only for a single SELECT (autocommit on PostgreSQL)."""
        with self._lookup_engine.connect() as connection:
            yield connection
            connection.commit()

    def open_session(self, *, read_only: bool) -> Session:
        """A new session of either kind. Opening it does no I/O (it connects on first use),
        so it may be called on the event loop; end it with :meth:`end_session`."""
        return (self.read_sessions if read_only else self.sessions)()

    @staticmethod
    def end_session(session: Session, *, commit: bool) -> None:
        """Commit (or roll back) ``session``'s transaction and close it; a failed commit
        is rolled back and raised."""
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @classmethod
    @contextmanager
    def _scope(cls, factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            yield session
        except BaseException:
            cls.end_session(session, commit=False)
            raise
        cls.end_session(session, commit=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
