"""``link-wallet``: run and administer the wallet (docs/internals.md, "Wallet: command line").

Commands print JSON on stdout; errors print one line on stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .cli_manage import add_manage_commands, print_result, run_manage_command
from .cli_merchant import MERCHANT_COMMANDS, add_merchant_commands, run_merchant_command
from .cli_policy import add_policy_commands
from .clock import Clock
from .domain.errors import WalletError
from .issuing.config import IssuerConfigError
from .settings import SettingsError, WalletSettings, load_settings


class CommandError(Exception):
    """A command-line mistake reported as ``error: <message>`` with exit status 1."""


def _port(value: str) -> int:
    """A TCP port for ``--port`` (1–65535)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value[:20]!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535, got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of ``link-wallet``."""
    parser = argparse.ArgumentParser(
        prog="link-wallet", description="A self-hostable wallet speaking the Link API."
    )
    _add_global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the wallet's HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8725, help="port to bind (default 8725)")
    serve.add_argument(
        "--workers",
        type=int,
        help="processes serving the port, all on the same database (default: "
        "LINK_WALLET_WORKERS, else 1; docs/deploy.md)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations")

    user = commands.add_parser("user", help="manage people")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_commands.add_parser("create", help="create a person who can sign in")
    create.add_argument("--email", required=True)
    create.add_argument("--name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    card = commands.add_parser("card", help="manage payment cards")
    card_commands = card.add_subparsers(dest="card_command", required=True, metavar="ACTION")
    add = card_commands.add_parser(
        "add",
        help="add a card to a person's wallet",
        description=(
            "Add a card. The card number and CVC are best given on standard input "
            '(--card-stdin, a JSON object {"number": ..., "cvc": ...}) or typed at the hidden '
            "prompts shown on a terminal when --number/--cvc are left out: values given as "
            "--number/--cvc flags are visible to other local users in the process list."
        ),
    )
    add.add_argument("--email", required=True)
    add.add_argument("--number", help="card number (visible in the process list; prefer stdin)")
    add.add_argument("--exp-month", required=True)
    add.add_argument("--exp-year", required=True)
    add.add_argument("--cvc", help="security code (visible in the process list; prefer stdin)")
    add.add_argument(
        "--card-stdin",
        action="store_true",
        help='read {"number": ..., "cvc": ...} as JSON from standard input',
    )
    add.add_argument("--name", required=True, help="cardholder name (billing address)")
    add.add_argument("--line1", required=True)
    add.add_argument("--line2")
    add.add_argument("--city")
    add.add_argument("--state")
    add.add_argument("--postal-code")
    add.add_argument("--country", default="US")
    add.add_argument("--nickname")
    add.add_argument("--default", action="store_true", help="make it the default card")
    add.add_argument(
        "--shipping", action="store_true", help="also save the billing address as shipping address"
    )
    add_merchant_commands(commands)
    add_manage_commands(commands, user_commands, card_commands)
    add_policy_commands(commands)
    _accept_global_options_everywhere(parser)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--database-url",
        default=default,
        help="SQLAlchemy URL (default: SQLite in the data dir)",
    )
    parser.add_argument("--data-dir", default=default, help="where wallet.db and secret.key live")


def _accept_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``link-wallet serve --data-dir X`` mean ``link-wallet --data-dir X serve``, for
    every command and action, including ones added later.

    Below the top level the options default to "not given" (SUPPRESS), so a value placed
    before the command is kept unless the same option comes again after it (the later wins).
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in dict.fromkeys(action.choices.values()):
            if "--data-dir" not in sub._option_string_actions:
                _add_global_options(sub, default=argparse.SUPPRESS)
            _accept_global_options_everywhere(sub)


# Top-level modules of the ``wallet`` extra (pyproject.toml); tests check the list against it.
WALLET_EXTRA_MODULES = frozenset(
    {
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "httpx2",
        "uvicorn",
        "jinja2",
        "multipart",
        "python_multipart",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "cryptography",
        "argon2",
        "itsdangerous",
        "ofxtools",
        "publicsuffixlist",
        "http_ece",
        "py_vapid",
    }
)


def install_command() -> str:
    """The pip command that adds the wallet extra to this installation: from the clone or
    wheel it came from when pip recorded one (link-cli is not on a public index)."""
    import shlex
    from importlib.metadata import PackageNotFoundError, distribution
    from urllib.parse import unquote, urlsplit

    try:
        recorded = json.loads(distribution("link-cli").read_text("direct_url.json") or "{}")
    except (PackageNotFoundError, ValueError):
        recorded = {}
    url = recorded.get("url") if isinstance(recorded, dict) else None
    if isinstance(url, str) and url.startswith("file://"):
        source = unquote(urlsplit(url).path)
        editable = bool((recorded.get("dir_info") or {}).get("editable"))
        return f"pip install {'-e ' if editable else ''}{shlex.quote(source + '[wallet]')}"
    return "pip install '<your link-cli clone or wheel>[wallet]'"


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """The one line to print when a module of the wallet extra is not installed."""
    top = (exc.name or "").split(".")[0]
    if top not in WALLET_EXTRA_MODULES:
        return None
    return (
        f"link-wallet needs link-cli's 'wallet' extra, which is not installed "
        f"(no module {top!r}); install it with: {install_command()} "
        "(link-cli is not on a public package index: README, Installing)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``link-wallet`` console script."""
    try:
        return _main(argv)
    except ModuleNotFoundError as exc:
        message = missing_extra_message(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(
            database_url=args.database_url,
            data_dir=args.data_dir,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            workers=getattr(args, "workers", None),
        )
        if args.command == "serve":
            return _serve(settings, _admin_options(args))
        if getattr(args, "manage", None) is not None:
            return run_manage_command(args, settings)
        if args.command in MERCHANT_COMMANDS:
            return run_merchant_command(args, settings)
        if args.command == "db":
            _upgrade(settings)
            print(json.dumps({"status": "upgraded"}))
            return 0
        if args.command == "user":
            result = _create_user(settings, args)
        else:
            result = _add_card(settings, args)
    except (CommandError, SettingsError, IssuerConfigError, WalletError) as exc:
        message = exc.message if isinstance(exc, WalletError) else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 1
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        print(f"error: cannot use the database: {problem}", file=sys.stderr)
        return 1
    print_result(result, getattr(args, "format", "json"))
    return 0


_DATABASE_DRIVERS = frozenset({"psycopg", "psycopg2", "pg8000", "asyncpg", "pysqlite2"})


def _database_problem(exc: Exception) -> str | None:
    """One line saying why the database is unusable (unreachable, refused login, missing
    driver), or None for any other error. Bound values never appear: engines are created with
    ``hide_parameters``, and only the driver's first message line is shown."""
    if isinstance(exc, ModuleNotFoundError) and exc.name in _DATABASE_DRIVERS:
        return f"its driver is not installed ({exc.name}); use postgresql+psycopg://"
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    lines = str(exc.orig or exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _upgrade(settings: WalletSettings) -> None:
    from .store.migrations import upgrade

    upgrade(settings.database_url)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to prompt for a password; use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise CommandError("the two passwords differ")
    return first


def _create_user(settings: WalletSettings, args: argparse.Namespace) -> dict[str, Any]:
    from .passwords import hash_password, password_problem

    password = _read_password(args.password_stdin)
    problem = password_problem(password)
    if problem:
        raise CommandError(problem)
    # The store (SQLAlchemy and the models) loads only once the input is known good: a
    # mistake is reported in a fraction of the time.
    from .store import accounts
    from .store.engine import Database

    _upgrade(settings)
    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            user = accounts.create_user(
                session,
                email=args.email,
                name=args.name,
                password_hash=hash_password(password, fast=settings.fast_password_hash),
                now=Clock().now(),
            )
            return {"id": user.id, "email": user.email, "name": user.name}
    finally:
        database.dispose()


MAX_CARD_STDIN_CHARS = 4096
_CARD_SECRETS = ("number", "cvc")


def _read_card_secrets(args: argparse.Namespace) -> tuple[str, str]:
    """The card number and CVC: from flags, ``--card-stdin`` JSON, or hidden prompts."""
    values: dict[str, str | None] = {"number": args.number, "cvc": args.cvc}
    if args.card_stdin:
        text = sys.stdin.read(MAX_CARD_STDIN_CHARS + 1)
        if len(text) > MAX_CARD_STDIN_CHARS:
            raise CommandError("--card-stdin: the input is too long")
        try:
            given = json.loads(text)
        except ValueError:
            raise CommandError(
                '--card-stdin expects a JSON object such as {"number": "…", "cvc": "…"}'
            ) from None
        if not isinstance(given, dict):
            raise CommandError("--card-stdin expects a JSON object")
        if set(given) - set(_CARD_SECRETS):
            # Never echo the unexpected key: it may well be a misplaced card number.
            raise CommandError('--card-stdin: only the fields "number" and "cvc" are read')
        for name in _CARD_SECRETS:
            if name not in given:
                continue
            if values[name] is not None:
                raise CommandError(f"give the {name} once: as --{name} or on standard input")
            if not isinstance(given[name], str | int) or isinstance(given[name], bool):
                raise CommandError(f"--card-stdin: {name} must be a string")
            values[name] = str(given[name])
    for name, prompt in (("number", "Card number: "), ("cvc", "Security code (CVC): ")):
        if values[name] is None:
            if args.card_stdin or not sys.stdin.isatty():
                raise CommandError(
                    f"the card {name} is missing: pass --card-stdin with "
                    f'{{"number": ..., "cvc": ...}} on standard input, or run on a terminal '
                    "to be prompted"
                )
            values[name] = getpass.getpass(prompt)
    return values["number"] or "", values["cvc"] or ""


def _add_card(settings: WalletSettings, args: argparse.Namespace) -> dict[str, Any]:
    from .domain.cards import validate_card

    now = Clock().now()
    number, cvc = _read_card_secrets(args)
    raw = {
        "number": number,
        "exp_month": args.exp_month,
        "exp_year": args.exp_year,
        "cvc": cvc,
        "name": args.name,
        "line1": args.line1,
        "line2": args.line2,
        "city": args.city,
        "state": args.state,
        "postal_code": args.postal_code,
        "country": args.country,
        "nickname": args.nickname,
    }
    card = validate_card(raw, today=now.date())
    from .store import accounts
    from .store.crypto import FieldCipher
    from .store.engine import Database

    _upgrade(settings)
    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            user = accounts.get_user_by_email(session, args.email)
            if user is None:
                raise CommandError(f"no user with email {args.email.strip()}")
            method = accounts.add_card(
                session,
                user_id=user.id,
                card=card,
                cipher=FieldCipher(settings.secret_key),
                now=now,
                make_default=args.default,
            )
            if args.shipping:
                accounts.add_shipping_address_from_billing(
                    session, user_id=user.id, method=method, now=now
                )
            return {
                "id": method.id,
                "brand": method.brand,
                "last4": method.last4,
                "exp_month": method.exp_month,
                "exp_year": method.exp_year,
            }
    finally:
        database.dispose()


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.name == "link_wallet.access":
            return record.getMessage()
        entry = {"event": "log", "level": record.levelname.lower(), "logger": record.name}
        return json.dumps({**entry, "message": record.getMessage()})


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)


H11_MAX_HEAD_BYTES = 16 * 1024

_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)


