"""Human (terminal) output: readable summaries, a spinner, QR codes, masked card numbers.

Imported only when stdout is a TTY and no format was asked for (contract §1.3). Data stays on
stdout; the spinner draws on stderr. Every string that reaches the terminal passes
through ``sanitize_text``; card numbers are shown as ``•••• 4242`` and CVCs never.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from link_cli._qr import qr_lines
from link_cli._sanitize import sanitize_text
from link_cli.commands._spec import Command, kebab, strip_undefined
from link_cli.errors import LinkError

_COLOURS = {"green": "\x1b[32m", "yellow": "\x1b[33m", "red": "\x1b[31m", "dim": "\x1b[2m"}
_RESET = "\x1b[0m"
_STATUS_COLOURS = {
    "approved": "green",
    "succeeded": "green",
    "pending_approval": "yellow",
    "requires_action": "yellow",
    "created": "yellow",
    "denied": "red",
    "failed": "red",
    "expired": "red",
    "canceled": "red",
}
_SECRET_KEYS = frozenset({"cvc", "access_token", "refresh_token", "device_code"})
_URL_KEYS = ("verification_url", "approval_url", "approval_link", "url")
_APPROVAL_KEYS = ("approval_url", "approval_link")
_AWAITING_DECISION = ("created", "pending_approval")


def _colour(text: str, colour: str | None) -> str:
    return f"{_COLOURS[colour]}{text}{_RESET}" if colour else text


def mask_card_number(number: str) -> str:
    """``4242424242424242`` → ``•••• 4242``."""
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    return f"•••• {digits[-4:]}" if digits else "••••"


def _masked(value: Any, key: str = "") -> Any:
    """A copy safe to show a human: card numbers masked, CVCs and tokens hidden."""
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if key == "number" and isinstance(value, (str, int)):
        return mask_card_number(str(value))
    if key in _SECRET_KEYS and isinstance(value, str) and not value.endswith("..."):
        return "•••"
    return value


class Spinner:
    """A stderr spinner shown while the next chunk is awaited (only on a terminal)."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str, stream: TextIO | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Spinner:
        if self.enabled:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def _spin(self) -> None:
        for frame in itertools.cycle(self.FRAMES):
            if self._stop.wait(0.08):
                break
            self.stream.write(f"\r{frame} {self.text}")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def _box(lines: list[str]) -> list[str]:
    width = max(len(line) for line in lines)
    top = "╭" + "─" * (width + 2) + "╮"
    bottom = "╰" + "─" * (width + 2) + "╯"
    return [top, *(f"│ {line.ljust(width)} │" for line in lines), bottom]


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _summary(value: Any, indent: str = "") -> list[str]:
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("instruction", "_next"):
                continue
            label = sanitize_text(str(key))  # keys come from the server too
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{indent}{label}:")
                lines += _summary(item, indent + "  ")
            else:
                text = _plain(item)
                colour = _STATUS_COLOURS.get(text) if key == "status" else None
                lines.append(f"{indent}{label}: {_colour(sanitize_text(text), colour)}")
    elif isinstance(value, list):
        if not value:
            lines.append(f"{indent}(none)")
        for item in value:
            sub = _summary(item, indent + "  ")
            if sub:
                sub[0] = indent + "- " + sub[0].lstrip()
            lines += sub
    else:
        lines.append(indent + sanitize_text(_plain(value)))
    return lines


def _url_block(value: dict[str, Any]) -> list[str]:
    """The URL the person should open, boxed, with the phrase and a QR code; or nothing."""
    url = _first_url(value)
    if url is None:
        return []
    lines = _box([sanitize_text(url)])
    phrase = value.get("phrase")
    if phrase:
        lines.append(f"Phrase: {sanitize_text(str(phrase))}")
    return lines + qr_lines(url)


def _print(out: TextIO, lines: list[str]) -> None:
    out.write("\n".join(lines) + "\n")
    out.flush()


def _show(value: Any, out: TextIO) -> None:
    value = _masked(strip_undefined(value))
    lines: list[str] = []
    if isinstance(value, dict):
        lines += _url_block(value)
        if "message" in value and len(value) <= 2:
            lines.append(_colour(sanitize_text(str(value["message"])), "yellow"))
            _print(out, lines)
            return
    lines += _summary(value)
    _print(out, lines)


def _wait_text(command: Command) -> str:
    if command.path[0] == "auth":
        return "Waiting for approval in your Link wallet…"
    return "Waiting for the spend request to be approved…"


def _payment_method_line(method: dict[str, Any]) -> str:
    """``<id>  visa ****4242 (Work) (default)`` as the official list view (contract §3.11)."""
    card = method.get("card_details") or {}
    bank = method.get("bank_account_details") or {}
    label = card.get("brand") or bank.get("bank_name") or "Bank account"
    line = f"{method.get('id')}  {label} ****{card.get('last4') or bank.get('last4') or ''}"
    if method.get("nickname"):
        line += f" ({method['nickname']})"
    if method.get("is_default"):
        line += " " + _colour("(default)", "green")
    agentic = ((method.get("capabilities") or {}).get("agentic_payments")) or {}
    if agentic.get("eligible") is False:
        reasons = ", ".join(map(str, agentic.get("ineligibility_reasons") or []))
        line += "\n    " + _colour(f"agentic_payments: ineligible ({reasons})", "yellow")
    return sanitize_text(line)


