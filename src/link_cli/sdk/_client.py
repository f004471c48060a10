"""``LinkClient``: one object holding configuration, tokens and the resources (contract §7.10)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property

from link_cli.sdk._config import (
    API_BASE_URL_ENV,
    DEFAULT_TIMEOUT_SECONDS,
    HTTP_PROXY_ENV,
    resolve_base_url,
)
from link_cli.sdk._errors import LinkApiError, LinkConfigurationError
from link_cli.sdk._http import (
    HttpClient,
    Log,
    StdlibTransport,
    Transport,
    connection_hint,
)
from link_cli.sdk._store import TokenStore
from link_cli.sdk._tokens import (
    StaticTokenProvider,
    TokenProvider,
    default_token_provider,
    is_authenticated,
)
from link_cli.sdk.auth import AuthResource

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from link_cli.sdk.resources.financial import Balances, Sources, Transactions
    from link_cli.sdk.resources.payment_methods import PaymentMethods
    from link_cli.sdk.resources.reports import Reports
    from link_cli.sdk.resources.shipping_addresses import ShippingAddresses
    from link_cli.sdk.resources.spend_requests import SpendRequests
    from link_cli.sdk.resources.user_info import UserInfoResource
    from link_cli.sdk.types import SpendRequest


class LinkClient:
    """A client of the Link API.

    Args:
        api_base_url: the Link API; default ``LINK_API_BASE_URL``, else the local wallet
            ``http://127.0.0.1:8725`` (the official service is ``https://api.link.com``).
        auth_base_url: the OAuth server; default ``LINK_AUTH_BASE_URL``, else the local
            wallet (the official one is ``https://login.link.com``).
        access_token: use this bearer token as is (no refresh).
        token_provider: ``callable(force_refresh: bool) -> str``; overrides the default,
            which is ``LINK_ACCESS_TOKEN`` (+ ``LINK_REFRESH_TOKEN``) when set, else the
            credentials file (``token_store`` / ``auth_file`` / ``LINK_AUTH_FILE``).
        verbose: log every request and response to stderr (or ``log``), secrets redacted.
        token_store: where stored-mode tokens live (a :class:`TokenStore`).
        auth_file: path of the credentials file (the CLI's ``--auth``) when no store given.
        timeout: seconds to wait for each HTTP exchange.
        env: environment mapping read once here (default ``os.environ``).
        default_headers: extra headers for Link API requests (never replacing ours).

    Resources are created on first use and cached. Every returned value is sanitised.
    """

    def __init__(
        self,
        api_base_url: str | None = None,
        auth_base_url: str | None = None,
        access_token: str | None = None,
        token_provider: TokenProvider | None = None,
        verbose: bool = False,
        *,
        token_store: TokenStore | None = None,
        auth_file: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        env: Mapping[str, str] | None = None,
        log: Log | None = None,
        default_headers: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._api_base_url_option = api_base_url
        self._auth_base_url = auth_base_url
        self._access_token = access_token
        self._token_provider = token_provider
        self._token_store = token_store
        self._auth_file = auth_file
        self.verbose = verbose
        self.timeout = timeout
        self._log = log
        self._default_headers = dict(default_headers or {})
        self._transport = transport

    # --- configuration ---------------------------------------------------------------

    @cached_property
    def api_base_url(self) -> str:
        """The resolved Link API base URL."""
        return resolve_base_url(self._api_base_url_option, self._env, API_BASE_URL_ENV)

    @cached_property
    def token_store(self) -> TokenStore:
        """The credentials store (file unless a store was passed in)."""
        if self._token_store is not None:
            return self._token_store
        return TokenStore(self._auth_file, env=self._env)

    @cached_property
    def auth(self) -> AuthResource:
        """Device login, refresh and revocation against the auth server."""
        return AuthResource(
            self._auth_base_url,
            verbose=self.verbose,
            timeout=self.timeout,
            env=self._env,
            log=self._log,
            transport=self._transport,
        )

    @cached_property
    def token_provider(self) -> TokenProvider:
        """What supplies bearer tokens for API calls (see the class docstring)."""
        if self._token_provider is not None:
            return self._token_provider
        if self._access_token is not None:
            return StaticTokenProvider(self._access_token)
        return default_token_provider(self.token_store, self.auth.refresh, self._env)

    def is_authenticated(self) -> bool:
        """Purely local: ``LINK_ACCESS_TOKEN``/``access_token`` set, or stored tokens exist."""
        if self._access_token or self._token_provider is not None:
            return True
        return is_authenticated(self.token_store, self._env)

    @cached_property
    def _http(self) -> HttpClient:
        transport = self._transport
        if transport is None:
            proxy = self._env.get(HTTP_PROXY_ENV) or None
            if proxy is not None and not proxy.startswith(("http://", "https://")):
                raise LinkConfigurationError(
                    f"Invalid {HTTP_PROXY_ENV}: {proxy!r}. Expected an http:// URL."
                )
            transport = StdlibTransport(
                timeout=self.timeout,
                proxy=proxy,
                hint=connection_hint(self.api_base_url, API_BASE_URL_ENV),
            )
        if self.verbose:
            from link_cli.sdk._verbose import LoggingTransport, VerboseLogger

            transport = LoggingTransport(transport, VerboseLogger(self._log))
        return HttpClient(
            self.api_base_url,
            transport,
            get_token=lambda force: self.token_provider(force),
            default_headers=self._default_headers,
        )

    # --- resources -------------------------------------------------------------------

    @cached_property
    def spend_requests(self) -> SpendRequests:
        """Spend requests: create, update, request_approval, cancel, list, retrieve."""
        from link_cli.sdk.resources.spend_requests import SpendRequests

        return SpendRequests(self._http)

    @cached_property
    def payment_methods(self) -> PaymentMethods:
        """Payment methods: list."""
        from link_cli.sdk.resources.payment_methods import PaymentMethods

        return PaymentMethods(self._http)

    @cached_property
    def shipping_addresses(self) -> ShippingAddresses:
        """Shipping addresses: list."""
        from link_cli.sdk.resources.shipping_addresses import ShippingAddresses

        return ShippingAddresses(self._http)

    @cached_property
    def user_info(self) -> UserInfoResource:
        """User info: retrieve."""
        from link_cli.sdk.resources.user_info import UserInfoResource

        return UserInfoResource(self._http)

    @cached_property
    def transactions(self) -> Transactions:
        """Transactions: list ([beta])."""
        from link_cli.sdk.resources.financial import Transactions

        return Transactions(self._http)

    @cached_property
    def sources(self) -> Sources:
        """Sources: list ([beta])."""
        from link_cli.sdk.resources.financial import Sources

        return Sources(self._http)

    @cached_property
    def balances(self) -> Balances:
        """Balances: list ([beta])."""
        from link_cli.sdk.resources.financial import Balances

        return Balances(self._http)

    @cached_property
    def reports(self) -> Reports:
        """Agent observations: create."""
        from link_cli.sdk.resources.reports import Reports

        return Reports(self._http)


def get_duplicate_spend_request(error: BaseException) -> SpendRequest | None:
    """The existing spend request a create was refused for, or ``None``.

    Looks for ``error.duplicate_spend_request`` (an object) in the body of a
    :class:`LinkApiError` (typically 429 ``spend_request_rate_limited``); the result is
    sanitised and a legacy string SPT normalised to ``{id}``.
    """
    if not isinstance(error, LinkApiError):
        return None
    duplicate: Any = error.body_error.get("duplicate_spend_request")
    if not isinstance(duplicate, dict):
        return None
    from link_cli.sdk.resources._shapes import normalize_spend_request

    return normalize_spend_request(duplicate)
