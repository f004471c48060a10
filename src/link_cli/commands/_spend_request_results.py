"""What a spend-request command adds to the wallet's answer: requires_action and approval
hints, the private card file, and the contract's mapping of API errors (contract §2.4, §3.5, §10.2)."""

from __future__ import annotations

from link_cli.commands._spec import UNDEFINED
from link_cli.commands._spend_request_input import given
from link_cli.errors import (
    ApiErrorWithUrl,
    DuplicateSpendRequest,
    OutputFileExists,
    OutputFileWriteError,
    make_cta,
)

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def retrieve_hint(spend_request_id: str) -> str:
    return f"spend-request retrieve {spend_request_id} --interval 2 --max-attempts 300"


def next_action(spend_request: dict[str, Any]) -> dict[str, Any]:
    details = spend_request.get("status_details") or {}
    return (details.get("requires_action") or {}).get("next_action") or {}


def is_auto_resume(spend_request: dict[str, Any]) -> bool:
    return next_action(spend_request).get("resolution") == "auto_resume"


def with_requires_action(spend_request: dict[str, Any]) -> dict[str, Any]:
    """Add ``instruction`` and ``_next`` for a ``requires_action`` request (contract §2.4, §4.4)."""
    action = next_action(spend_request)
    kind, message = action.get("type", "unknown"), action.get("display_message", "")
    url = action.get("action_url")
    spend_request_id = spend_request.get("id", "")
    if is_auto_resume(spend_request):
        instruction = (
            f"The spend request requires action ({kind}): {message} Present the action_url "
            f"{url} to the user. It resumes by itself once they finish: poll with "
            f"`{retrieve_hint(spend_request_id)}` and do not create a new spend request."
        )
        follow_up: Any = {
            "command": retrieve_hint(spend_request_id),
            "until": "status changes from requires_action",
        }
    else:
        instruction = f"The spend request requires action ({kind}): {message}"
        if url:
            instruction += f" URL: {url}"
        instruction += " Have the user complete this, then create a new spend request."
        follow_up = UNDEFINED  # printed as `_next: null` in toon, dropped in JSON (contract §2.4)
    return {**spend_request, "instruction": instruction, "_next": follow_up}


def with_approval_hint(value: dict[str, Any], spend_request_id: str) -> dict[str, Any]:
    instruction = (
        "Present the approval_url to the user so they can approve the spend request in "
        "their Link wallet, then immediately run the _next.command to wait for their "
        "decision. Do not create another spend request for this purchase."
    )
    follow_up = {
        "command": retrieve_hint(spend_request_id),
        "until": "status changes from pending_approval",
    }
    return {**value, "instruction": instruction, "_next": follow_up}


def write_card_file(spend_request: dict[str, Any], path: Any, force: bool) -> dict[str, Any]:
    """contract §10.2: move the card into a new 0600 file; the result names the file instead."""
    import json

    if not given(path) or not isinstance(spend_request.get("card"), dict):
        return spend_request
    from link_cli._secret_files import (
        SecretFileError,
        SecretFileExistsError,
        write_secret_file,
    )

    data = {
        "spend_request_id": spend_request.get("id"),
        "merchant_name": spend_request.get("merchant_name"),
        "merchant_url": spend_request.get("merchant_url"),
        "context": spend_request.get("context"),
        "created_at": spend_request.get("created_at"),
        "card": spend_request["card"],
    }
    try:
        written = write_secret_file(
            str(path), json.dumps(data, indent=2, ensure_ascii=False), force=force
        )
    except SecretFileExistsError as exc:
        raise OutputFileExists(exc.message) from exc
    except SecretFileError as exc:
        raise OutputFileWriteError(exc.message) from exc
    card = spend_request["card"]
    result = {k: v for k, v in spend_request.items() if k != "card"}
    # contract §14.9 fix: the documented redacted fields (brand, last4, expiry) stay on stdout.
    number = str(card.get("number") or "")
    result.setdefault("card_brand", card.get("brand"))
    result.setdefault("card_last4", number[-4:] if number else None)
    result["card_exp_month"] = card.get("exp_month")
    result["card_exp_year"] = card.get("exp_year")
    result["card_output_file"] = written
    return result


def map_api_error(exc: Exception, *, duplicates: bool) -> Exception:
    """Verification / support URL and duplicate errors of contract §3.5; others stay as they are."""
    from link_cli.sdk import LinkApiError, get_duplicate_spend_request

    if not isinstance(exc, LinkApiError):
        return exc
    body = exc.body_error
    if body.get("verification_url"):
        return ApiErrorWithUrl(f"{exc.message} Verification URL: {body['verification_url']}")
    if body.get("support_url"):
        return ApiErrorWithUrl(f"{exc.message} Support URL: {body['support_url']}")
    duplicate = get_duplicate_spend_request(exc) if duplicates else None
    if isinstance(duplicate, dict):
        dup_id, dup_status = duplicate.get("id"), duplicate.get("status")
        return DuplicateSpendRequest(
            f"{exc.message} A matching spend request already exists: {dup_id} "
            f"(status: {dup_status}). Retrieve it to resume instead of creating a new one.",
            code=body.get("code") or "spend_request_rate_limited",
            cta=make_cta((f"spend-request retrieve {dup_id}", "Retrieve the existing request")),
        )
    return exc
