"""TokenStore: location, format, permissions, pending expiry and refusal of symlinks (contract §6.5)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from link_cli.sdk import (
    LinkConfigurationError,
    LinkSdkError,
    MemoryTokenStore,
    TokenStore,
    resolve_credentials_path,
)

TOKENS = {"access_token": "at", "refresh_token": "rt", "token_type": "Bearer", "expires_in": 3600}


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def mode_of(path: str | Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_default_location_is_ours_under_xdg_config_home(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert resolve_credentials_path(None, env) == str(tmp_path / "cfg" / "link-cli" / "config.json")
    home = {"HOME": str(tmp_path)}
    assert resolve_credentials_path(None, home).endswith("/.config/link-cli/config.json")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("creds", "creds.json"), ("creds.txt", "creds.txt.json"), ("creds.json", "creds.json")],
)
def test_explicit_paths_get_json_appended_and_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_credentials_path(given, {}) == str(tmp_path / expected)
    assert resolve_credentials_path(None, {"LINK_AUTH_FILE": given}) == str(tmp_path / expected)


def test_explicit_path_wins_over_link_auth_file(tmp_path: Path) -> None:
    env = {"LINK_AUTH_FILE": str(tmp_path / "env.json")}
    assert TokenStore(tmp_path / "flag", env=env).path == str(tmp_path / "flag.json")


def test_first_read_creates_the_file_with_both_keys_null(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "dir" / "creds.json")
    assert store.get_auth() is None
    assert json.loads(Path(store.path).read_text()) == {"auth": None, "pendingDeviceAuth": None}
    assert mode_of(store.path) == 0o600


def test_set_auth_computes_expires_at_in_ms_and_writes_tab_indented_json(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "creds.json", clock=FrozenClock(1_700_000_000.5))
    stored = store.set_auth(
        {**TOKENS, "scope": "userinfo:read", "authorization_details": [{"type": "source"}]}
    )
    assert stored is not None and stored["expires_at"] == 1_700_000_000_500 + 3_600_000
    text = Path(store.path).read_text()
    assert text.startswith('{\n\t"auth": {\n\t\t"access_token": "at"')
    reread = TokenStore(tmp_path / "creds.json").get_auth()
    assert reread == stored  # scope and authorization_details round-trip


def test_set_auth_keeps_an_existing_expires_at(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "creds.json")
    assert store.set_auth({**TOKENS, "expires_at": 42})["expires_at"] == 42  # type: ignore[index]


def test_writes_repair_a_0644_file_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text('{"auth": null, "pendingDeviceAuth": null}')
    path.chmod(0o644)
    TokenStore(path).set_auth(TOKENS)
    assert mode_of(path) == 0o600


def test_a_symlinked_credentials_file_is_refused_for_reading_and_writing(tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text('{"auth": null, "pendingDeviceAuth": null}')
    link = tmp_path / "creds.json"
    link.symlink_to(victim)
    store = TokenStore(link)
    with pytest.raises(LinkConfigurationError) as caught:
        store.get_auth()
    assert str(caught.value) == (
        f"Cannot read credentials file {link}: it is a symbolic link; it must be a regular file."
    )
    with pytest.raises(LinkConfigurationError, match="symbolic link"):
        store.set_auth(TOKENS)
    assert json.loads(victim.read_text()) == {"auth": None, "pendingDeviceAuth": None}


def test_invalid_json_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text("{not json")
    with pytest.raises(LinkConfigurationError) as caught:
        TokenStore(path).get_auth()
    assert str(path) in str(caught.value)
    assert "not valid JSON" in str(caught.value)
    assert path.read_text() == "{not json"  # never auto-repaired


def test_non_object_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text("[1, 2]")
    with pytest.raises(LinkConfigurationError, match="JSON object"):
        TokenStore(path).get_auth()


def test_pending_auth_lives_in_the_same_file_and_expires(tmp_path: Path) -> None:
    clock = FrozenClock(1000.0)
    store = TokenStore(tmp_path / "creds.json", clock=clock)
    store.set_auth(TOKENS)
    pending = {
        "device_code": "dc",
        "interval": 5,
        "expires_at": 1_000_000 + 600_000,
        "verification_url": "http://w/device/setup?code=a-b",
        "phrase": "a-b",
    }
    store.set_pending_device_auth(pending)
    on_disk = json.loads(Path(store.path).read_text())
    assert on_disk["pendingDeviceAuth"] == pending
    assert on_disk["auth"]["access_token"] == "at"
    assert store.get_pending_device_auth() == pending
    clock.now = 1000.0 + 600
    assert store.get_pending_device_auth() is None
    assert json.loads(Path(store.path).read_text())["pendingDeviceAuth"] is None
    assert store.get_auth() is not None  # tokens untouched by the expiry


def test_clear_and_delete(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "creds.json")
    store.set_auth(TOKENS)
    store.set_pending_device_auth({"device_code": "dc"})
    store.clear()
    assert json.loads(Path(store.path).read_text()) == {"auth": None, "pendingDeviceAuth": None}
    store.delete()
    assert not Path(store.path).exists()
    store.delete()  # deleting twice is fine


def test_memory_store_behaves_like_the_file_store() -> None:
    clock = FrozenClock(10.0)
    store = MemoryTokenStore(clock=clock)
    assert store.path is None
    stored = store.set_auth(TOKENS)
    assert stored is not None and stored["expires_at"] == 10_000 + 3_600_000
    got = store.get_auth()
    assert got == stored
    got["access_token"] = "mutated"  # type: ignore[index]
    assert store.get_auth()["access_token"] == "at"  # type: ignore[index]
    store.set_pending_device_auth({"device_code": "dc", "expires_at": 10_001})
    clock.now = 11.0
    assert store.get_pending_device_auth() is None
    store.delete()
    assert store.get_auth() is None


def test_a_held_lock_makes_other_writers_wait_then_fail_clearly(tmp_path: Path) -> None:
    holder = TokenStore(tmp_path / "creds.json")
    waiter = TokenStore(tmp_path / "creds.json", lock_timeout=0.05)
    with holder.lock():
        holder.set_auth(TOKENS)  # re-entrant for the holder
        with pytest.raises(LinkSdkError, match="credentials lock"):
            waiter.set_auth({**TOKENS, "access_token": "other"})
    assert waiter.get_auth()["access_token"] == "at"  # type: ignore[index]
    waiter.set_auth({**TOKENS, "access_token": "other"})  # free again
    assert holder.get_auth()["access_token"] == "other"  # type: ignore[index]
    assert mode_of(str(tmp_path / "creds.json.lock")) == 0o600


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_credentials_path_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind) -> None:
    path = tmp_path / "creds.json"
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)  # opening it for reading must not wait for a writer
    with pytest.raises(LinkConfigurationError) as caught:
        TokenStore(path).get_auth()
    assert str(caught.value) == f"Cannot read credentials file {path}: it is not a regular file."


def test_a_credentials_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_bytes(b'{"auth": "\xff"}')
    with pytest.raises(LinkConfigurationError, match="is not valid JSON"):
        TokenStore(path).get_auth()
