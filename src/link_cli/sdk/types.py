"""Typed shapes of the Link API's JSON (contract §6, §7.2–7.9).

These are ``TypedDict`` declarations: at run time every value is a plain ``dict``, so they
cost nothing beyond this module's import. Amounts are integers in the currency's minor unit
(cents for USD); ``expires_at`` on a spend request is unix seconds, while the token store's
``expires_at`` values are epoch milliseconds.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

SpendRequestStatus = Literal[
    "created",
    "pending_approval",
    "approved",
    "denied",
    "expired",
    "canceled",
    "succeeded",
    "failed",
    "requires_action",
]
CredentialType = Literal["card", "shared_payment_token"]


class TokenResponse(TypedDict, total=False):
    """What ``/device/token`` returns (device-code or refresh grant)."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    scope: str
    authorization_details: list[Any]


class StoredAuth(TokenResponse, total=False):
    """Tokens as stored: plus ``expires_at`` in epoch milliseconds."""

    expires_at: int


class DeviceAuthorization(TypedDict):
    """What ``/device/code`` returns, with ``verification_uri*`` renamed to ``*_url``."""

    device_code: str
    user_code: str
    verification_url: str
    verification_url_complete: str
    expires_in: int
    interval: int


class PendingDeviceAuth(TypedDict, total=False):
    """A device login waiting for the person (``expires_at`` in epoch milliseconds)."""

    device_code: str
    interval: int
    expires_at: int
    verification_url: str
    phrase: str
    replaces_existing_session: bool


class CredentialsDocument(TypedDict):
    """The credentials file (contract §6.5): both keys always present, ``null`` when empty.

    Values come from disk unchecked; readers test them with ``isinstance`` before use.
    """

    auth: StoredAuth | None
    pendingDeviceAuth: PendingDeviceAuth | None


class ScopeEligibility(TypedDict, total=False):
    """Per-scope verdict carried by ``authorization_failed``."""

    eligible: bool
    ineligibility_reasons: list[str]
    description: str


class BillingAddress(TypedDict, total=False):
    name: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


class Card(TypedDict, total=False):
    """A one-time virtual card (only with ``include=card``, once approved)."""

    id: str
    brand: str
    exp_month: int
    exp_year: int
    number: str
    cvc: str
    billing_address: BillingAddress
    valid_until: str


class SharedPaymentToken(TypedDict, total=False):
    """An SPT; a legacy string value is normalised to ``{"id": value}``."""

    id: str
    billing_address: BillingAddress
    valid_until: str


class Total(TypedDict):
    type: str
    display_text: str
    amount: int


class LineItem(TypedDict, total=False):
    name: str
    url: str
    image_url: str
    description: str
    sku: str
    totals: list[Total]
    quantity: int
    unit_amount: int
    product_url: str


class NextAction(TypedDict, total=False):
    type: str
    resolution: str
    display_message: str
    action_url: str | None
    expires_at: int | None


class RequiresAction(TypedDict, total=False):
    failure_code: str
    next_action: NextAction


class StatusDetails(TypedDict, total=False):
    requires_action: RequiresAction


class PaymentStatusDetails(TypedDict, total=False):
    outcome: Literal["success", "failure"]
    code: str
    decline_code: str
    amount: int
    currency: str
    created: int
    refund_details: dict[str, Any]


class SpendRequest(TypedDict, total=False):
    """A spend request (contract §7.2)."""

    id: str
    status: SpendRequestStatus
    merchant_name: str
    merchant_url: str
    context: str
    amount: int
    currency: str
    line_items: list[LineItem]
    totals: list[Total]
    payment_details: str
    payment_method: str
    credential_type: CredentialType
    network_id: str
    card_brand: str
    card_last4: str
    approval_url: str
    approval_link: str
    card: Card
    shared_payment_token: SharedPaymentToken
    link_pay_token: str
    payment_status_details: PaymentStatusDetails | None
    status_details: StatusDetails | None
    link_transaction_id: str
    activity_url: str
    metadata: dict[str, str]
    expires_at: int
    created_at: str
    updated_at: str


class CardDetails(TypedDict, total=False):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Capability(TypedDict):
    eligible: bool
    ineligibility_reasons: list[str]


class PaymentMethod(TypedDict, total=False):
    """A payment method of the person (contract §7.5); ``capabilities.agentic_payments`` matters."""

    id: str
    type: str
    is_default: bool
    nickname: str
    card_details: CardDetails
    bank_account_details: dict[str, Any]
    capabilities: dict[str, Capability]


class ShippingAddress(TypedDict, total=False):
    name: str | None
    line_1: str | None
    line_2: str | None
    locality: str | None
    dependent_locality: str | None
    administrative_area: str | None
    postal_code: str | None
    sorting_code: str | None
    country_code: str | None


class ShippingAddressRecord(TypedDict, total=False):
    id: str
    is_default: bool
    nickname: str | None
    address: ShippingAddress | None


class UserInfo(TypedDict, total=False):
    email: str | None
    name: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None


class Page(TypedDict, total=False):
    """A financial-insights page: ``data`` plus ``has_more`` and any extra fields."""

    data: list[dict[str, Any]]
    has_more: bool


class ReportRecord(TypedDict, total=False):
    object: str
    created_at: str
    domain: str
    outcome: Literal["success", "blocked", "abandoned"]
    spend_request_id: str
    status: str
