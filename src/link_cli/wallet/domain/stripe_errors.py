"""Errors in Stripe's wire shape, answered by the wallet's Stripe-compatible ``/v1`` routes.

A :class:`StripeError` is a :class:`~.errors.WalletError` with its own body, so the one error
edge (``api/errors.py``) renders it like every other error.
"""

from __future__ import annotations

import secrets
from typing import Any

from .errors import WalletError

__all__ = ["StripeError", "card_error", "invalid_request"]


class StripeError(WalletError):
    """An error in Stripe's wire shape: ``{"error": {type, code, message, ...}}``.

    ``status`` is the HTTP status (400 invalid request, 401 bad key, 402 card error,
    404 unknown object). ``payment_intent`` is attached once a PaymentIntent exists.
    ``code`` is ``""`` when Stripe would send none. Always answered as JSON, never as a page.
    """

    default_code = ""
    shown_as_page = False

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        param: str | None = None,
    ) -> None:
        headers = {"Request-Id": "req_" + secrets.token_hex(8), "Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="link-wallet"'
        super().__init__(message, code=code, status=status, headers=headers)
        self.type = type
        self.decline_code = decline_code
        self.param = param
        self.payment_intent: dict[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body Stripe answers with; absent members are omitted."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if self.param is not None:
            error["param"] = self.param
        if self.payment_intent is not None:
            error["payment_intent"] = self.payment_intent
        return {"error": error}


def invalid_request(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> StripeError:
    """A Stripe ``invalid_request_error`` (bad or missing parameter, unknown object)."""
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


def card_error(
    message: str, *, code: str, decline_code: str | None = None, param: str | None = None
) -> StripeError:
    """A Stripe ``card_error`` (HTTP 402): the payment was declined."""
    return StripeError(
        402, "card_error", message, code=code, decline_code=decline_code, param=param
    )
