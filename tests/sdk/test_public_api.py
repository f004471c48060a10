"""The public surface of link_cli.sdk: exact names, and an import that stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import link_cli.sdk as sdk

EXPECTED = {
    "CLIENT_ID",
    "DEFAULT_BASE_URL",
    "OFFICIAL_API_BASE_URL",
    "OFFICIAL_AUTH_BASE_URL",
    "AuthResource",
    "EnvTokenProvider",
    "LinkApiError",
    "LinkAuthenticationError",
    "LinkAuthorizationDeclinedError",
    "LinkClient",
    "LinkConfigurationError",
    "LinkSdkError",
    "LinkTransportError",
    "MemoryTokenStore",
    "StaticTokenProvider",
    "StoredTokenProvider",
    "TokenProvider",
    "TokenStore",
    "default_token_provider",
    "get_duplicate_spend_request",
    "resolve_credentials_path",
}


def test_all_is_exactly_the_documented_surface() -> None:
    assert set(sdk.__all__) == EXPECTED
    assert len(sdk.__all__) == len(EXPECTED)


def test_every_public_name_of_the_package_is_in_all() -> None:
    public = {
        name
        for name, value in vars(sdk).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} == set(sdk.__all__)


def test_every_public_name_is_importable_and_reports_the_public_module() -> None:
    for name in sdk.__all__:
        value = getattr(sdk, name)
        if isinstance(value, type):
            assert value.__module__ == "link_cli.sdk", name


def test_error_hierarchy_and_codes() -> None:
    for cls in (
        sdk.LinkConfigurationError,
        sdk.LinkAuthenticationError,
        sdk.LinkTransportError,
        sdk.LinkApiError,
    ):
        assert issubclass(cls, sdk.LinkSdkError)
    assert issubclass(sdk.LinkAuthorizationDeclinedError, sdk.LinkApiError)
    assert sdk.LinkSdkError("x").code == "sdk_error"
    assert sdk.LinkConfigurationError("x").code == "configuration_error"
    assert sdk.LinkAuthenticationError("x").code == "not_authenticated"
    assert sdk.LinkApiError(500, "x").code == "api_error"
    assert sdk.LinkAuthorizationDeclinedError(400, {}).code == "authorization_declined"


def test_importing_the_sdk_loads_no_http_stack_and_no_heavy_dependency() -> None:
    code = "import sys, json, link_cli.sdk; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    for heavy in (
        "urllib.request",
        "http.client",
        "ssl",
        "httpx",
        "httpx2",
        "pydantic",
        "sqlalchemy",
        "link_cli.wallet",
        "link_cli.sdk.types",
        "dataclasses",
        "typing",
    ):
        assert heavy not in loaded, heavy
