"""Credential storage: the ``auth`` / ``pendingDeviceAuth`` document (contract §6.5).

The file is JSON, tab-indented (shown here with spaces), with exactly two top-level keys::

    {
        "auth": null | {access_token, refresh_token, expires_in, token_type,
                            scope?, authorization_details?, expires_at},
        "pendingDeviceAuth": null | {device_code, interval, expires_at, verification_url,
                                         phrase, replaces_existing_session?}
    }

Both ``expires_at`` values are epoch milliseconds. Location: an explicit path (``--auth``)
or ``LINK_AUTH_FILE``, with ``.json`` appended when the name lacks it, made absolute; else
``${XDG_CONFIG_HOME:-~/.config}/link-cli/config.json``. (The Node CLI uses
``link-cli-nodejs``; our default server differs, so we keep our own file.)

Unlike the official client, every read-modify-write holds an exclusive ``flock`` on
``<file>.lock``: two processes refreshing at once must not lose a rotated refresh token
(see :mod:`link_cli.sdk._tokens`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from link_cli._secret_files import SecretFileError, atomic_write_private
from link_cli.sdk._config import AUTH_FILE_ENV
from link_cli.sdk._errors import LinkConfigurationError, LinkSdkError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from link_cli.sdk.types import (
        CredentialsDocument,
        PendingDeviceAuth,
        StoredAuth,
        TokenResponse,
    )

# Longer than one refresh exchange (30 s HTTP timeout), which runs while the lock is held.
LOCK_TIMEOUT_SECONDS = 45.0
_LOCK_POLL_SECONDS = 0.02

Clock = Callable[[], float]


def default_credentials_path(env: Mapping[str, str] | None = None) -> str:
    """``${XDG_CONFIG_HOME:-~/.config}/link-cli/config.json``, absolute."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.abspath(os.path.join(base, "link-cli", "config.json"))