def public_url_warning(settings: WalletSettings) -> str | None:
    """Why the links the wallet hands out would not open, or None when they will."""
    if settings.host in _WILDCARD_HOSTS and not settings.public_url_override:
        return (
            "bound to every address but LINK_WALLET_PUBLIC_URL is not set: verification and "
            f"approval links will point at {settings.public_url}, which browsers cannot open, "
            "and only loopback Host names are served"
        )
    return None


def _worker_app(settings: WalletSettings) -> Any:
    """The app of one ``serve --workers N`` process (the supervisor ran the migrations)."""
    from .app import create_app

    _configure_logging()
    return create_app(settings)


def uvicorn_config(settings: WalletSettings, app: Any, *, factory: bool = False) -> Any:
    """The server settings ``serve`` runs under (bench/wallet_throughput.py serves its bare
    baseline app with the very same)."""
    import uvicorn

    return uvicorn.Config(
        app,
        factory=factory,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        server_header=False,
        # Bodies are bounded by RequestLimitsMiddleware; these bound the rest: an HTTP head
        # (h11 refuses a larger one with 400) and the connections served at once (503 beyond).
        http="h11",
        h11_max_incomplete_event_size=H11_MAX_HEAD_BYTES,
        limit_concurrency=settings.max_connections,
        # The client address counts in throttles: trust X-Forwarded-For only from the
        # proxies the operator names (uvicorn would trust 127.0.0.1 by default).
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips or "",
    )


