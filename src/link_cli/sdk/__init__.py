"""``link_cli.sdk``: a Python client of the Link API, usable on its own by Python agents.

Quick start::

    from link_cli.sdk import LinkClient

    client = LinkClient()                 # local wallet, stored credentials
    auth = client.auth.initiate_device_auth(client_name="My agent")
    # show auth["verification_url_complete"] and auth["user_code"] to the person, then
    # poll client.auth.poll_device_auth(auth["device_code"]) every auth["interval"] s and
    # store the tokens with client.token_store.set_auth(tokens).
    methods = client.payment_methods.list()

Base URLs: option → ``LINK_API_BASE_URL`` / ``LINK_AUTH_BASE_URL`` → the local wallet
(``http://127.0.0.1:8725``, started by ``link-wallet serve``). Stripe's service is at
``https://api.link.com`` and ``https://login.link.com``. ``LINK_ACCESS_TOKEN``,
``LINK_REFRESH_TOKEN``, ``LINK_NO_REFRESH``, ``LINK_AUTH_FILE`` and ``LINK_HTTP_PROXY``
(Link API calls only) are honoured. Only the standard library is used, and
``http.client`` is imported on the first request, so this import stays cheap.
"""

import contextlib

from link_cli.sdk._client import LinkClient, get_duplicate_spend_request
from link_cli.sdk._config import (
    CLIENT_ID,
    DEFAULT_BASE_URL,
    OFFICIAL_API_BASE_URL,
    OFFICIAL_AUTH_BASE_URL,
)
from link_cli.sdk._errors import (
    LinkApiError,
    LinkAuthenticationError,
    LinkAuthorizationDeclinedError,
    LinkConfigurationError,
    LinkSdkError,
    LinkTransportError,
)
from link_cli.sdk._store import MemoryTokenStore, TokenStore, resolve_credentials_path
from link_cli.sdk._tokens import (
    EnvTokenProvider,
    StaticTokenProvider,
    StoredTokenProvider,
    TokenProvider,
    default_token_provider,
)
from link_cli.sdk.auth import AuthResource

__all__ = [
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
]

# Public names report themselves as ``link_cli.sdk.X`` (reprs, tracebacks, docs).
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) or callable(_value):
        with contextlib.suppress(AttributeError, TypeError):
            _value.__module__ = __name__
del _name, _value
