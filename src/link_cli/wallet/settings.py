"""Configuration of ``link-wallet``: command-line flags first, then environment, then defaults.

See docs/internals.md ("Wallet: command line") for the variable names. The secret key comes
from ``LINK_WALLET_SECRET_KEY`` or from ``<data dir>/secret.key``, created 0600 on first use
with ``O_EXCL|O_NOFOLLOW`` so a planted symlink cannot redirect it.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from .domain.limits import LimitSettings
from .domain.throttle import ThrottleSettings
from .issuing.config import IssuerConfigError, IssuerSettings, issuer_settings_from_env

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8725
SECRET_KEY_FILE = "secret.key"
DATABASE_FILE = "wallet.db"
DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_CONNECTIONS = 256
_TRUE = {"1", "true", "yes", "on"}
DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000
MAX_WORKERS = 64
_BUSY_TIMEOUT_ENV = "LINK_WALLET_SQLITE_BUSY_TIMEOUT_MS"


class SettingsError(Exception):
    """The configuration cannot be used (bad value, unsafe key file)."""


def _limits_from_env(env: Mapping[str, str]) -> LimitSettings:
    """Read every limit from ``LINK_WALLET_LIMIT_<UPPER NAME>``; non-integers are refused."""
    return LimitSettings(**_integers_from_env(env, LimitSettings, "LINK_WALLET_LIMIT_"))


def _throttles_from_env(env: Mapping[str, str]) -> ThrottleSettings:
    """Read every attempt budget from ``LINK_WALLET_THROTTLE_<UPPER NAME>``."""
    return ThrottleSettings(**_integers_from_env(env, ThrottleSettings, "LINK_WALLET_THROTTLE_"))


def _integers_from_env(env: Mapping[str, str], shape: type, prefix: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for f in fields(shape):
        name = f"{prefix}{f.name.upper()}"
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        if value < 0:
            raise SettingsError(f"{name} must not be negative")
        values[f.name] = value
    return values


@dataclass(frozen=True)
class SmtpSettings:
    """Where pending-approval e-mails go out (``LINK_WALLET_SMTP_*``); no host, no e-mail."""

    host: str | None = None
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "link-wallet@localhost"
    timeout_seconds: int = 10

    @property
    def enabled(self) -> bool:
        """True when a server is configured."""
        return bool(self.host)


def _smtp_from_env(env: Mapping[str, str]) -> SmtpSettings:
    host = env.get("LINK_WALLET_SMTP_HOST", "").strip() or None
    use_ssl = _flag(env, "LINK_WALLET_SMTP_SSL")
    default_port = 465 if use_ssl else 587
    raw_starttls = env.get("LINK_WALLET_SMTP_STARTTLS", "").strip()
    starttls = (not use_ssl) if raw_starttls == "" else _flag(env, "LINK_WALLET_SMTP_STARTTLS")
    if use_ssl and starttls:
        raise SettingsError("LINK_WALLET_SMTP_SSL and LINK_WALLET_SMTP_STARTTLS exclude each other")
    sender = env.get("LINK_WALLET_SMTP_FROM", "").strip() or "link-wallet@localhost"
    if "\n" in sender or "\r" in sender or "@" not in sender:
        raise SettingsError("LINK_WALLET_SMTP_FROM must be one e-mail address")
    port = _positive_int(env, "LINK_WALLET_SMTP_PORT", default_port)
    if port > 65535:
        raise SettingsError("LINK_WALLET_SMTP_PORT must be at most 65535")
    return SmtpSettings(
        host=host,
        port=port,
        starttls=starttls,
        ssl=use_ssl,
        username=env.get("LINK_WALLET_SMTP_USERNAME", "").strip() or None,
        password=env.get("LINK_WALLET_SMTP_PASSWORD") or None,
        sender=sender,
        timeout_seconds=_positive_int(env, "LINK_WALLET_SMTP_TIMEOUT_SECONDS", 10),
    )


@dataclass(frozen=True)
class NotifySettings:
    """Delivery of pending-approval notifications (docs/notifications.md)."""

    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    webhook_allow_private: bool = False
    """Webhooks may target loopback, private and link-local addresses (tests, a LAN bot)."""
    poll_seconds: int = 1
    """How often the worker looks for deliveries enqueued by other wallet processes."""
    vapid_subject: str | None = None


@dataclass(frozen=True)
class LongPollSettings:
    """Requests held until what they wait for changes (docs/long-poll.md)."""

    enabled: bool = True
    """``LINK_WALLET_LONG_POLL=0`` answers every request at once (no ``Preference-Applied``)."""
    max_wait_seconds: int = 25
    """The longest a request is held, whatever its ``Prefer: wait`` asks."""
    max_held: int = 1000
    """Requests held at once by one process; past it, 429 ``too_many_waiting_requests``."""
    max_held_per_agent: int = 20
    """Requests held at once for one agent connection (or one person's pages)."""
    recheck_ms: int = 250
    """How often a process re-reads waited-for rows when no notification can reach it
    (SQLite shared by several processes; PostgreSQL while its listener reconnects)."""


@dataclass(frozen=True)
class WalletSettings:
    """Everything the wallet process needs to know about its deployment."""

    database_url: str
    data_dir: Path
    secret_key: bytes = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url_override: str | None = None
    test_clock: bool = False
    fast_password_hash: bool = False
    limits: LimitSettings = field(default_factory=LimitSettings)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    allowed_hosts: tuple[str, ...] = ()
    throttles: ThrottleSettings = field(default_factory=ThrottleSettings)
    forwarded_allow_ips: str | None = None
    """Proxies whose ``X-Forwarded-For`` names the client address; none by default."""
    sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS
    """How long a SQLite write waits for the write lock before answering 503."""
    card_merchant_lock: bool = False
    """A virtual card pays only the merchant whose registered site its request names."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    long_poll: LongPollSettings = field(default_factory=LongPollSettings)
    workers: int = 1
    """Processes ``serve`` runs on one port and one database (``LINK_WALLET_WORKERS``)."""
    issuer: IssuerSettings = field(default_factory=IssuerSettings)
    """Where credentials come from: the sandbox, or Stripe Issuing (docs/issuers.md)."""

    @property
    def public_url(self) -> str:
        """Base of the links the wallet hands out (verification and approval URLs)."""
        if self.public_url_override:
            return self.public_url_override.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """``$LINK_WALLET_DATA_DIR``, else ``${XDG_DATA_HOME:-~/.local/share}/link-wallet``."""
    if env.get("LINK_WALLET_DATA_DIR"):
        return Path(env["LINK_WALLET_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "link-wallet"


def load_settings(
    *,
    database_url: str | None = None,
    data_dir: str | Path | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
) -> WalletSettings:
    """Build settings from explicit flags (which win) and the environment.

    Creates the data directory (0700) and, when needed, the secret key file.
    """
    env = os.environ if env is None else env
    directory = Path(data_dir).expanduser() if data_dir else default_data_dir(env)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = database_url or env.get("LINK_WALLET_DATABASE_URL") or _sqlite_url(directory)
    _check_database_url(url)
    secret = _secret_from_env(env) or load_or_create_secret_key(directory / SECRET_KEY_FILE)
    public_url = env.get("LINK_WALLET_PUBLIC_URL") or None
    if public_url and not public_url.startswith(("http://", "https://")):
        raise SettingsError("LINK_WALLET_PUBLIC_URL must start with http:// or https://")
    return WalletSettings(
        database_url=url,
        data_dir=directory,
        secret_key=secret,
        host=host or DEFAULT_HOST,
        port=DEFAULT_PORT if port is None else port,
        public_url_override=public_url,
        test_clock=env.get("LINK_WALLET_TEST_CLOCK", "").strip().lower() in _TRUE,
        fast_password_hash=env.get("LINK_WALLET_PASSWORD_HASH", "").strip().lower() == "fast",
        limits=_limits_from_env(env),
        max_body_bytes=_positive_int(env, "LINK_WALLET_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        max_connections=_positive_int(env, "LINK_WALLET_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
        allowed_hosts=_host_list(env.get("LINK_WALLET_ALLOWED_HOSTS", "")),
        throttles=_throttles_from_env(env),
        forwarded_allow_ips=env.get("LINK_WALLET_FORWARDED_ALLOW_IPS", "").strip() or None,
        sqlite_busy_timeout_ms=_busy_timeout_from_env(env),
        card_merchant_lock=_flag(env, "LINK_WALLET_CARD_MERCHANT_LOCK"),
        long_poll=_long_poll_from_env(env),
        notify=NotifySettings(
            smtp=_smtp_from_env(env),
            webhook_allow_private=_flag(env, "LINK_WALLET_WEBHOOK_ALLOW_PRIVATE"),
            poll_seconds=_positive_int(env, "LINK_WALLET_NOTIFY_POLL_SECONDS", 1),
            vapid_subject=_vapid_subject(env),
        ),
        workers=_workers(env) if workers is None else _check_workers(workers, "--workers"),
        issuer=_issuer(env),
    )


def _issuer(env: Mapping[str, str]) -> IssuerSettings:
    try:
        return issuer_settings_from_env(env)
    except IssuerConfigError as exc:
        raise SettingsError(str(exc)) from None


def _long_poll_from_env(env: Mapping[str, str]) -> LongPollSettings:
    enabled = (
        _flag(env, "LINK_WALLET_LONG_POLL") or not env.get("LINK_WALLET_LONG_POLL", "").strip()
    )
    settings = LongPollSettings(
        enabled=enabled,
        max_wait_seconds=_positive_int(env, "LINK_WALLET_LONG_POLL_MAX_WAIT_SECONDS", 25),
        max_held=_positive_int(env, "LINK_WALLET_LONG_POLL_MAX_HELD", 1000),
        max_held_per_agent=_positive_int(env, "LINK_WALLET_LONG_POLL_MAX_HELD_PER_AGENT", 20),
        recheck_ms=_positive_int(env, "LINK_WALLET_LONG_POLL_RECHECK_MS", 250),
    )
    if settings.max_wait_seconds > 300:
        raise SettingsError("LINK_WALLET_LONG_POLL_MAX_WAIT_SECONDS must be at most 300")
    return settings


def _vapid_subject(env: Mapping[str, str]) -> str | None:
    raw = env.get("LINK_WALLET_VAPID_SUBJECT", "").strip()
    if raw and not raw.startswith(("mailto:", "https://")):
        raise SettingsError("LINK_WALLET_VAPID_SUBJECT must start with mailto: or https://")
    return raw or None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in {"", "0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be on or off, got {raw[:20]!r}")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a positive integer, got {raw[:20]!r}")
    return int(raw)


def _workers(env: Mapping[str, str]) -> int:
    return _check_workers(_positive_int(env, "LINK_WALLET_WORKERS", 1), "LINK_WALLET_WORKERS")


def _check_workers(count: int, name: str) -> int:
    if not 1 <= count <= MAX_WORKERS:
        raise SettingsError(f"{name} must be 1 to {MAX_WORKERS} processes, got {count}")
    return count


def _host_list(raw: str) -> tuple[str, ...]:
    """``LINK_WALLET_ALLOWED_HOSTS``: comma-separated ``name`` or ``name:port`` entries."""
    hosts = tuple(item.strip().lower() for item in raw.split(",") if item.strip())
    for host in hosts:
        if "/" in host or " " in host:
            raise SettingsError(
                f"LINK_WALLET_ALLOWED_HOSTS takes host names, not URLs: {host[:40]!r}"
            )
    return hosts


def _busy_timeout_from_env(env: Mapping[str, str]) -> int:
    raw = (env.get(_BUSY_TIMEOUT_ENV) or "").strip()
    if not raw:
        return DEFAULT_SQLITE_BUSY_TIMEOUT_MS
    if not raw.isdigit() or not 1 <= int(raw) <= 60_000:
        raise SettingsError(f"{_BUSY_TIMEOUT_ENV} must be 1 to 60000 milliseconds, got {raw!r}")
    return int(raw)


SUPPORTED_DATABASES = ("sqlite", "postgresql")


def _check_database_url(url: str) -> None:
    """Refuse URLs of databases the wallet does not run on, before anything connects."""
    scheme, separator, _ = url.partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if not separator or backend not in SUPPORTED_DATABASES:
        shown = scheme[:20] if separator else "(no scheme)"
        raise SettingsError(
            f"unsupported database URL scheme {shown!r}: use sqlite:///path/to/wallet.db "
            "or postgresql+psycopg://user:password@host/database"
        )


def _sqlite_url(directory: Path) -> str:
    return f"sqlite:///{(directory / DATABASE_FILE).resolve()}"


def _secret_from_env(env: Mapping[str, str]) -> bytes | None:
    raw = env.get("LINK_WALLET_SECRET_KEY")
    if raw is None or raw == "":
        return None
    if len(raw) < 32:
        raise SettingsError("LINK_WALLET_SECRET_KEY must be at least 32 characters long")
    return raw.encode("utf-8")


def load_or_create_secret_key(path: Path) -> bytes:
    """Read the key file, or create it (0600, exclusive, never through a symlink)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return _read_secret_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_secret_key(path)


def _read_secret_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise SettingsError(f"cannot open secret key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "r", encoding="ascii") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SettingsError(f"secret key file {path} is not a regular file")
        if mode & 0o077:
            raise SettingsError(f"secret key file {path} is readable by others; run chmod 600")
        key = handle.read().strip()
    if len(key) < 32:
        raise SettingsError(f"secret key file {path} is too short")
    return key.encode("ascii")