def _serve(settings: WalletSettings, admin_options: list[str]) -> int:
    import functools

    from .app import create_app

    _configure_logging()
    if settings.workers > 1 and settings.test_clock:
        # Each process would keep its own clock: moving one would split the wallet's time.
        raise SettingsError("LINK_WALLET_TEST_CLOCK needs a single process (--workers 1)")
    if settings.workers > 1:
        from .issuing import build_issuer

        build_issuer(settings.issuer)  # refuse a broken issuer before any worker starts
    _upgrade(settings)
    # Several workers share one listening socket; each builds its own app (and database
    # pool) in a fresh process. Every one-time rule is decided in the database, so
    # processes need nothing else in common (docs/deploy.md, "Several processes").
    app: Any = functools.partial(_worker_app, settings) if settings.workers > 1 else None
    config = uvicorn_config(settings, app or create_app(settings), factory=settings.workers > 1)
    # On a terminal, say where the wallet listens and what to do next, once it does listen.
    hint = _next_steps(settings, admin_options) if sys.stderr.isatty() else None
    log = logging.getLogger("link_wallet")
    log.info(
        "serving %s (database: %s, %d process%s)",
        settings.public_url,
        _redacted_url(settings.database_url),
        settings.workers,
        "" if settings.workers == 1 else "es",
    )
    warning = public_url_warning(settings)
    if warning:
        log.warning("%s", warning)
    if settings.workers > 1:
        from uvicorn.supervisors import Multiprocess

        listener = _tcp_listener(config.bind_socket())
        if hint:
            print(hint, file=sys.stderr, flush=True)  # the socket is bound: it listens
        # The supervisor stops its workers gracefully on SIGTERM/SIGINT and replaces one
        # that dies; a worker that cannot start at all stops the supervisor.
        Multiprocess(config, sockets=[listener]).run()
        return 0
    on_started = (lambda: print(hint, file=sys.stderr, flush=True)) if hint else None
    server = _server_class()(config, on_started)

    # uvicorn handles SIGTERM/SIGINT itself (stop accepting, finish in-flight requests, run
    # the lifespan shutdown) and afterwards re-raises the signal against the handlers that
    # were installed before it started. A no-op handler there turns a completed graceful
    # shutdown into exit status 0 instead of death by the signal (-15) or a KeyboardInterrupt.
    # A signal that arrives before uvicorn installs its own handlers lands here too: it asks
    # the server to stop as soon as it has started, instead of being lost.
    def stop_when_started(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_when_started)
    server.run()  # a failed bind or start-up exits with uvicorn's status 3
    return 0


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, calling ``on_started`` once its sockets are bound."""

        def __init__(self, config: Any, on_started: Any = None) -> None:
            super().__init__(config)
            self._on_started = on_started

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self._on_started is not None:
                self._on_started()

    return Server


def _people_count(settings: WalletSettings) -> int:
    from sqlalchemy import func, select

    from .store.engine import Database
    from .store.models.accounts import User

    database = Database(settings.database_url)
    try:
        with database.session_scope() as session:
            return int(session.scalar(select(func.count()).select_from(User)) or 0)
    finally:
        database.dispose()


def _admin_options(args: argparse.Namespace) -> list[str]:
    """The storage options this run was given, for the commands it suggests next."""
    import shlex

    options = []
    if args.data_dir:
        options.append(f"--data-dir {shlex.quote(args.data_dir)}")
    if args.database_url:
        options.append("--database-url '<the same URL>'")
    return options


def _next_steps(settings: WalletSettings, admin_options: list[str]) -> str:
    """What a person at a terminal reads once the wallet listens."""
    url = settings.public_url
    admin = " ".join(["link-wallet", *admin_options])
    lines = [
        "",
        f"link-wallet is listening on {url}  (Ctrl-C stops it)",
        "",
        "Next:",
    ]
    if _people_count(settings) == 0:
        lines += [
            f"  1. Create the person who approves payments:  {admin} user create --email you@example.com",
            f"  2. Add their card:  {admin} card add --email you@example.com --exp-month 12 "
            '--exp-year 2030 --name "Your Name" --line1 "1 Main St"',
            f"     (or sign in at {url}/wallet and add it at {url}/wallet/cards/new)",
        ]
    else:
        lines.append(f"  - Sign in at {url}/wallet to see cards and approve payments.")
    lines += [
        "  - Point an agent's link-cli at this wallet and log in:",
        f"      export LINK_API_BASE_URL={url} LINK_AUTH_BASE_URL={url}",
        '      link-cli auth login --client-name "My agent"',
    ]
    warning = public_url_warning(settings)
    if warning is None and _is_loopback_url(url):
        lines.append(
            "  - Only this computer can open these links; to approve from a phone, serve on "
            "your network address and set LINK_WALLET_PUBLIC_URL (docs/deploy.md)."
        )
    lines.append("")
    return "\n".join(lines)


def _is_loopback_url(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tcp_listener(sock: socket.socket) -> socket.socket:
    """``sock`` marked as TCP (uvicorn binds it with protocol 0): asyncio sets TCP_NODELAY
    only on connections accepted from a socket that says TCP, and without it every answer
    written in two parts waits about 40 ms for the client's delayed ACK."""
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def _redacted_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
