"""``mpp decode`` and ``mpp pay <url>`` (contract §3.14–§3.15, §8).

``decode`` reads a ``WWW-Authenticate`` value offline. ``pay`` probes a URL and answers its
402 with a shared payment token: with ``--spend-request-id`` it pays at once (pay-only,
contract §8.3); without, it creates the SPT spend request and, in agent mode, returns the
``_next.poll_command`` / ``pay_command`` hints (contract §8.4) — a person at a terminal waits for
the approval and pays in one go.

Deliberate differences from the official CLI (docs/compatibility.md):
* a malformed challenge next to a good one does not reject the whole header, and the word
  "Payment" inside a quoted value never starts a challenge (mpp §6);
* the paid retry never follows a redirect, a cross-origin probe redirect drops the user's
  ``Authorization``/``Cookie``, and a challenge whose seller, currency or amount falls
  outside the approved spend request (or that is unpayable: bad amount or currency, empty
  ``paymentMethodTypes``, reserved ``metadata.externalId``) is refused before the token is
  sent;
* the echoed ``request`` is the server's string, byte for byte (mpp §5.2 item 4); the
  charge payload carries the request's ``externalId``; a ``header="Payment-Authorization"``
  challenge gets the credential in that header;
* ``--header`` names are matched case-insensitively (a later line replaces an earlier one,
  and the credential replaces a user ``authorization`` header of any case);
* a paid retry that fails in transit says the outcome is unknown instead of a bare
  network error.
"""

from __future__ import annotations

from link_cli.commands._spec import UNDEFINED, Argument, Command, Group, Option, js_number
from link_cli.errors import InvalidInput, InvalidResponse, NoPaymentMethod, Unknown

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from link_cli.commands._context import Context

_HANDLERS = "link_cli.commands.mpp"
SPT = "shared_payment_token"
# Human mode (contract §8.4): after the approval wait (2 s / 5 minutes, shared with spend-request
# create), up to 3 more fetches 1 s apart while the token is not there yet.
TOKEN_RETRIES = 3
TOKEN_RETRY_DELAY = 1.0

GROUPS = (Group(("mpp",), "Machine payment protocol (MPP) commands"),)

COMMANDS = (
    Command(
        path=("mpp", "decode"),
        description="Decode a stripe WWW-Authenticate challenge and extract network_id",
        handler=f"{_HANDLERS}:decode",
        read_only=True,
        options=(
            Option(
                "challenge",
                required=True,
                help="The raw WWW-Authenticate header value (may hold several challenges)",
            ),
        ),
        examples=('mpp decode --challenge \'Payment id="…", method="stripe", …\'',),
    ),
    Command(
        path=("mpp", "pay"),
        description=(
            "Pay a URL via the Machine Payment Protocol. Handles the full 402 flow: probes "
            "the URL, parses the challenge, creates a spend request, gets approval, and pays "
            "with the SPT. Pass --spend-request-id to skip creation and use a pre-approved "
            "spend request."
        ),
        handler=f"{_HANDLERS}:pay",
        streaming=True,
        auth="middleware",
        args=(Argument("url", "The URL to pay (http or https)"),),
        options=(
            Option("spendRequestId", help="An approved shared_payment_token spend request"),
            Option("method", short="X", help="HTTP method (default GET, or POST with --data)"),
            Option("data", short="d", help="Request body, sent verbatim as JSON"),
            Option(
                "header",
                short="H",
                repeatable=True,
                default=(),
                help="Request header 'Name: Value'",
            ),
            Option(
                "context",
                min_length=100,
                help="What is being bought and why (>= 100 characters; full flow only)",
            ),
            Option(
                "amount",
                "integer",
                "Amount in minor units, overriding the challenge's",
                exclusive_minimum=0,
            ),
            Option(
                "paymentMethodId",
                help="Payment method to fund the token (default: the first one listed)",
            ),
            Option("test", "boolean", "Create a test-mode spend request", False),
        ),
        examples=(
            "mpp pay https://shop.example/api/thing --context '…100+ characters…'",
            "mpp pay https://shop.example/api/thing --spend-request-id lsrq_…",
        ),
    ),
)


def _given(value: Any) -> bool:
    return value is not UNDEFINED and value is not None


def _sanitize(value: Any) -> Any:
    from link_cli._sanitize import sanitize_deep

    return sanitize_deep(value)


def _unknown(exc: Exception) -> Unknown:
    """Codec and merchant errors surface as UNKNOWN with their (sanitised) message."""
    from link_cli._sanitize import sanitize_text

    return Unknown(sanitize_text(str(exc)))


# ---------------------------------------------------------------------------
# mpp decode (contract §3.14, §8.1)
# ---------------------------------------------------------------------------


