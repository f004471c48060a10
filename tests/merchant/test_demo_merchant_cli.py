"""``python -m link_cli.merchant`` / ``link-wallet demo-merchant``: bad settings are clear
errors (exit 2) before anything starts."""

from __future__ import annotations

import pytest

from link_cli.merchant.server import main

REQUIRED = [
    "--wallet-url",
    "http://127.0.0.1:9",
    "--secret-key",
    "sk_test_x",
    "--network-id",
    "p_1",
]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "port number from 1 to 65535"),
        (["--port", "http"], "port number"),
        (["--challenge-ttl", "0"], "whole number of seconds"),
        (["--challenge-ttl", "99999999999999999999"], "whole number of seconds"),
    ],
)
def test_bad_flags_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*REQUIRED, *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1e9"])
def test_a_bad_ttl_variable_is_a_clear_error(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINK_MERCHANT_CHALLENGE_TTL", value)
    assert main(REQUIRED) == 2
    assert "LINK_MERCHANT_CHALLENGE_TTL must be a whole number" in capsys.readouterr().err


def test_missing_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("WALLET_URL", "SECRET_KEY", "NETWORK_ID"):
        monkeypatch.delenv(f"LINK_MERCHANT_{name}", raising=False)
    assert main([]) == 2
    assert "--wallet-url, --secret-key, --network-id" in capsys.readouterr().err
