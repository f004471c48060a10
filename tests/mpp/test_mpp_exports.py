"""The public surface of link_cli.mpp is exactly what `__all__` says, and stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import link_cli.mpp as mpp

EXPECTED = {
    "Challenge",
    "Credential",
    "MppParseError",
    "Problem",
    "ProblemType",
    "Receipt",
    "StripeRequest",
    "build_credential",
    "format_authorization",
    "format_challenge",
    "format_payment_receipt",
    "format_www_authenticate",
    "network_id",
    "parse_authorization",
    "parse_challenge",
    "parse_payment_receipt",
    "parse_problem",
    "parse_stripe_request",
    "parse_www_authenticate",
    "replace",
    "select_stripe_challenge",
}


def test_all_is_exactly_the_documented_surface() -> None:
    assert set(mpp.__all__) == EXPECTED
    assert len(mpp.__all__) == len(EXPECTED)


def test_all_is_exact_and_every_name_is_documented() -> None:
    public = {
        name
        for name, value in vars(mpp).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} == set(mpp.__all__)
    for name in mpp.__all__:
        assert getattr(mpp, name).__doc__, name


def test_codec_import_loads_no_heavy_or_network_module() -> None:
    code = (
        "import sys, link_cli.mpp, link_cli.mpp.mcp, link_cli.mpp.server; "
        "heavy = {'pydantic', 'httpx', 'httpx2', 'mpp', 'http.client', 'sqlite3', 'ssl', 'starlette', 'sqlalchemy', 'link_cli.wallet'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
