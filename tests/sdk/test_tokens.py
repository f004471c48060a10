"""Token providers (contract §6.6): stored mode, env mode, and the refresh decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from link_cli.sdk import (
    EnvTokenProvider,
    LinkApiError,
    LinkAuthenticationError,
    LinkClient,
    MemoryTokenStore,
    StoredTokenProvider,
    TokenStore,
    default_token_provider,
)
from link_cli.sdk._tokens import is_expired


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RotatingRefresher:
    """Stands in for the auth server's refresh grant: rotates, and rejects old tokens."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.generation = 1

    def __call__(self, refresh_token: str) -> dict[str, object]:
        self.calls.append(refresh_token)
        if refresh_token != f"rt_{self.generation}":
            raise LinkApiError(400, "Token refresh failed (400): revoked", code="invalid_grant")
        self.generation += 1
        return {
            "access_token": f"at_{self.generation}",
            "refresh_token": f"rt_{self.generation}",
            "token_type": "Bearer",
            "expires_in": 3600,
        }


def stored(expires_at: int | None) -> dict[str, object]:
    auth: dict[str, object] = {
        "access_token": "at_1",
        "refresh_token": "rt_1",
        "token_type": "Bearer",
    }
    if expires_at is not None:
        auth["expires_at"] = expires_at
    return auth


def make(
    expires_at: int | None, now_s: float = 1000.0, **kwargs: bool
) -> tuple[StoredTokenProvider, RotatingRefresher, MemoryTokenStore]:
    clock = FrozenClock(now_s)
    store = MemoryTokenStore(clock=clock)
    store.set_auth(stored(expires_at))  # type: ignore[arg-type]
    refresher = RotatingRefresher()
    return StoredTokenProvider(store, refresher, clock=clock, **kwargs), refresher, store  # type: ignore[arg-type]


def test_no_stored_auth_is_not_authenticated() -> None:
    provider = StoredTokenProvider(MemoryTokenStore(), RotatingRefresher())  # type: ignore[arg-type]
    with pytest.raises(LinkAuthenticationError) as caught:
        provider(False)
    assert caught.value.code == "not_authenticated"


def test_fresh_token_is_returned_without_refreshing() -> None:
    provider, refresher, _ = make(expires_at=1000_000 + 61_000)
    assert provider(False) == "at_1"
    assert refresher.calls == []


def test_missing_expires_at_never_counts_as_expired() -> None:
    provider, refresher, _ = make(expires_at=None)
    assert provider(False) == "at_1"
    assert refresher.calls == []


def test_within_60_seconds_of_expiry_refreshes_and_overwrites_stored_auth() -> None:
    provider, refresher, store = make(expires_at=1000_000 + 60_000)
    assert provider(False) == "at_2"
    assert refresher.calls == ["rt_1"]
    auth = store.get_auth()
    assert auth is not None and auth["refresh_token"] == "rt_2"
    assert provider(False) == "at_2"  # now fresh: no second refresh
    assert refresher.calls == ["rt_1"]


def test_forced_refresh_refreshes_even_a_fresh_token() -> None:
    provider, refresher, _ = make(expires_at=None)
    assert provider(False) == "at_1"
    assert provider(True) == "at_2"
    assert refresher.calls == ["rt_1"]


def test_no_refresh_raises_without_calling_refresh() -> None:
    provider, refresher, _ = make(expires_at=0, no_refresh=True)
    with pytest.raises(
        LinkAuthenticationError, match=r'Re-authenticate with "link-cli auth login"'
    ):
        provider(False)
    assert refresher.calls == []


def test_refresh_failure_propagates_and_keeps_the_stored_tokens() -> None:
    provider, refresher, store = make(expires_at=0)
    refresher.generation = 7  # the server no longer accepts rt_1
    with pytest.raises(LinkApiError):
        provider(False)
    assert store.get_auth()["refresh_token"] == "rt_1"  # type: ignore[index]


def test_forced_refresh_uses_tokens_another_process_already_rotated(tmp_path: Path) -> None:
    """After a 401, if the file already holds newer fresh tokens, they are used as is."""
    path = tmp_path / "creds.json"
    clock = FrozenClock(1000.0)
    store = TokenStore(path, clock=clock)
    store.set_auth(
        {
            "access_token": "at_1",
            "refresh_token": "rt_1",
            "token_type": "Bearer",
            "expires_in": 3600,
        }
    )
    refresher = RotatingRefresher()
    provider = StoredTokenProvider(store, refresher, clock=clock)  # type: ignore[arg-type]
    assert provider(False) == "at_1"
    # Another process refreshes meanwhile (through its own store object on the same file).
    other = StoredTokenProvider(TokenStore(path, clock=clock), refresher, clock=clock)  # type: ignore[arg-type]
    assert other(True) == "at_2"
    # Our request with at_1 got a 401: the forced refresh picks up at_2 instead of
    # spending the revoked rt_1.
    assert provider(True) == "at_2"
    assert refresher.calls == ["rt_1"]


def test_is_expired_boundary() -> None:
    assert is_expired({"expires_at": 61_000}, 0) is False  # type: ignore[typeddict-item]
    assert is_expired({"expires_at": 60_000}, 0) is True  # type: ignore[typeddict-item]


def test_env_provider_returns_the_env_token() -> None:
    refresher = RotatingRefresher()
    provider = EnvTokenProvider("env_at", refresher)  # type: ignore[arg-type]
    assert provider(False) == "env_at"
    assert refresher.calls == []


@pytest.mark.parametrize(("refresh_token", "no_refresh"), [(None, False), ("rt_1", True)])
def test_env_provider_forced_refresh_fails_without_refresh_token_or_when_disabled(
    refresh_token: str | None, no_refresh: bool
) -> None:
    refresher = RotatingRefresher()
    provider = EnvTokenProvider(
        "env_at", refresher, refresh_token=refresh_token, no_refresh=no_refresh
    )  # type: ignore[arg-type]
    with pytest.raises(LinkAuthenticationError, match="Update LINK_ACCESS_TOKEN and retry"):
        provider(True)
    assert refresher.calls == []


def test_env_provider_refreshes_in_memory_and_keeps_the_rotated_pair() -> None:
    refresher = RotatingRefresher()
    provider = EnvTokenProvider("env_at", refresher, refresh_token="rt_1")  # type: ignore[arg-type]
    assert provider(True) == "at_2"
    assert provider(False) == "at_2"
    assert provider(True) == "at_3"  # used rt_2, not the revoked rt_1
    assert refresher.calls == ["rt_1", "rt_2"]


def test_default_provider_picks_env_mode_only_for_a_non_empty_token() -> None:
    store = MemoryTokenStore()
    refresher = RotatingRefresher()
    assert isinstance(
        default_token_provider(store, refresher, {"LINK_ACCESS_TOKEN": "x"}), EnvTokenProvider
    )  # type: ignore[arg-type]
    assert isinstance(
        default_token_provider(store, refresher, {"LINK_ACCESS_TOKEN": ""}), StoredTokenProvider
    )  # type: ignore[arg-type]


def test_is_authenticated_is_purely_local(tmp_path: Path) -> None:
    # Nothing listens on the base URL: the check must not make a request.
    env = {"LINK_API_BASE_URL": "http://127.0.0.1:9", "LINK_AUTH_FILE": str(tmp_path / "c")}
    assert LinkClient(env=env).is_authenticated() is False
    assert LinkClient(env={**env, "LINK_ACCESS_TOKEN": "t"}).is_authenticated() is True
    TokenStore(tmp_path / "c").set_auth(
        {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 1}
    )
    assert LinkClient(env=env).is_authenticated() is True