def resolve_credentials_path(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The credentials file for ``path`` (``--auth``), else ``LINK_AUTH_FILE``, else default.

    Explicit names get ``.json`` appended when they do not end with it (``creds`` →
    ``creds.json``, ``creds.txt`` → ``creds.txt.json``) and are made absolute.
    """
    env = os.environ if env is None else env
    chosen = os.fspath(path) if path is not None else env.get(AUTH_FILE_ENV) or None
    if not chosen:
        return default_credentials_path(env)
    if not chosen.endswith(".json"):
        chosen += ".json"
    return os.path.abspath(os.path.expanduser(chosen))


def _now_ms(clock: Clock) -> int:
    return int(clock() * 1000)


class TokenStore:
    """File-backed credential store (the CLI's).

    Subclasses change the medium by overriding ``_read``, ``_write`` and
    ``_acquire_file_lock`` (see :class:`MemoryTokenStore`).

    ``TokenStore()`` uses ``LINK_AUTH_FILE`` or the default location; ``TokenStore(path)``
    uses ``path`` (``--auth``). ``path`` is the resolved absolute file name. Reading a
    missing file creates it with both keys ``null`` (as the official CLI does), so
    ``credentials_path`` always names a real file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        clock: Clock = time.time,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        self._setup(resolve_credentials_path(path, env), clock, lock_timeout)

    def _setup(self, path: str | None, clock: Clock, lock_timeout: float) -> None:
        self.path: str | None = path
        self.clock = clock
        self.lock_timeout = lock_timeout
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._lock_fd: int | None = None

    # --- public API ------------------------------------------------------------------

    def get_auth(self) -> StoredAuth | None:
        """The stored tokens, or ``None`` when logged out."""
        auth = self._read().get("auth")
        return auth if isinstance(auth, dict) else None

    def set_auth(self, tokens: TokenResponse | None) -> StoredAuth | None:
        """Replace the stored tokens (``None`` clears them); return what was stored.

        ``expires_at`` (epoch ms) is computed as ``now + expires_in * 1000`` unless the
        tokens already carry it.
        """
        stored: StoredAuth | None = None
        if tokens is not None:
            # mypy cannot see that any `expires_at` in `tokens` is a StoredAuth's (an int).
            with_expiry: StoredAuth = {**tokens}  # type: ignore[typeddict-item]
            expires_in = with_expiry.get("expires_in")
            if "expires_at" not in with_expiry and isinstance(expires_in, int | float):
                with_expiry["expires_at"] = _now_ms(self.clock) + int(expires_in * 1000)
            stored = with_expiry
        with self.lock():
            document = self._read()
            document["auth"] = stored
            self._write(document)
        return stored

    def clear_auth(self) -> None:
        """Forget the stored tokens (the pending authorization stays)."""
        self.set_auth(None)

    def get_pending_device_auth(self) -> PendingDeviceAuth | None:
        """The pending device authorization; an expired one is cleared and ``None`` returned."""
        with self.lock():
            document = self._read()
            pending = document.get("pendingDeviceAuth")
            if not isinstance(pending, dict):
                return None
            expires_at = pending.get("expires_at")
            if isinstance(expires_at, int | float) and _now_ms(self.clock) >= expires_at:
                document["pendingDeviceAuth"] = None
                self._write(document)
                return None
            return pending

    def set_pending_device_auth(self, pending: PendingDeviceAuth | None) -> None:
        """Store (or with ``None`` clear) the pending device authorization."""
        with self.lock():
            document = self._read()
            document["pendingDeviceAuth"] = {**pending} if pending is not None else None
            self._write(document)

    def clear_pending_device_auth(self) -> None:
        """Forget the pending device authorization."""
        self.set_pending_device_auth(None)

    def clear(self) -> None:
        """Forget both the tokens and the pending authorization (the file stays)."""
        with self.lock():
            self._write({"auth": None, "pendingDeviceAuth": None})

    def delete(self) -> None:
        """Remove the credentials file (``auth logout``); missing is fine."""
        assert self.path is not None
        with self.lock(), contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's exclusive lock (re-entrant within a process).

        Other processes using the same file wait up to ``lock_timeout`` seconds, then get
        a :class:`LinkSdkError` rather than a silent race.
        """
        with self._thread_lock:
            if self._lock_depth == 0:
                self._lock_fd = self._acquire_file_lock()
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)  # closing releases the flock
                    self._lock_fd = None

    # --- file I/O hooks --------------------------------------------------------------

    def _read(self) -> CredentialsDocument:
        assert self.path is not None
        # O_NONBLOCK: a FIFO planted at the path must not hang the CLI (it is refused below).
        flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return self._create_empty()
        except OSError as error:
            if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
                reason = "it is a symbolic link; it must be a regular file"
            else:
                reason = str(error.strerror or error)
            raise LinkConfigurationError(
                f"Cannot read credentials file {self.path}: {reason}."
            ) from error
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise LinkConfigurationError(
                f"Cannot read credentials file {self.path}: it is not a regular file."
            )
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
        try:
            parsed = json.loads(data.decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError included
            raise LinkConfigurationError(
                f"Credentials file {self.path} is not valid JSON ({error}). "
                'Fix or delete it, then run "link-cli auth login".'
            ) from error
        if not isinstance(parsed, dict):
            raise LinkConfigurationError(
                f"Credentials file {self.path} does not hold a JSON object. "
                'Fix or delete it, then run "link-cli auth login".'
            )
        return {"auth": parsed.get("auth"), "pendingDeviceAuth": parsed.get("pendingDeviceAuth")}

    def _create_empty(self) -> CredentialsDocument:
        # Under the lock, so a concurrent login's write is never replaced by this one.
        assert self.path is not None
        with self.lock():
            if not os.path.lexists(self.path):
                document: CredentialsDocument = {"auth": None, "pendingDeviceAuth": None}
                self._write(document)
                return document
        return self._read()

    def _write(self, document: CredentialsDocument) -> None:
        assert self.path is not None
        text = json.dumps(
            {"auth": document.get("auth"), "pendingDeviceAuth": document.get("pendingDeviceAuth")},
            indent="\t",
            ensure_ascii=False,
        )
        try:
            atomic_write_private(self.path, text)
        except SecretFileError as error:
            raise LinkConfigurationError(
                f"Cannot write credentials file {self.path}: {error.message}"
            ) from error

    def _acquire_file_lock(self) -> int | None:
        import fcntl

        assert self.path is not None
        lock_path = f"{self.path}.lock"
        try:
            os.makedirs(os.path.dirname(lock_path), mode=0o700, exist_ok=True)
            fd = os.open(
                lock_path,
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                0o600,
            )
        except OSError as error:
            raise LinkConfigurationError(
                f"Cannot open credentials lock {lock_path}: {error.strerror or error}"
            ) from error
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LinkSdkError(
                        f"Timed out after {self.lock_timeout:g}s waiting for {lock_path}; "
                        "another link-cli process is holding the credentials lock."
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)


class MemoryTokenStore(TokenStore):
    """An in-process store for library users who do not want a file (``path`` is ``None``)."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._setup(None, clock, LOCK_TIMEOUT_SECONDS)
        self._document: CredentialsDocument = {"auth": None, "pendingDeviceAuth": None}

    def delete(self) -> None:
        """Forget everything."""
        self.clear()

    def _read(self) -> CredentialsDocument:
        copy: CredentialsDocument = json.loads(json.dumps(self._document))  # like a file read
        return copy

    def _write(self, document: CredentialsDocument) -> None:
        self._document = json.loads(json.dumps(dict(document)))

    def _acquire_file_lock(self) -> int | None:
        return None
