"""``load_settings``: flags over environment over defaults, and refusals of unusable values."""

from __future__ import annotations

from pathlib import Path

import pytest

from link_cli.wallet.passwords import hash_password, verify_password
from link_cli.wallet.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LimitSettings,
    SettingsError,
    ThrottleSettings,
    load_settings,
)

KEY = "k" * 40


def test_defaults_are_loopback_8725_and_sqlite_under_the_xdg_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env={"XDG_DATA_HOME": str(tmp_path), "LINK_WALLET_SECRET_KEY": KEY})
    assert (settings.host, settings.port) == (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 8725)
    assert settings.data_dir == tmp_path / "link-wallet"
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    assert settings.database_url == f"sqlite:///{tmp_path / 'link-wallet' / 'wallet.db'}"
    assert settings.public_url == "http://127.0.0.1:8725"
    assert settings.limits == LimitSettings()
    assert not settings.test_clock and not settings.fast_password_hash


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = {
        "LINK_WALLET_DATA_DIR": str(tmp_path / "from-env"),
        "LINK_WALLET_DATABASE_URL": "postgresql+psycopg://env/db",
        "LINK_WALLET_SECRET_KEY": KEY,
    }
    from_env = load_settings(env=env)
    assert from_env.data_dir == tmp_path / "from-env"
    assert from_env.database_url == "postgresql+psycopg://env/db"
    flags = load_settings(
        env=env,
        data_dir=tmp_path / "flag",
        database_url="sqlite:///flag.db",
        host="::1",
        port=9000,
    )
    assert flags.data_dir == tmp_path / "flag"
    assert flags.database_url == "sqlite:///flag.db"
    assert flags.public_url == "http://[::1]:9000"


def test_public_url_and_limits_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        env={
            "LINK_WALLET_SECRET_KEY": KEY,
            "LINK_WALLET_PUBLIC_URL": "https://wallet.example.com/",
            "LINK_WALLET_LIMIT_MAX_AMOUNT": " 1234 ",
            "LINK_WALLET_LIMIT_DAILY_SPEND": "",
        },
    )
    assert settings.public_url == "https://wallet.example.com"
    assert settings.limits.max_amount == 1234
    assert settings.limits.daily_spend == LimitSettings().daily_spend


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LINK_WALLET_LIMIT_MAX_ACTIVE": "ten"},
            "LINK_WALLET_LIMIT_MAX_ACTIVE must be an integer",
        ),
        ({"LINK_WALLET_LIMIT_HOURLY_CREATIONS": "-1"}, "must not be negative"),
        (
            {"LINK_WALLET_THROTTLE_SIGNIN_PER_ACCOUNT": "many"},
            "LINK_WALLET_THROTTLE_SIGNIN_PER_ACCOUNT must be an integer",
        ),
        ({"LINK_WALLET_PUBLIC_URL": "wallet.example.com"}, "must start with http"),
        ({"LINK_WALLET_SECRET_KEY": "short"}, "at least 32 characters"),
    ],
)
def test_unusable_values_are_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(data_dir=tmp_path, env={"LINK_WALLET_SECRET_KEY": KEY, **env})


def test_every_limit_has_an_environment_variable(tmp_path: Path) -> None:
    names = [f.upper() for f in LimitSettings.__dataclass_fields__]
    env = {f"LINK_WALLET_LIMIT_{name}": str(i + 1) for i, name in enumerate(names)}
    limits = load_settings(data_dir=tmp_path, env={"LINK_WALLET_SECRET_KEY": KEY, **env}).limits
    assert [getattr(limits, n.lower()) for n in names] == list(range(1, len(names) + 1))


def test_every_throttle_budget_has_an_environment_variable(tmp_path: Path) -> None:
    names = [f.upper() for f in ThrottleSettings.__dataclass_fields__]
    env = {f"LINK_WALLET_THROTTLE_{name}": str(i + 1) for i, name in enumerate(names)}
    settings = load_settings(data_dir=tmp_path, env={"LINK_WALLET_SECRET_KEY": KEY, **env})
    throttles = settings.throttles
    assert [getattr(throttles, n.lower()) for n in names] == list(range(1, len(names) + 1))


def test_forwarded_headers_are_trusted_only_from_named_proxies(tmp_path: Path) -> None:
    base = {"LINK_WALLET_SECRET_KEY": KEY}
    assert load_settings(data_dir=tmp_path, env=base).forwarded_allow_ips is None
    named = {**base, "LINK_WALLET_FORWARDED_ALLOW_IPS": " 10.0.0.5,10.0.0.6 "}
    settings = load_settings(data_dir=tmp_path, env=named)
    assert settings.forwarded_allow_ips == "10.0.0.5,10.0.0.6"


def test_passwords_are_hashed_with_argon2id() -> None:
    stored = hash_password("correct horse", fast=True)
    assert stored.startswith("$argon2id$")
    assert hash_password("correct horse").startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "Correct horse")
    assert not verify_password(None, "correct horse")
    assert not verify_password("not a hash", "correct horse")


def test_the_card_merchant_lock_is_off_unless_switched_on(tmp_path: Path) -> None:
    base = {"LINK_WALLET_SECRET_KEY": KEY}
    assert load_settings(data_dir=tmp_path, env=base).card_merchant_lock is False
    for value, expected in [("on", True), ("1", True), ("OFF", False), ("no", False)]:
        env = {**base, "LINK_WALLET_CARD_MERCHANT_LOCK": value}
        assert load_settings(data_dir=tmp_path, env=env).card_merchant_lock is expected
    with pytest.raises(SettingsError, match="LINK_WALLET_CARD_MERCHANT_LOCK must be on or off"):
        load_settings(data_dir=tmp_path, env={**base, "LINK_WALLET_CARD_MERCHANT_LOCK": "maybe"})
