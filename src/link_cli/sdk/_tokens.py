"""Access-token providers (contract §6.6).

A provider is any callable ``get_access_token(force_refresh: bool) -> str``. The request
path calls it with ``False`` before each request and with ``True`` once after a 401.

* :class:`StoredTokenProvider` — tokens from a :class:`TokenStore`. A token within 60 s of
  ``expires_at`` counts as expired. Refreshing happens under the store's lock: the file is
  re-read first, and if another process already rotated the tokens (the stored refresh
  token is no longer the one we started from and the access token is fresh) we use theirs
  instead of spending our now-revoked refresh token. The refresh response replaces the
  stored ``auth`` entirely (so an unechoed ``scope`` is lost, as upstream).
* :class:`EnvTokenProvider` — ``LINK_ACCESS_TOKEN`` (+ ``LINK_REFRESH_TOKEN``). A forced
  refresh is never persisted; unlike upstream, the refreshed pair is remembered for the
  rest of this process so a rotated refresh token is not reused.
* :class:`StaticTokenProvider` — a fixed token (the ``access_token=`` option).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from link_cli.sdk._config import (
    ACCESS_TOKEN_ENV,
    NO_REFRESH_ENV,
    REFRESH_TOKEN_ENV,
    env_flag,
)
from link_cli.sdk._errors import (
    ENV_TOKEN_EXPIRED_MESSAGE,
    NOT_AUTHENTICATED_MESSAGE,
    STORED_TOKEN_EXPIRED_MESSAGE,
    LinkAuthenticationError,
)
from link_cli.sdk._store import TokenStore

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from link_cli.sdk.types import StoredAuth, TokenResponse

EARLY_EXPIRY_MS = 60_000

Refresh = Callable[[str], "TokenResponse"]


TokenProvider = Callable[[bool], str]
"""Returns a bearer token; called with ``force_refresh=True`` once after a 401."""


def is_expired(auth: StoredAuth, now_ms: int) -> bool:
    """Expired when ``expires_at`` is set and ``now >= expires_at - 60 s``."""
    expires_at = auth.get("expires_at")
    if not isinstance(expires_at, int | float):
        return False
    return now_ms >= expires_at - EARLY_EXPIRY_MS


class StaticTokenProvider:
    """Always the same token (a retry after 401 resends it, as the official SDK does)."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def __call__(self, force_refresh: bool = False) -> str:
        """The configured token."""
        return self._token


class StoredTokenProvider:
    """Tokens from ``store``, refreshed through ``refresh`` when expired or forced."""

    def __init__(
        self,
        store: TokenStore,
        refresh: Refresh,
        *,
        no_refresh: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.refresh = refresh
        self.no_refresh = no_refresh
        self.clock = clock
        self._issued: StoredAuth | None = None

    def __call__(self, force_refresh: bool = False) -> str:
        """A valid access token, refreshing (under the store lock) when needed."""
        auth = self.store.get_auth()
        if auth is None:
            raise LinkAuthenticationError(NOT_AUTHENTICATED_MESSAGE)
        if not force_refresh and not is_expired(auth, self._now_ms()):
            self._issued = auth
            return auth["access_token"]
        if self.no_refresh:
            raise LinkAuthenticationError(STORED_TOKEN_EXPIRED_MESSAGE)
        # After a 401 the stale pair is the one we handed out, not necessarily the stored one.
        started_from = (self._issued if force_refresh and self._issued else auth).get(
            "refresh_token"
        )
        with self.store.lock():
            current = self.store.get_auth()
            if current is None:
                raise LinkAuthenticationError(NOT_AUTHENTICATED_MESSAGE)
            if current.get("refresh_token") != started_from and not is_expired(
                current, self._now_ms()
            ):
                self._issued = current  # another process refreshed while we waited
                return current["access_token"]
            refresh_token = current.get("refresh_token")
            if not refresh_token:
                raise LinkAuthenticationError(STORED_TOKEN_EXPIRED_MESSAGE)
            stored = self.store.set_auth(self.refresh(refresh_token))
        assert stored is not None
        self._issued = stored
        return stored["access_token"]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


class EnvTokenProvider:
    """``LINK_ACCESS_TOKEN`` mode: the env token, refreshed in memory with the env refresh token."""

    def __init__(
        self,
        access_token: str,
        refresh: Refresh,
        *,
        refresh_token: str | None = None,
        no_refresh: bool = False,
    ) -> None:
        self.refresh = refresh
        self.no_refresh = no_refresh
        self._access_token = access_token
        self._refresh_token = refresh_token or None
        self._lock = threading.Lock()

    def __call__(self, force_refresh: bool = False) -> str:
        """The env (or in-process refreshed) token; forced refresh needs a refresh token."""
        if not force_refresh:
            return self._access_token
        if self.no_refresh or not self._refresh_token:
            raise LinkAuthenticationError(ENV_TOKEN_EXPIRED_MESSAGE)
        with self._lock:
            tokens = self.refresh(self._refresh_token)
            self._access_token = tokens["access_token"]
            self._refresh_token = tokens.get("refresh_token") or self._refresh_token
        return self._access_token


def default_token_provider(
    store: TokenStore, refresh: Refresh, env: Mapping[str, str]
) -> TokenProvider:
    """Env mode when ``LINK_ACCESS_TOKEN`` is non-empty, stored mode otherwise."""
    no_refresh = env_flag(env, NO_REFRESH_ENV)
    access_token = env.get(ACCESS_TOKEN_ENV)
    if access_token:
        return EnvTokenProvider(
            access_token,
            refresh,
            refresh_token=env.get(REFRESH_TOKEN_ENV),
            no_refresh=no_refresh,
        )
    return StoredTokenProvider(store, refresh, no_refresh=no_refresh)


def is_authenticated(store: TokenStore, env: Mapping[str, str]) -> bool:
    """The purely local check (contract §6.6): ``LINK_ACCESS_TOKEN`` set, or stored ``auth`` present."""
    return bool(env.get(ACCESS_TOKEN_ENV)) or store.get_auth() is not None
