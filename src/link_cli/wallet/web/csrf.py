"""CSRF protection for every POST form (synchronizer token bound to the cookie session).

The session holds a random seed; the form carries the seed signed with a key derived from the
wallet's secret (itsdangerous, timestamped). A POST passes only when the signature is valid,
fresh, and matches this session's seed. Cross-site ``Origin``/``Sec-Fetch-Site`` headers are
refused outright, and the session cookie is ``SameSite=Lax``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

from ..domain.errors import Forbidden

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_SECONDS = 12 * 3600
_SEED_KEY = "csrf"


class CsrfError(Forbidden):
    """The form did not prove it came from this wallet's own page."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"This form has expired or did not come from this wallet ({reason}). "
            "Reload the page and try again.",
            code="csrf_failed",
        )


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.csrf_key, salt="link-wallet-csrf")


def rotate_csrf_seed(request: Request) -> None:
    """Start a fresh seed (on sign-in/out, so tokens never cross a privilege change)."""
    request.session[_SEED_KEY] = secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str:
    """The token to put in the hidden ``csrf_token`` field of a form on this page."""
    if not request.session.get(_SEED_KEY):
        rotate_csrf_seed(request)
    return str(_serializer(request).dumps(request.session[_SEED_KEY]))


def verify_csrf(request: Request, form: Mapping[str, Any]) -> None:
    """Raise :class:`CsrfError` (403) unless the request is a same-origin form post."""
    _check_fetch_metadata(request)
    token = form.get(CSRF_FIELD)
    seed = request.session.get(_SEED_KEY)
    if not isinstance(token, str) or not token or not isinstance(seed, str):
        raise CsrfError("missing token")
    try:
        signed_seed = _serializer(request).loads(token, max_age=CSRF_MAX_AGE_SECONDS)
    except BadSignature:
        raise CsrfError("bad token") from None
    if not isinstance(signed_seed, str) or not hmac.compare_digest(signed_seed, seed):
        raise CsrfError("token belongs to another session")


def _check_fetch_metadata(request: Request) -> None:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        raise CsrfError("cross-site request")
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {_origin_of(str(request.base_url)), _origin_of(request.app.state.settings.public_url)}
    if origin.rstrip("/") not in allowed:
        raise CsrfError("foreign origin")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