def _spend_request_line(request: dict[str, Any]) -> str:
    """``lsrq_…  approved  $12.00 USD  Merchant`` with the status coloured."""
    status = str(request.get("status", ""))
    amount = request.get("amount")
    money = (
        f"${amount / 100:.2f} {str(request.get('currency', '')).upper()}"
        if isinstance(amount, int)
        else ""
    )
    merchant = request.get("merchant_name") or request.get("network_id") or ""
    return (
        f"{sanitize_text(str(request.get('id')))}  "
        f"{_colour(sanitize_text(status), _STATUS_COLOURS.get(status))}  "
        f"{money}  {sanitize_text(str(merchant))}"
    )


_LIST_LINES = {
    ("payment-methods", "list"): _payment_method_line,
    ("spend-request", "list"): _spend_request_line,
}


def _pay_result_lines(chunk: Any) -> list[str] | None:
    """``HTTP <status>`` (green < 300, yellow < 400, red otherwise) and the body (contract §8.4)."""
    if not isinstance(chunk, dict) or set(chunk) != {"status", "headers", "body"}:
        return None
    status = chunk["status"]
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    colour = "green" if status < 300 else "yellow" if status < 400 else "red"
    return [_colour(f"HTTP {status}", colour), sanitize_text(str(chunk["body"]))]


def _clamp(text: str, width: int) -> str:
    """``text`` fitted to ``width`` columns, ``...`` marking a cut."""
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def _money(amount: Any, currency: Any) -> str:
    from link_cli.money import format_amount

    if isinstance(amount, int) and not isinstance(amount, bool) and isinstance(currency, str):
        return format_amount(amount, currency)
    return _plain(amount)


def _amounts(mapping: Any) -> str:
    if not isinstance(mapping, dict):
        return ""
    return ", ".join(_money(amount, currency) for currency, amount in mapping.items())


def _transaction_row(item: dict[str, Any]) -> list[str]:
    return [
        _plain(item.get("created_date")),
        _plain(item.get("description")),
        _money(item.get("amount"), item.get("currency")),
        _plain(item.get("category")),
        _plain(item.get("origin")),
        _plain(item.get("status")),
        _plain(item.get("id")),
    ]


def _source_row(item: dict[str, Any]) -> list[str]:
    capabilities = item.get("capabilities")
    statuses = (
        ", ".join(
            f"{name}: {(value or {}).get('status', '')}" if isinstance(value, dict) else name
            for name, value in capabilities.items()
        )
        if isinstance(capabilities, dict)
        else ""
    )
    return [_plain(item.get("id")), _plain(item.get("name")), _plain(item.get("type")), statuses]


def _balance_row(item: dict[str, Any]) -> list[str]:
    kind = item.get("type")
    detail = item.get(kind) if isinstance(kind, str) else None
    amounts = ""
    if isinstance(detail, dict):
        amounts = _amounts(detail.get("used") if kind == "credit" else detail.get("available"))
    return [
        _plain(item.get("source_id")),
        _plain(item.get("name")),
        _plain(kind),
        amounts,
        _plain(item.get("as_of")),
    ]


# Column titles, natural widths (the flexible column, -1, takes what the terminal leaves),
# the row maker and the item field that is the next page's cursor (contract §3.17).
_PAGE_TABLES: dict[tuple[str, ...], tuple[tuple[tuple[str, int], ...], Any, str]] = {
    ("transactions", "list"): (
        (
            ("DATE", 10),
            ("DESCRIPTION", -1),
            ("AMOUNT", 14),
            ("CATEGORY", 14),
            ("ORIGIN", 19),
            ("STATUS", 10),
            ("ID", 30),
        ),
        _transaction_row,
        "id",
    ),
    ("sources", "list"): (
        (("ID", 30), ("NAME", -1), ("TYPE", 12), ("CAPABILITIES", 40)),
        _source_row,
        "id",
    ),
    ("balances", "list"): (
        (("SOURCE", 30), ("NAME", -1), ("TYPE", 6), ("BALANCE", 24), ("AS OF", 24)),
        _balance_row,
        "source_id",
    ),
}


