"""The wallet's OpenAPI document describes the real wire (what fuzzers and client generators
read): every API route, its credentials, bodies and error answers; no page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from link_cli.wallet.api.openapi import OPERATIONS, build_openapi
from link_cli.wallet.app import create_app
from link_cli.wallet.settings import load_settings


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("openapi"), env={})
    return create_app(settings).openapi()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def test_every_api_route_and_no_page_is_in_the_document(document: dict[str, Any]) -> None:
    assert set(operations(document)) == set(OPERATIONS)
    assert not any(path.startswith(("/approve", "/signin", "/wallet", "/static", "/__test__"))
                   for path in document["paths"])  # fmt: skip
    assert ("get", "/device/setup") not in operations(document)


def test_credentials_bodies_and_errors_are_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {"agentToken", "merchantKey", "merchantKeyBasic"} <= set(schemes)
    for (method, path), operation in operations(document).items():
        responses = operation["responses"]
        assert "422" not in responses or "HTTPValidationError" not in str(responses["422"])
        if path.startswith("/v1/"):
            assert operation["security"] == [{"merchantKey": []}, {"merchantKeyBasic": []}]
            assert "StripeError" in str(responses["401"])
        elif path.startswith(("/spend_requests", "/payment-details", "/userinfo", "/shipping")):
            assert operation["security"] == [{"agentToken": []}]
            assert "#/components/schemas/Error" in str(responses["401"])
        elif path.startswith("/device/"):
            assert "security" not in operation
            assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
            assert "OAuthError" in str(responses["400"])
        if method == "post" and path in ("/spend_requests", "/spend_requests/{request_id}"):
            assert "application/json" in operation["requestBody"]["content"]
    form = operations(document)[("post", "/v1/payment_intents")]
    content = form["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "payment_method_data[card][number]" in content["properties"]
    assert any(p["name"] == "Idempotency-Key" for p in form["parameters"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_an_api_route_missing_from_the_table_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(load_settings(data_dir=tmp_path, env={}))
    monkeypatch.delitem(OPERATIONS, ("get", "/userinfo"))
    with pytest.raises(LookupError, match="GET /userinfo"):
        build_openapi(app)
