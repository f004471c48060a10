"""Response-shape helpers shared by the resources (contract §7.2, §7.9).

Parsed JSON is ``Any``. Once its outer shape is checked here, a resource gives it the
documented ``TypedDict`` of :mod:`link_cli.sdk.types` by assigning it to a variable of
that type; only the outer shape is verified, the fields are the server's contract.
"""

from __future__ import annotations

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import LinkSdkError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.types import SpendRequest


def invalid_shape(operation: str, reason: str, status: int = 200) -> LinkSdkError:
    """``Failed to <operation> (<status>): invalid response shape: <reason>``."""
    return LinkSdkError(f"Failed to {operation} ({status}): invalid response shape: {reason}")


def expect_object(body: Any, operation: str) -> dict[str, Any]:
    """``body`` when it is a JSON object, else an invalid-shape error."""
    if not isinstance(body, dict):
        raise invalid_shape(operation, "Expected response body to be an object")
    return body


def expect_list(body: Any, key: str, operation: str) -> list[Any]:
    """``body[key]`` as a list (missing or ``null`` gives ``[]``), else an invalid-shape error."""
    value = expect_object(body, operation).get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_shape(operation, f"Expected {key} to be an array")
    return value


def normalize_spend_request(value: Any) -> SpendRequest:
    """Sanitise a spend request and turn a legacy string ``shared_payment_token`` into ``{id}``."""
    if isinstance(value, dict):
        token = value.get("shared_payment_token")
        if isinstance(token, str):
            value = {**value, "shared_payment_token": {"id": token}}
    spend_request: SpendRequest = sanitize_deep(value)
    return spend_request