def _decoded(challenge: Any) -> dict[str, Any]:
    from link_cli.mpp.methods import stripe

    request = stripe.parse_stripe_request(challenge)
    out: dict[str, Any] = {
        "id": challenge.id,
        "realm": challenge.realm,
        "method": challenge.method,
        "intent": challenge.intent,
        "description": challenge.description if challenge.description is not None else UNDEFINED,
        "digest": challenge.digest if challenge.digest is not None else UNDEFINED,
        "expires": challenge.expires if challenge.expires is not None else UNDEFINED,
        "network_id": request.network_id,
        "request_json": dict(request.raw),
    }
    return _sanitize(out)


def _preferred_offer(challenges: list[Any]) -> Any:
    from link_cli.mpp.client import preferred_stripe_offer

    return preferred_stripe_offer(challenges)


def decode(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The stripe charge/session offer of a header value, with its network id."""
    from link_cli.mpp import MppParseError, parse_www_authenticate

    try:
        return _decoded(_preferred_offer(parse_www_authenticate(p["challenge"])))
    except MppParseError as exc:
        raise _unknown(exc) from None


# ---------------------------------------------------------------------------
# mpp pay (contract §3.15, §8.2–§8.4)
# ---------------------------------------------------------------------------


def _merchant_request(p: dict[str, Any]) -> Any:
    from link_cli.mpp.client import MerchantRequest

    return MerchantRequest.from_options(
        p["url"],
        method=p["method"] if _given(p["method"]) and p["method"] else None,
        data=p["data"] if _given(p["data"]) else None,
        header_lines=p["header"],
    )


def _send(request: Any) -> Any:
    from link_cli.mpp.client import MppPayError, send

    try:
        return send(request)
    except MppPayError as exc:
        raise _unknown(exc) from None


def _pay_result(response: Any) -> dict[str, Any]:
    """The sanitised PayResult ``{status, headers, body}`` of contract §8.2."""
    return _sanitize(response.pay_result())


def _token_id(spend_request: dict[str, Any]) -> str | None:
    token = spend_request.get(SPT)
    if isinstance(token, str):  # legacy shape; the SDK normally turns it into {id}
        return token or None
    if isinstance(token, dict) and isinstance(token.get("id"), str) and token["id"]:
        return token["id"]
    return None


def _approved_spend_request(ctx: Context, spend_request_id: str) -> tuple[dict[str, Any], str]:
    """contract §8.3 step 1: the spend request must be an approved SPT request holding a token."""
    spend_request = ctx.client.spend_requests.retrieve(spend_request_id, include=(SPT,))
    if spend_request is None:
        raise Unknown(f"Spend request {spend_request_id} not found")
    kind = spend_request.get("credential_type") or "card"
    if kind != SPT:
        raise Unknown(
            f"Spend request {spend_request_id} must have credential_type "
            f"'shared_payment_token' (current: '{kind}')"
        )
    status = spend_request.get("status")
    if status != "approved":
        raise Unknown(f"Spend request must be approved (current status: {status})")
    token = _token_id(spend_request)
    if token is None:
        raise Unknown("Spend request does not have a shared payment token")
    return spend_request, token


def _terms(spend_request: dict[str, Any]) -> Any:
    from link_cli.mpp.client import ApprovedTerms

    amount = spend_request.get("amount")
    currency = spend_request.get("currency")
    network_id = spend_request.get("network_id")
    return ApprovedTerms(
        network_id=network_id if isinstance(network_id, str) and network_id else None,
        max_amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency if isinstance(currency, str) and currency else None,
    )


def _pay_probe(probe: Any, spend_request: dict[str, Any], token: str) -> dict[str, Any]:
    """contract §8.3 steps 2–4: pass a non-402 through, else pay the challenge once."""
    from link_cli.mpp import MppParseError
    from link_cli.mpp.client import MppPayError, pay

    if probe.status != 402:
        return _pay_result(probe)
    try:
        paid = pay(probe, token, terms=_terms(spend_request))
    except (MppParseError, MppPayError) as exc:
        raise _unknown(exc) from None
    return _pay_result(paid)


def _pay_only(p: dict[str, Any], ctx: Context, spend_request_id: str) -> dict[str, Any]:
    spend_request, token = _approved_spend_request(ctx, spend_request_id)
    return _pay_probe(_send(_merchant_request(p)), spend_request, token)


def _challenge_amount(request: Any) -> int | None:
    """``Number(challenge.amount)`` when it is a positive whole number (contract §8.4 step 3)."""
    if not request.amount:
        return None
    value = js_number(request.amount)
    if value != value or value <= 0 or value != int(value):
        return None
    return int(value)


def _quoted(text: str) -> str:
    return f"'{text}'"  # single quotes, no escaping: the official hint's exact form (contract §2.4)


def _pay_command(p: dict[str, Any], spend_request_id: str) -> str:
    parts = ["mpp pay", p["url"], "--spend-request-id", spend_request_id]
    if _given(p["method"]) and p["method"]:
        parts += ["-X", p["method"]]
    if _given(p["data"]):
        parts += ["-d", _quoted(p["data"])]
    for line in p["header"]:
        parts += ["-H", _quoted(line)]
    return " ".join(parts)


def _with_pay_hints(spend_request: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    spend_request_id = str(spend_request.get("id", ""))
    poll = f"spend-request retrieve {spend_request_id} --interval 2 --max-attempts 300"
    instruction = (
        "Present the approval_url to the user so they can approve this payment in their Link "
        f"wallet. Start polling right away with `{poll}` until the status changes from "
        "pending_approval; once it is approved, run the _next.pay_command to pay. Do not "
        "create another spend request for this purchase."
    )
    hints = {
        "poll_command": poll,
        "pay_command": _pay_command(p, spend_request_id),
        "until": "status changes from pending_approval, then run pay_command",
    }
    return {**spend_request, "instruction": instruction, "_next": hints}


def _first_payment_method(ctx: Context) -> str:
    methods = ctx.client.payment_methods.list()
    if not methods or not isinstance(methods[0], dict) or not methods[0].get("id"):
        raise NoPaymentMethod(
            "No payment methods found. Add one with `link-cli payment-methods add`."
        )
    return str(methods[0]["id"])


def _create_spend_request(p: dict[str, Any], ctx: Context, probe: Any) -> dict[str, Any]:
    """contract §8.4 steps 2–6: decode the challenge and create the SPT spend request."""
    from link_cli.mpp import MppParseError
    from link_cli.mpp.client import read_challenges
    from link_cli.mpp.methods import stripe

    if not probe.header_values("www-authenticate"):
        raise InvalidResponse("URL returned 402 but no WWW-Authenticate header")
    try:
        request = stripe.parse_stripe_request(_preferred_offer(read_challenges(probe)))
    except MppParseError as exc:
        raise _unknown(exc) from None
    amount = p["amount"] if _given(p["amount"]) else _challenge_amount(request)
    if not amount:
        raise InvalidInput(
            "Could not determine amount from 402 challenge. Pass --amount explicitly."
        )
    if not _given(p["context"]):
        raise InvalidInput(
            "--context is required for the full MPP flow (min 100 chars). "
            "Describe the purchase and rationale."
        )
    try:
        # Never ask the person to approve what could not be paid (pay-only checks the same).
        request.check_payable()
    except MppParseError as exc:
        raise _unknown(exc) from None
    payment_method = (
        p["paymentMethodId"] if _given(p["paymentMethodId"]) else _first_payment_method(ctx)
    )
    body: dict[str, Any] = {
        "payment_details": payment_method,
        "credential_type": SPT,
        "network_id": request.network_id,
        "amount": amount,
        "currency": request.currency or "usd",
        "context": p["context"],
        "request_approval": True,
    }
    if p["test"]:
        body["test"] = True
    return ctx.client.spend_requests.create(body)


def _wait_for_token(ctx: Context, spend_request_id: str) -> tuple[dict[str, Any], str]:
    """Human mode: wait for the person's decision (the same wait as ``spend-request create``),
    then up to :data:`TOKEN_RETRIES` more fetches while the token is not there yet (contract §8.4)."""
    from link_cli.commands.spend_request import wait_for_decision

    spend_request = wait_for_decision(ctx, spend_request_id, (SPT,))
    if spend_request.get("status") != "approved":
        raise Unknown(f"Spend request was not approved (status: {spend_request.get('status')})")
    for attempt in range(TOKEN_RETRIES + 1):
        token = _token_id(spend_request or {})
        if spend_request is not None and token is not None:
            return spend_request, token
        if attempt < TOKEN_RETRIES:
            ctx.sleep(TOKEN_RETRY_DELAY)
            spend_request = ctx.client.spend_requests.retrieve(spend_request_id, include=(SPT,))
    raise Unknown("Failed to retrieve shared payment token")


def _full_flow(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    request = _merchant_request(p)
    probe = _send(request)
    if probe.status != 402:
        yield _pay_result(probe)
        return
    created = _create_spend_request(p, ctx, probe)
    yield _with_pay_hints(created, p)
    if ctx.agent:
        return  # contract §14.10: the agent polls and pays with the hints
    spend_request, token = _wait_for_token(ctx, str(created.get("id", "")))
    yield _pay_probe(_send(request), spend_request, token)


def pay(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Pay `url`: pay-only with --spend-request-id, else the full flow (contract §8.3–§8.4)."""
    spend_request_id = p["spendRequestId"]
    if _given(spend_request_id) and spend_request_id:
        yield _pay_only(p, ctx, spend_request_id)
    else:
        yield from _full_flow(p, ctx)
