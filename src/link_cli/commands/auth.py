"""``auth login / upgrade / status / logout`` (contract §3.1–§3.4): the device flow, agent-friendly.

``login`` prints the verification URL and phrase as its first chunk (flushed at once by
the CLI), stores the pending authorization, and with ``--interval`` keeps polling like
``auth status``; so an agent can run it in the background or call ``auth status`` later.
"""

from __future__ import annotations

import sys
import time

from link_cli.commands._spec import JS_WHITESPACE, UNDEFINED, Command, Group, Option
from link_cli.errors import InvalidInput

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from link_cli.commands._context import Context
    from link_cli.commands._polling import Held

_HANDLERS = "link_cli.commands.auth"
DEFAULT_SCOPE = "userinfo:read payment_methods.agentic"
ALREADY_LOGGED_IN = (
    "You are already logged in. To switch accounts, run `link-cli auth logout` first."
)
STATUS_HINT = "auth status --interval 5 --max-attempts 60"
SOURCE_ACTIONS = (
    "read_balances",
    "read_external_transactions",
    "read_link_transactions",
    "read_source_details",
)
# Human mode polls /device/token every 2 s with no deadline (contract §4.3).
HUMAN_POLL_INTERVAL = 2.0


def _poll_options(timeout: int) -> tuple[Option, ...]:
    return (
        Option("interval", "number", "Poll every N seconds until authenticated (0: once)", 0),
        Option("maxAttempts", "number", "Stop polling after N attempts (0: unlimited)", 0),
        Option("timeout", "number", "Stop polling after N seconds", timeout),
    )


_LOGIN_OPTIONS = (
    Option("clientName", help="Name shown to the person approving this device", default="Link CLI"),
    Option("scope", help="Space-separated OAuth scopes to request"),
    Option(
        "sourceActions",
        "enum",
        "Financial-data actions to request",
        default=(),
        choices=SOURCE_ACTIONS,
        repeatable=True,
    ),
    Option(
        "authorizationDetail",
        help="Extra authorization detail as JSON",
        default=(),
        repeatable=True,
    ),
    *_poll_options(300),
)

GROUPS = (Group(("auth",), "Authentication commands"),)

COMMANDS = (
    Command(
        path=("auth", "login"),
        description="Authenticate with Link",
        handler=f"{_HANDLERS}:login",
        streaming=True,
        options=_LOGIN_OPTIONS,
    ),
    Command(
        path=("auth", "logout"),
        description="Log out from Link",
        handler=f"{_HANDLERS}:logout",
    ),
    Command(
        path=("auth", "status"),
        description="Check authentication status",
        handler=f"{_HANDLERS}:status",
        streaming=True,
        read_only=True,
        options=_poll_options(300),
    ),
    Command(
        path=("auth", "upgrade"),
        description=(
            "Re-authenticate with Link, merging the requested access with your current "
            "access so the new session is a superset"
        ),
        handler=f"{_HANDLERS}:upgrade",
        streaming=True,
        options=_LOGIN_OPTIONS,
    ),
)


# ---------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------


def token_preview(token: str | None) -> str:
    """First 20 characters and ``...``: tokens are never printed whole (contract §10.3)."""
    return f"{(token or '')[:20]}..."


def _requested_access(p: dict[str, Any]) -> tuple[str, str | None, list[Any]]:
    """Validate login/upgrade input in the official order (contract §3.1); all INVALID_INPUT."""
    import json

    client_name = p["clientName"].strip(JS_WHITESPACE)
    if not client_name:
        raise InvalidInput("client-name must be a non-empty string")
    scope = None
    if p["scope"] is not UNDEFINED and p["scope"] is not None:
        spaced = "".join(" " if c in JS_WHITESPACE else c for c in p["scope"])
        scope = " ".join(part for part in spaced.split(" ") if part)
        if not scope:
            raise InvalidInput("scope must be a non-empty string when provided")
    details = []
    for text in p["authorizationDetail"]:
        if isinstance(text, str):
            try:
                details.append(json.loads(text))
            except ValueError as exc:
                raise InvalidInput("authorization-detail must be valid JSON") from exc
        else:
            details.append(text)  # MCP may pass JSON values directly
    return client_name, scope, details


def _authenticated(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "authenticated": True,
        "access_token": token_preview(stored.get("access_token")),
        "token_type": stored.get("token_type"),
        "credentials_path": ctx.tokens.path,
    }
    if stored.get("scope"):
        result["scope"] = stored["scope"]
    if stored.get("authorization_details") is not None:
        result["authorization_details"] = stored["authorization_details"]
    return result


def _unauthenticated(ctx: Context) -> dict[str, Any]:
    result: dict[str, Any] = {"authenticated": False, "credentials_path": ctx.tokens.path}
    pending = ctx.tokens.get_pending_device_auth()
    if pending:
        result.update(
            pending=True,
            verification_url=pending.get("verification_url"),
            phrase=pending.get("phrase"),
        )
    return result


