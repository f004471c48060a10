"""The wallet's OpenAPI document (``GET /openapi.json``): the wire as clients see it.

FastAPI derives paths and path/query parameters from the routes, but most routes read their
bodies by hand (RFC 6749 forms, Stripe's bracketed forms, JSON checked by the domain), take
credentials from headers and answer errors through the one error edge. This module adds what
the routes cannot say for themselves, in one table (:data:`OPERATIONS`) next to the shared
schemas: request bodies and their media types, who may call (security schemes), every status
a route answers with its body, the ``Idempotency-Key`` header. FastAPI's generic 422
``HTTPValidationError`` is dropped: validation problems answer 400 (or 422 for a
well-formed but unacceptable value) in the contract's error body.

Pages (sign-in, device setup, approvals, cards, static files) and the test clock are not in
the document. Every API route must have an entry in :data:`OPERATIONS` (``build`` raises).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from link_cli.agent_reports import OUTCOMES, TAGS, TEXT_LIMIT

from ..domain import oauth as oauth_rules
from ..domain.spend_request import Status
from ..domain.validation import TOTAL_TYPES
from .openapi_stripe import STRIPE_OPERATIONS, STRIPE_SCHEMAS

__all__ = ["OPERATIONS", "build_openapi", "install_openapi"]

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_INTEGER = {"type": "integer"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


# -- schemas -------------------------------------------------------------------------------

_TOTAL = _object(
    {
        "type": {"type": "string", "enum": list(TOTAL_TYPES)},
        "display_text": {"type": "string", "minLength": 1, "maxLength": 500},
        "amount": _INTEGER,
    },
    ["type", "display_text", "amount"],
)
_LINE_ITEM = _object(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 500},
        "description": {"type": "string", "maxLength": 5000},
        "sku": {"type": "string", "maxLength": 500},
        "url": {"type": "string", "format": "uri"},
        "image_url": {"type": "string", "format": "uri"},
        "product_url": {"type": "string", "format": "uri"},
        "quantity": {"type": "integer", "minimum": 0},
        "unit_amount": {"type": "integer", "minimum": 0},
    },
    ["name"],
)
_APPROVAL_DETAILS = _object(
    {
        "approved_at": {"type": "integer", "minimum": 1},
        "approval_method": {"type": "string", "enum": ["click", "programmatic", "voice"]},
        "app_name": {"type": "string", "minLength": 1, "maxLength": 500},
        "external_user_id": {"type": "string", "minLength": 1, "maxLength": 500},
        "device_type": {"type": "string", "enum": ["mobile", "web"]},
    },
    ["approved_at", "approval_method", "app_name", "external_user_id"],
)
_IDENTIFIER = {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,255}$"}

SCHEMAS: dict[str, Any] = {
    "AgentReportCreate": _object(
        {
            "domain": {"type": "string", "minLength": 1, "maxLength": 253},
            "outcome": {"type": "string", "enum": list(OUTCOMES)},
            "spend_request_id": _IDENTIFIER,
            "tags": {"type": "array", "items": {"type": "string", "enum": list(TAGS)}},
            "step": {"type": "string", "maxLength": TEXT_LIMIT},
            "freeform_context": {"type": "string", "maxLength": TEXT_LIMIT},
        },
        ["domain", "outcome", "spend_request_id"],
    ),
    "AgentReport": _object(
        {
            "object": {"type": "string", "enum": ["agent_observation"]},
            "created_at": _STRING,
            "domain": _STRING,
            "outcome": {"type": "string", "enum": list(OUTCOMES)},
            "spend_request_id": _STRING,
            "status": _STRING,
        },
        ["object", "created_at", "domain", "outcome", "spend_request_id", "status"],
    ),
    "Error": {
        "description": "The contract's error body (docs/errors.md lists every code).",
        **_object(
            {
                "error": _object(
                    {"code": _STRING, "message": _STRING, "param": _STRING}, ["code", "message"]
                )
            },
            ["error"],
        ),
    },
    "OAuthError": {
        "description": "RFC 6749 §5.2 error body.",
        **_object({"error": _STRING, "error_description": _STRING}, ["error"]),
    },
    "StripeError": {
        "description": "Stripe's error body.",
        **_object(
            {
                "error": _object(
                    {
                        "type": {
                            "type": "string",
                            "enum": ["invalid_request_error", "card_error", "idempotency_error"],
                        },
                        "message": _STRING,
                        "code": _STRING,
                        "decline_code": _STRING,
                        "param": _STRING,
                        "payment_intent": {"type": "object"},
                    },
                    ["type", "message"],
                )
            },
            ["error"],
        ),
    },
    "SpendRequest": _object(
        {
            "id": _STRING,
            "status": {"type": "string", "enum": [str(s) for s in Status]},
            "merchant_name": _NULLABLE_STRING,
            "merchant_url": _NULLABLE_STRING,
            "context": _STRING,
            "amount": _INTEGER,
            "currency": _STRING,
            "line_items": {"type": "array"},
            "totals": {"type": "array"},
            "payment_details": _NULLABLE_STRING,
            "credential_type": {"type": "string", "enum": ["card", "shared_payment_token"]},
            "network_id": _NULLABLE_STRING,
            "approval_url": _NULLABLE_STRING,
            "metadata": {"type": "object", "additionalProperties": _STRING},
            "test": {"type": "boolean"},
            "expires_at": _INTEGER,
            "created_at": _STRING,
            "updated_at": _STRING,
            "card_brand": _NULLABLE_STRING,
            "card_last4": _NULLABLE_STRING,
            "card": {"type": "object"},
            "shared_payment_token": {"type": "object"},
            "link_pay_token": {"type": "string", "description": "with include=link_pay_token"},
            "approval_details": {
                "type": "object",
                "description": "only on a request a spending policy approved "
                "(approved_by: policy, policy_id, policy_name; docs/policies.md)",
            },
        },
        ["id", "status", "amount", "currency", "credential_type", "created_at", "expires_at"],
    ),
    "SpendRequestCreate": {
        "description": "contract §7.3; card requests need merchant_name and merchant_url, "
        "shared_payment_token requests need network_id instead, Link Pay Token requests "
        "execution_method and merchant_account_id (a live merchant registered here) instead.",
        **_object(
            {
                "credential_type": {"type": "string", "enum": ["card", "shared_payment_token"]},
                "amount": {"type": "integer", "minimum": 1},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                "context": {"type": "string", "minLength": 100, "maxLength": 5000},
                "merchant_name": {"type": "string", "minLength": 1, "maxLength": 500},
                "merchant_url": {"type": "string", "format": "uri"},
                "network_id": _IDENTIFIER,
                "execution_method": {"type": "string", "enum": ["link_pay_token"]},
                "merchant_account_id": _IDENTIFIER,
                "payment_details": _IDENTIFIER,
                "line_items": {"type": "array", "items": _LINE_ITEM, "maxItems": 100},
                "totals": {"type": "array", "items": _TOTAL, "maxItems": 50},
                "metadata": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 500},
                    "maxProperties": 50,
                },
                "request_approval": {"type": "boolean"},
                "test": {"type": "boolean"},
                "approval_details": _APPROVAL_DETAILS,
            },
            ["amount", "context"],
        ),
    },
    "SpendRequestUpdate": _object(
        {
            "amount": {"type": "integer", "minimum": 1},
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "merchant_url": {"type": "string", "format": "uri"},
            "profile_id": _IDENTIFIER,
            "payment_details": _IDENTIFIER,
            "line_items": {"type": "array", "items": _LINE_ITEM, "maxItems": 100},
            "totals": {"type": "array", "items": _TOTAL, "maxItems": 50},
        }
    ),
    "DeviceCode": _object(
        {
            "device_code": _STRING,
            "user_code": _STRING,
            "verification_uri": _STRING,
            "verification_uri_complete": _STRING,
            "expires_in": _INTEGER,
            "interval": _INTEGER,
        },
        ["device_code", "user_code", "verification_uri", "expires_in", "interval"],
    ),
    "TokenPair": _object(
        {
            "access_token": _STRING,
            "refresh_token": _STRING,
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": _INTEGER,
            "scope": _STRING,
            "authorization_details": {"type": "array"},
        },
        ["access_token", "refresh_token", "token_type", "expires_in"],
    ),
    "PaymentIntent": _object(
        {
            "id": _STRING,
            "object": {"type": "string", "enum": ["payment_intent"]},
            "amount": _INTEGER,
            "currency": _STRING,
            "status": _STRING,
            "metadata": {"type": "object"},
        },
        ["id", "object", "amount", "currency", "status"],
    ),
    "GrantedToken": _object(
        {
            "id": _STRING,
            "object": {"type": "string", "enum": ["shared_payment.granted_token"]},
            "created": _INTEGER,
        },
        ["id", "object"],
    ),
}

# -- security ------------------------------------------------------------------------------

SECURITY_SCHEMES: dict[str, Any] = {
    "agentToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token (lwat_…) from the device flow (/device/token).",
    },
    "merchantKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A merchant's secret key (sk_test_…) from `link-wallet merchant create`.",
    },
    "merchantKeyBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The same secret key as the HTTP Basic user name, as Stripe's SDKs send it.",
    },
}
_AGENT = [{"agentToken": []}]
_MERCHANT = [{"merchantKey": []}, {"merchantKeyBasic": []}]

# -- responses -----------------------------------------------------------------------------

_DESCRIPTIONS = {
    "200": "OK",
    "400": "Malformed request",
    "401": "Missing or invalid credentials",
    "402": "Card declined",
    "403": "Missing scope",
    "404": "Unknown id, or another grant's, person's or merchant's",
    "409": "The object's state does not allow this (or it changed meanwhile)",
    "413": "Body too large",
    "422": "Well-formed but unacceptable value",
    "429": "Rate limited",
    "503": "Database busy; nothing changed, retry (Retry-After)",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(ok: dict[str, Any], errors: str, statuses: tuple[int, ...]) -> dict[str, Any]:
    answers: dict[str, Any] = {"200": {"description": "OK", "content": _json(ok)}}
    for status in statuses:
        answers[str(status)] = {
            "description": _DESCRIPTIONS[str(status)],
            "content": _json(_ref(errors)),
        }
    return answers


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = _object(properties, required)
    # Other names are answered, not ignored silently: let fuzzers try them.
    schema["additionalProperties"] = _STRING
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _json_body(name: str, *, required: bool) -> dict[str, Any]:
    return {"required": required, "content": _json(_ref(name))}


_CLIENT_ID = {"type": "string", "example": oauth_rules.PUBLIC_CLIENT_ID}
_SCOPES = " ".join(sorted(oauth_rules.KNOWN_SCOPES))

_AGENT_READ = (400, 401, 403, 503)


def _query(name: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, **extra}


def _page_parameters(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Cursor pagination of the financial-insights lists (contract §3.17), then ``extra``."""
    return [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
        _query("starting_after", _STRING),
        _query("ending_before", _STRING),
        *extra,
    ]


