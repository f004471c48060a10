"""Shipping addresses (contract §7.1 row 9)."""

from __future__ import annotations

from link_cli._sanitize import sanitize_deep
from link_cli.sdk._errors import ErrorFamily
from link_cli.sdk._http import HttpClient
from link_cli.sdk.resources._shapes import expect_list

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from link_cli.sdk.types import ShippingAddressRecord


class ShippingAddresses:
    """The person's saved shipping addresses (``null`` fields are preserved)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(self) -> list[ShippingAddressRecord]:
        """``GET /shipping_addresses`` → the ``shipping_addresses`` array (sanitised)."""
        operation = "list shipping addresses"
        body = self._http.call(
            "GET", "/shipping_addresses", family=ErrorFamily.ACCOUNT, operation=operation
        )
        addresses: list[ShippingAddressRecord] = sanitize_deep(
            expect_list(body, "shipping_addresses", operation)
        )
        return addresses