def _revoke_quietly(ctx: Context, token: str | None) -> None:
    """Best-effort revocation: failures never block login or logout (contract §6.1)."""
    if not token:
        return
    import contextlib

    with contextlib.suppress(Exception):
        ctx.auth.revoke(token)


def _store_tokens(ctx: Context, tokens: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Store new tokens, keeping scope/details the response did not echo (contract §14.12 fix)."""
    merged = dict(tokens)
    for key in ("scope", "authorization_details"):
        if key not in merged and previous and previous.get(key) is not None:
            merged[key] = previous[key]
    ctx.tokens.set_auth(merged)


def _poll_device(
    ctx: Context, pending: dict[str, Any], held: Held | None = None
) -> dict[str, Any] | None:
    """One /device/token poll; a denied or expired code also forgets the pending login.
    With ``held``, the wallet may hold it until the person answers (docs/long-poll.md)."""
    try:
        if held is None:
            return ctx.auth.poll_device_auth(pending["device_code"])
        tokens, held.applied = ctx.auth.poll_device_auth_waiting(
            pending["device_code"], wait=held.wait
        )
        return tokens
    except Exception as exc:
        if getattr(exc, "code", None) in ("access_denied", "expired_token"):
            ctx.tokens.clear_pending_device_auth()
        raise


def _status_once(ctx: Context, held: Held | None = None) -> dict[str, Any]:
    """One iteration of contract §3.3: maybe finish a pending login, then report."""
    if held is not None:
        held.applied = None
    tokens = ctx.tokens
    pending = tokens.get_pending_device_auth()
    if pending and pending.get("replaces_existing_session"):
        result = _poll_device(ctx, pending, held)
        if result is None:
            return _unauthenticated(ctx)
        previous = tokens.get_auth()
        tokens.set_auth(result)
        tokens.clear_pending_device_auth()
        _revoke_quietly(ctx, (previous or {}).get("refresh_token"))
    elif pending and tokens.get_auth() is None:
        result = _poll_device(ctx, pending, held)
        if result is not None:
            tokens.set_auth(result)
            tokens.clear_pending_device_auth()
    stored = tokens.get_auth()
    return _authenticated(ctx, stored) if stored else _unauthenticated(ctx)


def _poll_status(
    ctx: Context, p: dict[str, Any], *, wait_for_person: bool = False
) -> Iterator[dict[str, Any]]:
    """Poll until authenticated; a limit ends with the last status and exit 0 (contract §4.2).

    ``wait_for_person``: an interactive login polls every 2 s with no deadline (contract §4.3).
    """
    interval, timeout = p["interval"], p["timeout"]
    if wait_for_person and interval <= 0:
        interval, timeout = HUMAN_POLL_INTERVAL, -1
    from link_cli.commands._polling import Held, poll_until
    from link_cli.sdk._http import wait_for_interval

    wait = wait_for_interval(interval) if interval > 0 else None
    held = Held(wait) if wait is not None else None
    for event in poll_until(
        lambda: _status_once(ctx, held),
        lambda status: bool(status.get("authenticated")),
        interval=interval,
        max_attempts=int(p["maxAttempts"]),
        timeout=timeout,
        sleep=ctx.sleep,
        clock=ctx.clock,
        held=held,
    ):
        yield event.value


def _device_chunk(
    ctx: Context, device: dict[str, Any], interval: float, warning: str | None
) -> dict[str, Any]:
    chunk: dict[str, Any] = {}
    if warning:
        chunk["warning"] = warning
    chunk["verification_url"] = device.get("verification_url_complete")
    chunk["phrase"] = device.get("user_code")
    approve = (
        "Present the verification_url to the user and ask them to approve this connection "
        "in their Link wallet, checking that the phrase matches."
    )
    if interval > 0:
        chunk["instruction"] = approve + " Polling has started automatically; wait for it."
    else:
        chunk["instruction"] = (
            f"{approve} Do not wait for the user's reply: run `link-cli {STATUS_HINT}` now "
            "to start polling immediately."
        )
        chunk["_next"] = {
            "command": STATUS_HINT,
            "poll_interval_seconds": device.get("interval"),
            "until": "authenticated is true",
        }
    return chunk


def _start_device_flow(
    ctx: Context,
    p: dict[str, Any],
    client_name: str,
    scope: str | None,
    details: list[Any],
    *,
    replaces_existing_session: bool = False,
    warning: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Steps 3–6 of contract §3.1: request a code, store it as pending, print it, maybe poll."""
    device = ctx.auth.initiate_device_auth(
        client_name=client_name, scope=scope, authorization_details=details
    )
    pending: dict[str, Any] = {
        "device_code": device["device_code"],
        "interval": device.get("interval"),
        "expires_at": int(time.time() * 1000) + int((device.get("expires_in") or 0) * 1000),
        "verification_url": device.get("verification_url_complete"),
        "phrase": device.get("user_code"),
    }
    if replaces_existing_session:
        pending["replaces_existing_session"] = True
    ctx.tokens.set_pending_device_auth(pending)
    interval = p["interval"]
    yield _device_chunk(ctx, device, interval if ctx.agent else HUMAN_POLL_INTERVAL, warning)
    if interval > 0 or ctx.human:
        yield from _poll_status(ctx, p, wait_for_person=ctx.human)


def _details_with_sources(p: dict[str, Any], details: list[Any]) -> list[Any]:
    actions = list(dict.fromkeys(p["sourceActions"]))
    return ([{"type": "source", "actions": actions}] if actions else []) + details


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------


def login(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Log in with the device flow, or report that a working session exists (contract §3.1)."""
    client_name, scope, details = _requested_access(p)
    tokens = ctx.tokens
    stored = tokens.get_auth()
    refresh_token = (stored or {}).get("refresh_token")
    if refresh_token:
        from link_cli.sdk import LinkTransportError

        try:
            refreshed = ctx.auth.refresh(refresh_token)
        except LinkTransportError:
            raise  # contract §14.13 fix: an unreachable server says nothing about the session
        except Exception:  # the session is unusable: start over
            refreshed = None
        if refreshed is not None:
            _store_tokens(ctx, dict(refreshed), stored)
            yield {"authenticated": True, "message": ALREADY_LOGGED_IN}
            return
        _revoke_quietly(ctx, refresh_token)
    tokens.clear()
    yield from _start_device_flow(ctx, p, client_name, scope, _details_with_sources(p, details))


def status(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Report (and with --interval, wait for) authentication (contract §3.3); purely local."""
    env_token = ctx.env_access_token()
    if env_token:
        yield {
            "authenticated": True,
            "access_token": token_preview(env_token),
            "token_type": "Bearer",
        }
        return
    yield from _poll_status(ctx, p)


def logout(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Revoke the refresh token (best effort) and delete the credentials file (contract §3.4)."""
    tokens = ctx.tokens
    stored = tokens.get_auth()
    _revoke_quietly(ctx, (stored or {}).get("refresh_token"))
    tokens.delete()
    return {"authenticated": False}


def merge_scopes(requested: str | None, existing: str | None) -> str:
    """Requested tokens first, then existing ones not already present (contract §6.4)."""

    def tokens(scope: str | None) -> list[str]:
        parts = [t for t in (scope or "").replace(",", " ").split() if t]
        return parts or DEFAULT_SCOPE.split()

    merged = list(dict.fromkeys(tokens(requested) + tokens(existing)))
    return " ".join(merged)


def merge_details(requested: list[Any], existing: list[Any]) -> list[Any]:
    """Union action-based details by type; keep other details once each (contract §6.4)."""
    import json

    merged: list[Any] = []
    by_type: dict[str, dict[str, Any]] = {}
    seen_opaque: set[str] = set()
    for detail in [*requested, *existing]:
        actions = detail.get("actions") if isinstance(detail, dict) else None
        if (
            isinstance(detail, dict)
            and isinstance(detail.get("type"), str)
            and isinstance(actions, list)
            and all(isinstance(a, str) for a in actions)
        ):
            entry = by_type.get(detail["type"])
            if entry is None:
                entry = {"type": detail["type"], "actions": []}
                by_type[detail["type"]] = entry
                merged.append(entry)
            entry["actions"] += [a for a in actions if a not in entry["actions"]]
            continue
        key = json.dumps(detail, sort_keys=False)
        if key not in seen_opaque:
            seen_opaque.add(key)
            merged.append(detail)
    return merged


def upgrade(p: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    """Ask for a superset of the current access without dropping the session (contract §3.2)."""
    client_name, scope, details = _requested_access(p)
    requested_details = _details_with_sources(p, details)
    tokens = ctx.tokens
    stored = tokens.get_auth()
    refresh_token = (stored or {}).get("refresh_token")
    warning = None
    replaces = False
    if refresh_token:
        try:
            refreshed = dict(ctx.auth.refresh(refresh_token))
        except Exception:
            refreshed = None
        if refreshed is not None:
            _store_tokens(ctx, refreshed, stored)
            granted = tokens.get_auth() or {}
            scope = merge_scopes(scope, granted.get("scope"))
            requested_details = merge_details(
                requested_details, list(granted.get("authorization_details") or [])
            )
            replaces = True
        else:
            tokens.clear()
            warning = (
                "could not refresh the existing session; continuing with only the requested access."
            )
    else:
        warning = "no active session to upgrade; continuing with only the requested access."
    if warning:
        sys.stderr.write(f"warning: {warning}\n")
        sys.stderr.flush()
    yield from _start_device_flow(
        ctx,
        p,
        client_name,
        scope,
        requested_details,
        replaces_existing_session=replaces,
        warning=warning,
    )
