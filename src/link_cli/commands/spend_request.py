"""``spend-request create / update / retrieve / request-approval / cancel / list`` (contract §3.5–§3.10)."""

from __future__ import annotations

from link_cli.commands import _kv
from link_cli.commands._spec import Argument, Command, Group, Option
from link_cli.commands._spend_request_input import (
    check_create_rules,
    create_body,
    given,
    parse_items,
)
from link_cli.commands._spend_request_results import (
    is_auto_resume,
    map_api_error,
    with_approval_hint,
    with_requires_action,
    write_card_file,
)
from link_cli.errors import NotFound, PollingTimeout, Unknown

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from link_cli.commands._context import Context
    from link_cli.commands._polling import Held

_HANDLERS = "link_cli.commands.spend_request"
TERMINAL_STATUSES = frozenset({"approved", "denied", "expired", "succeeded", "failed", "canceled"})
# Human-mode approval wait (contract §4.3): every 2 s for up to 5 minutes.
HUMAN_POLL_INTERVAL = 2.0
HUMAN_APPROVAL_TIMEOUT = 300.0


_ID = Argument("id", "Spend request ID (lsrq_…)")
_LINE_ITEM = Option(
    "lineItem",
    repeatable=True,
    accepts_object=True,
    default=(),
    help="Line item as key:value pairs, e.g. name:Widget,quantity:1,unit_amount:5000 "
    "(keys: name, url, image_url, description, sku, quantity, unit_amount, product_url)",
)
_TOTAL = Option(
    "total",
    repeatable=True,
    accepts_object=True,
    default=(),
    help="Total as key:value pairs, e.g. type:total,display_text:Total,amount:5000",
)
_POLL_OPTIONS = (  # the official schema's order (contract §9.1): timeout first
    Option("timeout", "number", "Stop polling after N seconds", 600),
    Option("interval", "number", "Poll every N seconds until a terminal status (0: fetch once)", 0),
    Option("maxAttempts", "number", "Stop polling after N fetches (0: unlimited)", 0),
)
_OUTPUT_FILE = Option(
    "outputFile",
    help="Write the card credentials to this new file (mode 0600) instead of printing them",
)
_FORCE = Option("force", "boolean", "Allow --output-file to replace an existing file", False)

GROUPS = (Group(("spend-request",), "Spend request management commands"),)

