"""Constants and configuration lookups shared by the SDK (contract §1.6, §6.1, §6.7).

Base URLs resolve as: explicit option → ``LINK_API_BASE_URL`` / ``LINK_AUTH_BASE_URL`` →
the local wallet, ``http://127.0.0.1:8725`` (``link-wallet serve``). The official service
lives at ``https://api.link.com`` (API) and ``https://login.link.com`` (auth); point the two
variables there to use it. Paths are appended to the base as they are (contract §6.7), so a trailing
slash gives ``//path``, exactly like the official client.
"""

from __future__ import annotations

from collections.abc import Mapping

from link_cli import __version__
from link_cli.sdk._errors import LinkConfigurationError

DEFAULT_BASE_URL = "http://127.0.0.1:8725"
"""The local ``link-wallet serve`` default: both the Link API and the auth server."""

OFFICIAL_API_BASE_URL = "https://api.link.com"
OFFICIAL_AUTH_BASE_URL = "https://login.link.com"

CLIENT_ID = "lwlpk_U7Qy7ThG69STZk"
"""The official CLI's public OAuth client id (contract §6.1); not a secret."""

DEFAULT_CLIENT_NAME = "Link CLI"
DEFAULT_SCOPE = "userinfo:read payment_methods.agentic"
DEFAULT_TIMEOUT_SECONDS = 30.0
USER_AGENT = f"link-cli/{__version__}"

API_BASE_URL_ENV = "LINK_API_BASE_URL"
AUTH_BASE_URL_ENV = "LINK_AUTH_BASE_URL"
HTTP_PROXY_ENV = "LINK_HTTP_PROXY"
ACCESS_TOKEN_ENV = "LINK_ACCESS_TOKEN"
REFRESH_TOKEN_ENV = "LINK_REFRESH_TOKEN"
NO_REFRESH_ENV = "LINK_NO_REFRESH"
AUTH_FILE_ENV = "LINK_AUTH_FILE"


def resolve_base_url(option: str | None, env: Mapping[str, str], variable: str) -> str:
    """Return the base URL from ``option``, else ``env[variable]``, else the local wallet.

    An empty environment value is not replaced by the default (contract §6.7); it, like any value
    that is not an ``http(s)://`` URL, is refused with a :class:`LinkConfigurationError`
    naming its source instead of failing later with an obscure transport error.
    """
    if option is not None:
        value, source = option, "base URL option"
    elif variable in env:
        value, source = env[variable], variable
    else:
        return DEFAULT_BASE_URL
    if not value.startswith(("http://", "https://")):
        raise LinkConfigurationError(
            f"Invalid {source}: {value!r}. Expected an http:// or https:// URL."
        )
    return value


def env_flag(env: Mapping[str, str], variable: str) -> bool:
    """True when ``variable`` is set to any non-empty string (``"0"`` included, contract §1.1)."""
    return bool(env.get(variable))


def is_default_local_wallet(base_url: str) -> bool:
    """Whether ``base_url`` is the built-in local wallet address (used for error hints)."""
    return base_url.rstrip("/") == DEFAULT_BASE_URL
