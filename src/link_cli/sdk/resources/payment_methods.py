"""Payment methods (contract §7.1 row 8; note the hyphen in ``/payment-details``)."""

from __future__ import annotations

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient
from link_cli.sdk.resources._shapes import expect_list

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from link_cli.sdk.types import PaymentMethod


class PaymentMethods:
    """The person's payment methods available to agents."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(self) -> list[PaymentMethod]:
        """``GET /payment-details`` → the ``payment_details`` array (sanitised)."""
        operation = "list payment methods"
        body = self._http.call(
            "GET", "/payment-details", family=ErrorFamily.ACCOUNT, operation=operation
        )
        methods: list[PaymentMethod] = sanitize_deep(
            expect_list(body, "payment_details", operation)
        )
        return methods