COMMANDS = (
    Command(
        path=("spend-request", "create"),
        description="Create a new spend request",
        handler=f"{_HANDLERS}:create",
        streaming=True,
        auth="guard",
        options=(
            Option("paymentMethodId", help="Payment method to charge (default: the account's)"),
            Option(
                "credentialType",
                "enum",
                "Credential to issue on approval",
                "card",
                choices=("shared_payment_token", "card"),
            ),
            Option("networkId", help="Seller network id (required for shared_payment_token)"),
            Option(
                "executionMethod",
                "enum",
                "Link Pay Token mode",
                choices=("link_pay_token",),
            ),
            Option("merchantAccountId", help="Merchant account for Link Pay Token mode"),
            Option(
                "amount",
                "integer",
                "Amount in the currency's minor unit (cents)",
                required=True,
                exclusive_minimum=0,
                maximum=500000,
            ),
            Option(
                "currency",
                help="Three-letter currency code",
                default="usd",
                min_length=3,
                max_length=3,
            ),
            Option("merchantName", help="Merchant name (required for card)", short="m"),
            Option("merchantUrl", help="Merchant URL (required for card)"),
            Option(
                "context",
                help="What is being bought and why, for the person approving (>= 100 characters)",
                required=True,
                min_length=100,
            ),
            _LINE_ITEM,
            _TOTAL,
            Option("requestApproval", "boolean", "Ask the person to approve right away", True),
            Option("test", "boolean", "Create a test-mode spend request", False),
            Option("approve", "boolean", "", False),
            _OUTPUT_FILE,
            _FORCE,
            Option(
                "approvalDetail",
                accepts_object=True,
                help="Approval details as JSON (delegated approval)",
            ),
            Option(
                "metadata",
                repeatable=True,
                accepts_object=True,
                default=(),
                help="Metadata as key:value pairs, e.g. order_id:ord_123,team:growth",
            ),
            Option("expiresAt", "integer", "Unix timestamp (seconds)."),
        ),
        examples=(
            "spend-request create --amount 5000 -m 'Example Store' "
            "--merchant-url https://example.com --context '…100+ characters…' "
            "--line-item name:Widget,quantity:1,unit_amount:5000",
        ),
    ),
    Command(
        path=("spend-request", "update"),
        description="Update a spend request",
        handler=f"{_HANDLERS}:update",
        auth="middleware",
        args=(_ID,),
        options=(
            Option("paymentMethodId", help="Payment method to charge"),
            Option("amount", "number", "Amount in the currency's minor unit"),
            Option("merchantUrl", help="Merchant URL"),
            Option("profileId", help="Seller profile id"),
            Option("merchantId", help="Merchant id"),
            Option("currency", help="Currency code"),
            _LINE_ITEM,
            _TOTAL,
        ),
    ),
    Command(
        path=("spend-request", "retrieve"),
        description="Retrieve a spend request",
        handler=f"{_HANDLERS}:retrieve",
        streaming=True,
        auth="guard",
        read_only=True,
        args=(_ID,),
        options=(
            *_POLL_OPTIONS,
            Option(
                "include",
                repeatable=True,
                default=(),
                help="Expand secrets once approved: card, shared_payment_token, link_pay_token",
            ),
            _OUTPUT_FILE,
            _FORCE,
        ),
    ),
    Command(
        path=("spend-request", "request-approval"),
        description="Request approval for a spend request",
        handler=f"{_HANDLERS}:request_approval",
        streaming=True,
        auth="guard",
        args=(_ID,),
    ),
    Command(
        path=("spend-request", "cancel"),
        description="Cancel a spend request",
        handler=f"{_HANDLERS}:cancel",
        auth="middleware",
        args=(_ID,),
    ),
    Command(
        path=("spend-request", "list"),
        description=(
            "List spend requests. By default returns only active requests (created, "
            "pending_approval, approved). Use --include-history to return all spend "
            "requests including expired and terminal states."
        ),
        handler=f"{_HANDLERS}:list_",
        auth="middleware",
        read_only=True,
        options=(
            Option("includeHistory", "boolean", "Include expired and terminal requests", False),
        ),
    ),
)


def _is_terminal(value: dict[str, Any] | None) -> bool:
    if value is None:
        return True
    status = value.get("status")
    if status == "requires_action":
        return not is_auto_resume(value)
    return status in TERMINAL_STATUSES


def _held_retrieve(
    client: Any, spend_request_id: str, include: tuple[str, ...], interval: float
) -> tuple[Callable[[], Any], Held | None]:
    """The poller's fetch: a retrieve asking the wallet to hold it for up to ``interval``
    (long-poll, docs/long-poll.md), and what the wallet said; a plain retrieve when polling
    is not asked for or faster than a second."""
    from link_cli.commands._polling import Held
    from link_cli.sdk._http import wait_for_interval

    wait = wait_for_interval(interval) if interval > 0 else None
    if wait is None:
        return lambda: client.spend_requests.retrieve(spend_request_id, include=include), None
    held = Held()

    def fetch() -> Any:
        value, held.applied = client.spend_requests.retrieve_waiting(
            spend_request_id, include, wait=wait
        )
        return value

    return fetch, held


def wait_for_decision(ctx: Context, spend_request_id: str, include: tuple[str, ...]) -> Any:
    """Human mode: wait for the person's decision (contract §4.3), then fetch once more."""
    client = ctx.client

    def waiting(value: dict[str, Any] | None) -> bool:
        return value is None or value.get("status") not in ("created", "pending_approval")

    from link_cli.commands._polling import poll_until

    fetch, held = _held_retrieve(client, spend_request_id, (), HUMAN_POLL_INTERVAL)
    last: Any = None
    for event in poll_until(
        fetch,
        waiting,
        interval=HUMAN_POLL_INTERVAL,
        timeout=HUMAN_APPROVAL_TIMEOUT,
        sleep=ctx.sleep,
        clock=ctx.clock,
        held=held,
    ):
        last = event.value
        if event.final and event.reason:
            raise Unknown("Approval polling timed out")
    if last is None:
        raise NotFound(f"Spend request {spend_request_id} not found")
    if last.get("status") != "approved" or not include:
        return last
    # Secrets are only served once approved, so ask for them only now.
    return client.spend_requests.retrieve(spend_request_id, include=include) or last


