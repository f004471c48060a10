"""What a handler gets besides its params: mode, environment, and lazy SDK objects.

The SDK is imported only when a handler first touches ``ctx.client`` / ``ctx.tokens`` /
``ctx.auth``, so commands that fail validation never load it.
"""

from __future__ import annotations

import os
import time

from link_cli.errors import NotAuthenticated

TYPE_CHECKING = False  # `typing`/`dataclasses` stay off the --help path (mpp.py imports us)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class Context:
    """Per-invocation state shared by the CLI and the MCP adapter.

    ``agent`` is false only for a human at a terminal with no explicit format (contract §1.3);
    MCP and HTTP always run with ``agent=True, format="json", format_explicit=True``.
    ``sleep`` and ``clock`` drive polling, so tests can run it without real time.
    """

    def __init__(
        self,
        agent: bool = True,
        format: str = "toon",
        format_explicit: bool = False,
        verbose: bool = False,
        auth_path: str | None = None,
        auth_given: bool = False,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agent = agent
        self.format = format
        self.format_explicit = format_explicit
        self.verbose = verbose
        self.auth_path = auth_path
        self.auth_given = auth_given
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self.sleep = sleep
        self.clock = clock
        self._client: Any = None
        self._tokens: Any = None
        self._auth: Any = None

    @property
    def human(self) -> bool:
        return not self.agent

    @property
    def tokens(self) -> Any:
        """The credential store (``link_cli.sdk.TokenStore``) for ``--auth`` / LINK_AUTH_FILE."""
        if self._tokens is None:
            from link_cli.sdk import TokenStore

            if self.auth_given:
                # `--auth` wins over LINK_AUTH_FILE, even when its path is missing (contract §1.1).
                env = {k: v for k, v in self.env.items() if k != "LINK_AUTH_FILE"}
                self._tokens = TokenStore(self.auth_path, env=env)
            else:
                self._tokens = TokenStore(env=self.env)
        return self._tokens

    @property
    def client(self) -> Any:
        """A ``LinkClient`` using the env token or the credential store, refreshing on 401."""
        if self._client is None:
            from link_cli.sdk import LinkClient

            self._client = LinkClient(token_store=self.tokens, env=self.env, verbose=self.verbose)
        return self._client

    @property
    def auth(self) -> Any:
        """The device-flow resource (``link_cli.sdk.AuthResource``) of the auth server."""
        if self._auth is None:
            self._auth = self.client.auth
        return self._auth

    @property
    def api_base_url(self) -> str:
        return str(self.client.api_base_url)

    def env_access_token(self) -> str | None:
        return self.env.get("LINK_ACCESS_TOKEN") or None

    def is_authenticated(self) -> bool:
        """The purely local check of contract §6.6: an env token, or stored tokens."""
        if self.env_access_token():
            return True
        return self.tokens.get_auth() is not None

    def require_auth(self) -> None:
        """Raise NOT_AUTHENTICATED (with the login suggestion) before any request."""
        if not self.is_authenticated():
            raise NotAuthenticated()
