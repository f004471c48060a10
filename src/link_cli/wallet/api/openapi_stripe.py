"""OpenAPI entries of the Stripe-compatible ``/v1/`` routes (list, confirm, cancel, payment
methods), in the shape of ``api/openapi.py``'s ``OPERATIONS`` table (keyed by
``(method, path)``) and its schemas.

``api/openapi.py`` merges :data:`STRIPE_OPERATIONS` into its table and
:data:`STRIPE_SCHEMAS` into its components; they refer to its ``PaymentIntent`` and
``StripeError`` schemas and its ``merchantKey`` security schemes by name.
"""

from __future__ import annotations

from typing import Any

from ..domain.payment_intent_params import CANCELLATION_REASONS
from ..domain.stripe_list import DEFAULT_LIMIT, MAX_LIMIT

__all__ = ["STRIPE_OPERATIONS", "STRIPE_SCHEMAS"]

_STRING = {"type": "string"}
_MERCHANT = [{"merchantKey": []}, {"merchantKeyBasic": []}]
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_DESCRIPTIONS = {
    "400": "Malformed request or unexpected state",
    "401": "Missing or unknown secret key",
    "402": "Card declined",
    "404": "Unknown object, or another merchant's",
    "409": "Idempotency-Key in use by a concurrent request",
    "413": "Request body too large",
    "429": "Too many declined card presentations from this key",
    "503": "Database busy; nothing changed, retry (Retry-After)",
}
_TIMESTAMP = {"type": "integer", "minimum": 0}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _responses(ok: dict[str, Any], statuses: tuple[int, ...]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": ok}}}
    }
    for status in statuses:
        answers[str(status)] = {
            "description": _DESCRIPTIONS[str(status)],
            "content": {"application/json": {"schema": _ref("StripeError")}},
        }
    return answers


def _form(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        # Other names are answered (parameter_unknown), not ignored: let fuzzers try them.
        "additionalProperties": _STRING,
    }
    if required:
        schema["required"] = required
    return {
        "required": bool(required),
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


_CARD_FIELDS = {
    "payment_method_data[type]": {"type": "string", "enum": ["card", "link_pay_token"]},
    "payment_method_data[link_pay_token]": {"type": "string", "example": "lpt_…"},
    "payment_method_data[card][number]": _STRING,
    "payment_method_data[card][exp_month]": _STRING,
    "payment_method_data[card][exp_year]": _STRING,
    "payment_method_data[card][cvc]": _STRING,
}

STRIPE_SCHEMAS: dict[str, Any] = {
    "Account": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "example": "acct_…"},
            "object": {"type": "string", "enum": ["account"]},
            "business_profile": {
                "type": "object",
                "properties": {"name": _STRING, "url": {"type": ["string", "null"]}},
            },
            "livemode": {"type": "boolean"},
            "created": {"type": "integer"},
        },
        "required": ["id", "object", "business_profile", "livemode"],
    },
    "PaymentIntentList": {
        "type": "object",
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "url": {"type": "string", "example": "/v1/payment_intents"},
            "has_more": {"type": "boolean"},
            "data": {"type": "array", "items": _ref("PaymentIntent")},
        },
        "required": ["object", "url", "has_more", "data"],
    },
    "PaymentMethod": {
        "type": "object",
        "properties": {
            "id": _STRING,
            "object": {"type": "string", "enum": ["payment_method"]},
            "type": {"type": "string", "enum": ["card"]},
            "created": {"type": "integer"},
            "livemode": {"type": "boolean"},
            "card": {
                "type": "object",
                "properties": {
                    "brand": _STRING,
                    "last4": {"type": ["string", "null"]},
                    "exp_month": {"type": ["integer", "null"]},
                    "exp_year": {"type": ["integer", "null"]},
                },
            },
        },
        "required": ["id", "object", "type", "card"],
    },
}

STRIPE_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/payment_intents"): {
        "security": _MERCHANT,
        "parameters": [_IDEMPOTENCY_KEY],
        "requestBody": _form(
            {
                "amount": {"type": "integer", "minimum": 1},
                "currency": {"type": "string", "example": "usd"},
                "confirm": {"type": "string", "enum": ["true", "false"]},
                "shared_payment_granted_token": _STRING,
                "payment_method_types[0]": {"type": "string", "example": "card"},
                **_CARD_FIELDS,
                "metadata[order]": _STRING,
                "automatic_payment_methods[enabled]": {"type": "string", "enum": ["true"]},
            },
            ["amount", "currency"],
        ),
        "responses": _responses(_ref("PaymentIntent"), (400, 401, 402, 409, 413, 429, 503)),
    },
    ("get", "/v1/payment_intents"): {
        "security": _MERCHANT,
        "parameters": [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                },
            },
            {"name": "starting_after", "in": "query", "required": False, "schema": _STRING},
            {"name": "ending_before", "in": "query", "required": False, "schema": _STRING},
            {"name": "created", "in": "query", "required": False, "schema": _TIMESTAMP},
            *(
                {"name": f"created[{op}]", "in": "query", "required": False, "schema": _TIMESTAMP}
                for op in ("gt", "gte", "lt", "lte")
            ),
        ],
        "responses": _responses(_ref("PaymentIntentList"), (400, 401, 503)),
    },
    ("post", "/v1/payment_intents/{intent_id}/confirm"): {
        "security": _MERCHANT,
        "parameters": [_IDEMPOTENCY_KEY],
        "requestBody": _form({"shared_payment_granted_token": _STRING, **_CARD_FIELDS}),
        "responses": _responses(_ref("PaymentIntent"), (400, 401, 402, 404, 409, 413, 429, 503)),
    },
    ("post", "/v1/payment_intents/{intent_id}/cancel"): {
        "security": _MERCHANT,
        "parameters": [_IDEMPOTENCY_KEY],
        "requestBody": _form(
            {"cancellation_reason": {"type": "string", "enum": sorted(CANCELLATION_REASONS)}}
        ),
        "responses": _responses(_ref("PaymentIntent"), (400, 401, 404, 409, 413, 503)),
    },
    ("get", "/v1/account"): {
        "security": _MERCHANT,
        "responses": _responses(_ref("Account"), (400, 401, 503)),
    },
    ("get", "/v1/payment_methods/{payment_method_id}"): {
        "security": _MERCHANT,
        "responses": _responses(_ref("PaymentMethod"), (400, 401, 404, 503)),
    },
}