_SOURCES_PARAMETER = _query(
    "sources[]", {"type": "array", "items": _STRING}, style="form", explode=True
)
_PAGE = _object(
    {
        "object": {"type": "string", "enum": ["list"]},
        "url": _STRING,
        "data": {"type": "array", "items": {"type": "object"}},
        "has_more": {"type": "boolean"},
    },
    ["data", "has_more"],
)
_AGENT_WRITE = (400, 401, 403, 404, 409, 413, 422, 429, 503)
_OAUTH = (400, 413, 503)
_STRIPE_READ = (400, 401, 404, 503)

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/healthz"): {"responses": {"200": {"description": "OK"}}},
    # Stripe Issuing's webhooks (real-time authorization and events); signed, not Bearer.
    ("post", "/issuing/stripe/webhook"): {
        "parameters": [
            {
                "name": "Stripe-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {"required": True, "content": _json({"type": "object"})},
        "responses": _responses(
            _object({"approved": {"type": "boolean"}, "received": {"type": "boolean"}}, []),
            "Error",
            (400, 404, 413, 503),
        ),
    },
    ("post", "/device/code"): {
        "requestBody": _form(
            {
                "client_id": _CLIENT_ID,
                "scope": {"type": "string", "example": _SCOPES},
                "connection_label": _STRING,
                "client_hint": _STRING,
            },
            ["client_id"],
        ),
        "responses": _responses(_ref("DeviceCode"), "OAuthError", (*_OAUTH, 429)),
    },
    ("post", "/device/token"): {
        "requestBody": _form(
            {
                "client_id": _CLIENT_ID,
                "grant_type": {
                    "type": "string",
                    "enum": [oauth_rules.DEVICE_CODE_GRANT, oauth_rules.REFRESH_GRANT],
                },
                "device_code": _STRING,
                "refresh_token": _STRING,
            },
            ["client_id", "grant_type"],
        ),
        "responses": _responses(_ref("TokenPair"), "OAuthError", (*_OAUTH, 429)),
    },
    ("post", "/device/revoke"): {
        "requestBody": _form({"client_id": _CLIENT_ID, "token": _STRING}, ["client_id", "token"]),
        "responses": _responses({"type": "object"}, "OAuthError", _OAUTH),
    },
    ("get", "/payment-details"): {
        "security": _AGENT,
        "responses": _responses(
            _object({"payment_details": {"type": "array"}}, ["payment_details"]),
            "Error",
            _AGENT_READ,
        ),
    },
    ("get", "/shipping_addresses"): {
        "security": _AGENT,
        "responses": _responses(
            _object({"shipping_addresses": {"type": "array"}}, ["shipping_addresses"]),
            "Error",
            _AGENT_READ,
        ),
    },
    ("get", "/userinfo"): {
        "security": _AGENT,
        "responses": _responses(
            _object({"email": _NULLABLE_STRING, "name": _NULLABLE_STRING}), "Error", _AGENT_READ
        ),
    },
    ("get", "/spend_requests"): {
        "security": _AGENT,
        "responses": _responses(
            _object({"data": {"type": "array", "items": _ref("SpendRequest")}}, ["data"]),
            "Error",
            _AGENT_READ,
        ),
    },
    ("post", "/spend_requests"): {
        "security": _AGENT,
        "requestBody": _json_body("SpendRequestCreate", required=True),
        "responses": _responses(_ref("SpendRequest"), "Error", _AGENT_WRITE),
    },
    ("post", "/spend_requests/create_delegated"): {
        "security": _AGENT,
        "requestBody": _json_body("SpendRequestCreate", required=True),
        "responses": _responses(_ref("SpendRequest"), "Error", _AGENT_WRITE),
    },
    ("get", "/spend_requests/{request_id}"): {
        "security": _AGENT,
        # 429: a `Prefer: wait` past the long-poll bounds (docs/long-poll.md).
        "responses": _responses(_ref("SpendRequest"), "Error", (*_AGENT_READ, 404, 429)),
    },
    ("post", "/spend_requests/{request_id}"): {
        "security": _AGENT,
        "requestBody": _json_body("SpendRequestUpdate", required=True),
        "responses": _responses(_ref("SpendRequest"), "Error", _AGENT_WRITE),
    },
    ("post", "/spend_requests/{request_id}/request_approval"): {
        "security": _AGENT,
        "responses": _responses(_ref("SpendRequest"), "Error", _AGENT_WRITE),
    },
    ("post", "/spend_requests/{request_id}/cancel"): {
        "security": _AGENT,
        "responses": _responses(_ref("SpendRequest"), "Error", _AGENT_WRITE),
    },
    ("get", "/transactions"): {
        "security": _AGENT,
        "parameters": _page_parameters(
            _query("date_start", {"type": "string", "format": "date"}),
            _query("date_end", {"type": "string", "format": "date"}),
            _query("category", {"type": "string", "maxLength": 100}),
            _query("origin", {"type": "string", "enum": ["link", "external_connection"]}),
            _SOURCES_PARAMETER,
        ),
        "responses": _responses(_PAGE, "Error", (400, 401, 403, 503)),
    },
    ("get", "/sources"): {
        "security": _AGENT,
        "parameters": _page_parameters(),
        "responses": _responses(_PAGE, "Error", (400, 401, 403, 503)),
    },
    ("get", "/balances"): {
        "security": _AGENT,
        "parameters": _page_parameters(_SOURCES_PARAMETER),
        "responses": _responses(_PAGE, "Error", (400, 401, 403, 503)),
    },
    ("post", "/agent_observations"): {
        "security": _AGENT,
        "requestBody": _json_body("AgentReportCreate", required=True),
        "responses": _responses(_ref("AgentReport"), "Error", _AGENT_WRITE),
    },
    ("post", "/v1/payment_intents"): {
        "security": _MERCHANT,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        ],
        "requestBody": _form(
            {
                "amount": {"type": "integer", "minimum": 1},
                "currency": {"type": "string", "example": "usd"},
                "confirm": {"type": "string", "enum": ["true", "false"]},
                "shared_payment_granted_token": _STRING,
                "payment_method_types[0]": {"type": "string", "example": "card"},
                "payment_method_data[type]": {"type": "string", "enum": ["card", "link_pay_token"]},
                "payment_method_data[link_pay_token]": _STRING,
                "payment_method_data[card][number]": _STRING,
                "payment_method_data[card][exp_month]": _STRING,
                "payment_method_data[card][exp_year]": _STRING,
                "payment_method_data[card][cvc]": _STRING,
                "metadata[order]": _STRING,
                "automatic_payment_methods[enabled]": {"type": "string", "enum": ["true"]},
            },
            ["amount", "currency", "confirm"],
        ),
        "responses": _responses(
            _ref("PaymentIntent"), "StripeError", (400, 401, 402, 409, 413, 429, 503)
        ),
    },
    ("get", "/v1/payment_intents/{intent_id}"): {
        "security": _MERCHANT,
        "responses": _responses(_ref("PaymentIntent"), "StripeError", _STRIPE_READ),
    },
    ("get", "/v1/shared_payment/granted_tokens/{token_id}"): {
        "security": _MERCHANT,
        "responses": _responses(_ref("GrantedToken"), "StripeError", _STRIPE_READ),
    },
}

OPERATIONS.update(STRIPE_OPERATIONS)  # replaces POST /v1/payment_intents: confirm is optional
SCHEMAS.update(STRIPE_SCHEMAS)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for ``app``, completed from :data:`OPERATIONS`."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            extra = OPERATIONS.get((method, path))
            if extra is None:
                raise LookupError(f"{method.upper()} {path} is not described in api/openapi.py")
            operation.pop("responses", None)
            parameters = [*operation.get("parameters", ()), *extra.get("parameters", ())]
            operation.update({k: v for k, v in extra.items() if k != "parameters"})
            if parameters:
                operation["parameters"] = parameters
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(SCHEMAS)
    components["securitySchemes"] = SECURITY_SCHEMES
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_openapi`'s document (built once) at ``/openapi.json``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