def create(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Create a spend request; by default also request approval (contract §14.1)."""
    check_create_rules(p)
    body = create_body(p)
    ctx.require_auth()  # contract §14.3: the official guard is a no-op; ours does what it promises
    try:
        created = ctx.client.spend_requests.create(body, delegated=bool(p["approve"]))
    except Exception as exc:
        raise map_api_error(exc, duplicates=True) from exc
    if created.get("status") == "requires_action":
        yield with_requires_action(created)
        return
    if not p["requestApproval"]:
        yield write_card_file(created, p["outputFile"], p["force"])
        return
    yield with_approval_hint(created, created.get("id", ""))
    if ctx.human and created.get("status") in ("created", "pending_approval"):
        if given(p["executionMethod"]):
            include: tuple[str, ...] = ("link_pay_token",)
        else:
            include = ("card",) if p["credentialType"] == "card" else ("shared_payment_token",)
        final = wait_for_decision(ctx, created["id"], include)
        yield write_card_file(final, p["outputFile"], p["force"])


def retrieve(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Fetch (and with --interval, poll) a spend request (contract §3.7, §4.1)."""
    ctx.require_auth()
    spend_request_id = p["id"]
    include = tuple(p["include"])
    client = ctx.client
    interval, timeout = p["interval"], p["timeout"]
    if ctx.human and interval <= 0:
        interval = HUMAN_POLL_INTERVAL  # contract §14.18: a person waits for a terminal status
    from link_cli.commands._polling import poll_until

    fetch, held = _held_retrieve(client, spend_request_id, include, interval)
    for event in poll_until(
        fetch,
        _is_terminal,
        interval=interval,
        max_attempts=int(p["maxAttempts"]),
        timeout=timeout,
        sleep=ctx.sleep,
        clock=ctx.clock,
        held=held,
    ):
        value = event.value
        if value is None:
            raise NotFound(f"Spend request {spend_request_id} not found")
        if not event.final:
            yield value
            continue
        status = value.get("status")
        if event.reason == "max_attempts":
            raise PollingTimeout(
                f"Polling stopped before spend request {spend_request_id} reached a terminal "
                f"status: max attempts ({int(p['maxAttempts'])}) exhausted; current status is "
                f"{status}."
            )
        if event.reason == "timeout":
            raise PollingTimeout(
                f"Polling stopped before spend request {spend_request_id} reached a terminal "
                f"status: timeout ({_seconds(timeout)}s) reached; current status is {status}."
            )
        if status == "requires_action":
            yield with_requires_action(value)
        else:
            yield write_card_file(value, p["outputFile"], p["force"])


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def request_approval(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Ask the person to approve an existing spend request (contract §3.8)."""
    ctx.require_auth()
    try:
        response = ctx.client.spend_requests.request_approval(p["id"])
    except Exception as exc:
        raise map_api_error(exc, duplicates=False) from exc
    yield with_approval_hint(response, p["id"])
    if ctx.human:
        yield wait_for_decision(ctx, p["id"], ())


def update(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send only the fields given (contract §3.6)."""
    mapping = (
        ("paymentMethodId", "payment_details"),
        ("amount", "amount"),
        ("merchantUrl", "merchant_url"),
        ("profileId", "profile_id"),
        ("merchantId", "merchant_id"),
        ("currency", "currency"),
    )
    body = {wire: p[name] for name, wire in mapping if given(p[name])}
    line_items = parse_items(p["lineItem"], _kv.parse_line_item)
    totals = parse_items(p["total"], _kv.parse_total)
    if line_items:
        body["line_items"] = line_items
    if totals:
        body["totals"] = totals
    return ctx.client.spend_requests.update(p["id"], body)


def cancel(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Cancel a created, pending or approved spend request (contract §3.9)."""
    return ctx.client.spend_requests.cancel(p["id"])


def list_(p: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """Active spend requests, or all with --include-history (contract §3.10); a bare array."""
    return ctx.client.spend_requests.list(include_history=bool(p["includeHistory"]))
