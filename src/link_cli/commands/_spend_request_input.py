"""What ``spend-request create``/``update`` check and send before any network call (contract §3.5)."""

from __future__ import annotations

from link_cli.commands import _kv
from link_cli.commands._spec import UNDEFINED
from link_cli.errors import InvalidInput, Unknown, make_cta

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def given(value: Any) -> bool:
    return value is not UNDEFINED and value is not None


def check_create_rules(p: dict[str, Any]) -> None:
    """The INVALID_INPUT checks of contract §3.5, in the official order."""
    lpt = given(p["executionMethod"]) or given(p["merchantAccountId"])
    spt = p["credentialType"] == "shared_payment_token"
    if lpt:
        account = p["merchantAccountId"].strip() if given(p["merchantAccountId"]) else ""
        if p["executionMethod"] != "link_pay_token":
            raise InvalidInput(
                "execution-method link_pay_token is required when merchant-account-id is provided"
            )
        if not account:
            raise InvalidInput(
                "merchant-account-id is required when execution-method is link_pay_token"
            )
        if p["credentialType"] != "card":
            raise InvalidInput(
                "credential-type must be card when execution-method is link_pay_token"
            )
        if given(p["networkId"]):
            raise InvalidInput("network-id cannot be used when execution-method is link_pay_token")
        if p["test"]:
            raise InvalidInput("test cannot be used when execution-method is link_pay_token")
        if p["approve"]:
            raise InvalidInput(
                "approve cannot be used when execution-method is link_pay_token; "
                "use request-approval instead"
            )
        if p["merchantName"] or p["merchantUrl"]:
            raise InvalidInput(
                "merchant-name and merchant-url cannot be used when execution-method is "
                "link_pay_token; Link resolves the merchant identity from merchant-account-id"
            )
    if spt and not p["networkId"]:
        raise InvalidInput(
            "network-id is required when credential-type is shared_payment_token",
            cta=make_cta(
                ('mpp decode --challenge "<WWW-Authenticate value>"', "Find the network id")
            ),
        )
    if not spt and given(p["networkId"]):
        raise InvalidInput(
            "network-id can only be used when credential-type is shared_payment_token"
        )
    if not spt and not lpt:
        if not p["merchantName"]:
            raise InvalidInput("merchant-name is required when credential-type is card")
        if not p["merchantUrl"]:
            raise InvalidInput("merchant-url is required when credential-type is card")


def parse_items(values: list[Any], parse: Any) -> list[Any]:
    """Strings are parsed (contract §11.2); MCP objects pass through unvalidated."""
    try:
        return [v if isinstance(v, dict) else parse(v) for v in values]
    except ValueError as exc:
        raise Unknown(str(exc)) from exc


def parse_approval_detail(value: Any) -> Any:
    """``JSON.parse`` of the CLI string, failing with its very message (contract §3.5)."""
    from link_cli.commands import _js_json

    if not given(value) or isinstance(value, dict):
        return value
    try:
        return _js_json.parse(value)
    except _js_json.JsonSyntaxError as exc:
        raise Unknown(str(exc)) from exc


def create_body(p: dict[str, Any]) -> dict[str, Any]:
    line_items = parse_items(p["lineItem"], _kv.parse_line_item)
    totals = parse_items(p["total"], _kv.parse_total)
    approval_details = parse_approval_detail(p["approvalDetail"])
    try:
        metadata = _kv.parse_metadata(p["metadata"])
    except ValueError as exc:
        raise Unknown(str(exc)) from exc
    account = p["merchantAccountId"]
    fields: list[tuple[str, Any]] = [
        ("payment_details", p["paymentMethodId"]),
        ("credential_type", p["credentialType"]),
        ("network_id", p["networkId"]),
        ("execution_method", p["executionMethod"]),
        ("merchant_account_id", account.strip() if given(account) else UNDEFINED),
        ("amount", p["amount"]),
        ("currency", p["currency"]),
        ("merchant_name", p["merchantName"]),
        ("merchant_url", p["merchantUrl"]),
        ("context", p["context"]),
        ("line_items", line_items or UNDEFINED),
        ("totals", totals or UNDEFINED),
        ("request_approval", True if p["requestApproval"] else UNDEFINED),
        ("test", True if p["test"] else UNDEFINED),
        ("approval_details", approval_details),
        ("metadata", metadata if p["metadata"] else UNDEFINED),
        ("expires_at", p["expiresAt"]),
    ]
    return {key: value for key, value in fields if given(value)}
