"""Error-message extraction per endpoint family (contract §5.4) and duplicate extraction."""

from __future__ import annotations

import json

import pytest

from link_cli.sdk import LinkApiError, LinkSdkError, get_duplicate_spend_request
from link_cli.sdk._errors import ErrorFamily, api_error, extract_error_message


def message(family: str, body: object) -> str:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api_error(family, "Failed to x", 418, raw).message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "object message", "code": "c"}}, "object message"),
        ({"error": "string error", "message": "top"}, "string error"),
        ({"message": "top level"}, "top level"),
        ({"error": {"code": "only_code"}}, '{"error": {"code": "only_code"}}'),
        ("plain text failure", "plain text failure"),
        ("", "unknown error"),
    ],
)
def test_spend_request_family(body: object, expected: str) -> None:
    assert message(ErrorFamily.SPEND_REQUEST, body) == f"Failed to x (418): {expected}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "string first", "message": "top"}, "string first"),
        ({"error": {"message": "object message", "code": "c"}}, "object message"),
        ({"error": {"code": "code_only"}}, "code_only"),
        ({"message": "top level"}, "top level"),
        ("<html>bad gateway</html>", "<html>bad gateway</html>"),
        ("", "unknown error"),
    ],
)
def test_account_family(body: object, expected: str) -> None:
    assert message(ErrorFamily.ACCOUNT, body) == f"Failed to x (418): {expected}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "bad domain"}}, "bad domain"),
        ({"error": "a string"}, '{"error": "a string"}'),
        ("", ""),
    ],
)
def test_report_family_uses_error_message_else_raw_body(body: object, expected: str) -> None:
    assert message(ErrorFamily.REPORT, body) == f"Failed to x (418): {expected}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error": "invalid_grant", "error_description": "Refresh token revoked"},
            "Refresh token revoked",
        ),
        ({"error": "invalid_grant", "error_description": ""}, ""),
        ({"error": "invalid_client"}, "invalid_client"),
        ({"error": {"message": "nested message"}}, "nested message"),
        ({"error": {"code": "nested", "detail": {"x": 1}}}, '{"code":"nested","detail":{"x":1}}'),
        ("Service Unavailable", "Service Unavailable"),
        ("", "unknown error"),
    ],
)
def test_oauth_family(body: object, expected: str) -> None:
    assert message(ErrorFamily.OAUTH, body) == f"Failed to x (418): {expected}"


@pytest.mark.parametrize(
    "family", [ErrorFamily.SPEND_REQUEST, ErrorFamily.ACCOUNT, ErrorFamily.OAUTH]
)
def test_nested_objects_never_render_as_object_placeholders(family: str) -> None:
    body = {"error": {"message": {"deep": ["x"]}, "code": {"deeper": 1}}}
    text = message(family, body)
    assert "[object" not in text and "{'" not in text
    assert "deep" in text  # the nested content is still readable


def test_server_text_in_messages_is_sanitised() -> None:
    text = message(ErrorFamily.SPEND_REQUEST, {"error": {"message": "\x1b[2Jgone\rback"}})
    assert text == "Failed to x (418): goneback"
    assert extract_error_message(ErrorFamily.ACCOUNT, "\x1b]0;t\x07raw", None) == "raw"


def test_api_error_carries_status_raw_body_and_parsed_details() -> None:
    raw = '{"error": {"message": "slow down", "code": "spend_request_rate_limited"}}'
    error = api_error(ErrorFamily.SPEND_REQUEST, "Failed to create spend request", 429, raw)
    assert error.status == 429
    assert error.code == "api_error"
    assert error.raw_body == raw
    assert error.details == json.loads(raw)
    assert error.body_error["code"] == "spend_request_rate_limited"
    assert str(error) == "Failed to create spend request (429): slow down"


def test_non_json_error_has_no_details_and_an_empty_body_error() -> None:
    error = api_error(ErrorFamily.ACCOUNT, "Failed to x", 502, "Bad Gateway")
    assert error.details is None
    assert error.body_error == {}


def test_duplicate_spend_request_is_normalised_and_sanitised() -> None:
    raw = json.dumps(
        {
            "error": {
                "code": "spend_request_rate_limited",
                "message": "Too many",
                "duplicate_spend_request": {
                    "id": "lsrq_dup",
                    "status": "pending_approval",
                    "merchant_name": "\x1b[31mShop",
                    "shared_payment_token": "spt_legacy",
                },
            }
        }
    )
    error = api_error(ErrorFamily.SPEND_REQUEST, "Failed to create spend request", 429, raw)
    assert get_duplicate_spend_request(error) == {
        "id": "lsrq_dup",
        "status": "pending_approval",
        "merchant_name": "Shop",
        "shared_payment_token": {"id": "spt_legacy"},
    }


@pytest.mark.parametrize(
    "error",
    [
        LinkSdkError("not an api error"),
        ValueError("nope"),
        LinkApiError(429, "no body"),
        api_error(ErrorFamily.SPEND_REQUEST, "Failed", 429, '{"error": {"message": "x"}}'),
        api_error(
            ErrorFamily.SPEND_REQUEST,
            "Failed",
            429,
            '{"error": {"duplicate_spend_request": "lsrq"}}',
        ),
    ],
)
def test_duplicate_is_none_when_absent_or_not_an_api_error(error: BaseException) -> None:
    assert get_duplicate_spend_request(error) is None