def _page_lines(command: Command, page: Any) -> list[str] | None:
    """A page as a fixed-width table, ``has_more`` and the next cursor (contract §3.17)."""
    spec = _PAGE_TABLES.get(command.path)
    if spec is None or not isinstance(page, dict) or not isinstance(page.get("data"), list):
        return None
    import shutil

    columns, row_of, cursor_field = spec
    items = [item for item in page["data"] if isinstance(item, dict)]
    total = shutil.get_terminal_size((140, 24)).columns
    fixed = sum(width for _, width in columns if width > 0) + 2 * (len(columns) - 1)
    flexible = max(12, min(40, total - fixed))
    widths = [width if width > 0 else flexible for _, width in columns]

    def line(cells: list[str]) -> str:
        fitted = [
            _clamp(sanitize_text(cell), width).ljust(width)
            for cell, width in zip(cells, widths, strict=True)
        ]
        return "  ".join(fitted).rstrip()

    lines = [line([title for title, _ in columns])]
    lines += [line(row_of(item)) for item in items] or ["(none)"]
    has_more = page.get("has_more") is True
    lines.append(f"has_more: {'true' if has_more else 'false'}")
    if has_more and items:
        lines.append(
            f"next page: --starting-after {sanitize_text(_plain(items[-1].get(cursor_field)))}"
        )
    return lines


# Streamed chunks with their own view; None falls back to the generic summary.
_CHUNK_LINES = {("mpp", "pay"): _pay_result_lines}


def present(command: Command, result: Any, out: TextIO) -> int:
    """Show a command's result (or its stream of chunks) to a human; return the exit code."""
    line_of = _LIST_LINES.get(command.path)
    if line_of is not None and isinstance(result, list):
        rows = [line_of(item) for item in result if isinstance(item, dict)]
        _print(out, rows or ["(none)"])
        return 0
    table = _page_lines(command, result)
    if table is not None:
        _print(out, table)
        return 0
    if not command.streaming:
        _show(result, out)
        if command.path == ("payment-methods", "add") and isinstance(result, dict):
            _offer_browser(str(result.get("url", "")))
        return 0
    iterator: Iterator[Any] = iter(result)
    first = True
    offered: str | None = None
    while True:
        with Spinner("Working…" if first else _wait_text(command)):
            try:
                chunk = next(iterator)
            except StopIteration:
                return 0
        first = False
        view = _CHUNK_LINES.get(command.path)
        lines = view(chunk) if view is not None else None
        if lines is not None:
            _print(out, lines)
        else:
            _show(chunk, out)
        if offered is None and isinstance(chunk, dict):
            offered = _first_url(chunk)
            if offered:
                _offer_browser_while_waiting(offered, out)


def _offer_browser(url: str) -> None:
    """Open ``url`` (http/https only) when the user presses Enter (contract §10.5)."""
    if not url.startswith(("http://", "https://")) or not sys.stdin.isatty():
        return
    try:
        input("Press Enter to open in your browser (Ctrl-C to skip)… ")
    except (EOFError, KeyboardInterrupt):
        return
    import webbrowser

    webbrowser.open(url)


def _first_url(value: dict[str, Any]) -> str | None:
    """The http(s) URL a person can act on in ``value``, if any.

    A spend request's approval page is only worth offering while it awaits a decision:
    once approved, denied, expired or canceled, the page has nothing left to do.
    """
    settled = "status" in value and value["status"] not in _AWAITING_DECISION
    for key in _URL_KEYS:
        if settled and key in _APPROVAL_KEYS:
            continue
        url = value.get(key)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url
    return None


def _offer_browser_while_waiting(url: str, out: TextIO) -> None:
    """While polling goes on, Enter opens ``url`` (http/https only, contract §10.5)."""
    if not sys.stdin.isatty():
        return
    out.write("Press Enter to open it in your browser.\n")
    out.flush()

    def wait_for_enter() -> None:
        try:
            sys.stdin.readline()
        except (OSError, ValueError):
            return
        import webbrowser

        webbrowser.open(url)

    threading.Thread(target=wait_for_enter, daemon=True).start()


def present_error(error: LinkError, command: Command | None, out: TextIO) -> None:
    """``Error (<CODE>): <message>`` plus suggested commands (contract §5.1, human mode)."""
    lines: list[str] = []
    if error.code == "VALIDATION_ERROR" and error.field_errors and command is not None:
        for field_error in error.field_errors:
            flag = "--" + kebab(str(field_error.get("path", "")).split(".")[0])
            if field_error.get("missing"):
                lines.append(f"Error: missing required option {flag}")
            else:
                lines.append(f"Error: invalid value for {flag}: {field_error.get('message')}")
        from link_cli.cli.help import command_help

        lines += ["See below for usage.", "", command_help(command)]
    else:
        message = sanitize_text(error.message)
        if error.code in ("UNKNOWN", "COMMAND_NOT_FOUND"):
            lines.append(_colour(f"Error: {message}", "red"))
        else:
            lines.append(_colour(f"Error ({error.code}): {message}", "red"))
    if error.cta:
        lines += ["", sanitize_text(str(error.cta.get("description", "")))]
        for entry in error.cta.get("commands", []):
            suffix = f"  # {entry['description']}" if entry.get("description") else ""
            lines.append(sanitize_text(f"  {entry['command']}{suffix}"))
    _print(out, lines)
