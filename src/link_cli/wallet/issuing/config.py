"""Which issuer the wallet runs, read from the environment (docs/issuers.md).

``LINK_WALLET_ISSUER`` is ``sandbox`` (the default) or ``stripe``. Stripe mode needs a secret
key (``LINK_WALLET_STRIPE_SECRET_KEY`` or ``…_FILE``) and at least one webhook signing
secret (``LINK_WALLET_STRIPE_WEBHOOK_SECRETS``, comma-separated, or ``…_FILE``, one a line);
the API version is pinned so Stripe's objects keep the shape this code reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_STRIPE_API_VERSION",
    "IssuerConfigError",
    "IssuerSettings",
    "issuer_settings_from_env",
]

# The version stripe-python 16.1 is generated for; events are verified against it too.
DEFAULT_STRIPE_API_VERSION = "2026-10-28.endive"
# Issued shared payment tokens exist only in preview API versions (docs/issuers.md).
DEFAULT_STRIPE_PREVIEW_API_VERSION = "2026-07-29.preview"
SANDBOX = "sandbox"
STRIPE = "stripe"
_KINDS = (SANDBOX, STRIPE)


class IssuerConfigError(ValueError):
    """The issuer settings cannot be used; the message names the variable to fix."""


@dataclass(frozen=True)
class IssuerSettings:
    """The issuer and, in ``stripe`` mode, how to reach Stripe."""

    kind: str = SANDBOX
    stripe_secret_key: str | None = field(default=None, repr=False)
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    api_version: str = DEFAULT_STRIPE_API_VERSION
    api_base: str | None = None
    """Another base address for Stripe's API (a contract fake in tests); None: Stripe's."""
    timeout_seconds: float = 10.0
    max_network_retries: int = 2
    webhook_tolerance_seconds: int = 300
    issued_tokens: bool = False
    """The account has the issued shared payment tokens preview (``…_ISSUED_TOKENS=on``)."""
    preview_api_version: str = DEFAULT_STRIPE_PREVIEW_API_VERSION
    publishable_key: str | None = None
    """``pk_…`` for Stripe.js on the add-card page (required with issued tokens)."""
    user_terms_url: str | None = None
    """The card program's Authorized User Terms each person accepts before their first card
    (``LINK_WALLET_STRIPE_USER_TERMS_URL``); None: the program requires no acceptance."""

    @property
    def livemode(self) -> bool:
        """Whether the key moves real money (``sk_live_``/``rk_live_``)."""
        return bool(self.stripe_secret_key and "_live_" in self.stripe_secret_key[:8])


def _read_secret_file(name: str, raw_path: str) -> str:
    path = Path(raw_path).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise IssuerConfigError(f"{name}: cannot open {path}: {exc.strerror}") from None
    with os.fdopen(fd, "r", encoding="utf-8") as handle:
        if os.fstat(handle.fileno()).st_mode & 0o077:
            raise IssuerConfigError(f"{name}: {path} is readable by others; run chmod 600")
        return handle.read()


def _value_or_file(env: Mapping[str, str], name: str) -> str | None:
    direct = env.get(name, "").strip()
    path = env.get(f"{name}_FILE", "").strip()
    if direct and path:
        raise IssuerConfigError(f"set {name} or {name}_FILE, not both")
    if path:
        return _read_secret_file(f"{name}_FILE", path).strip() or None
    return direct or None


def issuer_settings_from_env(env: Mapping[str, str]) -> IssuerSettings:
    """The issuer settings, validated; raises :class:`IssuerConfigError`."""
    kind = env.get("LINK_WALLET_ISSUER", "").strip().lower() or SANDBOX
    if kind not in _KINDS:
        raise IssuerConfigError(f"LINK_WALLET_ISSUER must be sandbox or stripe, got {kind[:20]!r}")
    terms_url = _terms_url(env)
    if kind == SANDBOX:
        return IssuerSettings()
    key = _value_or_file(env, "LINK_WALLET_STRIPE_SECRET_KEY")
    if key is None:
        raise IssuerConfigError(
            "LINK_WALLET_ISSUER=stripe needs LINK_WALLET_STRIPE_SECRET_KEY (or _FILE): "
            "a secret key (sk_test_… or sk_live_…) or a restricted key (rk_…) with Issuing "
            "write access"
        )
    if not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")) or any(
        c.isspace() for c in key
    ):
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_SECRET_KEY must start with sk_test_, sk_live_, rk_test_ or "
            "rk_live_ (a publishable pk_ key cannot issue cards)"
        )
    raw_secrets = _value_or_file(env, "LINK_WALLET_STRIPE_WEBHOOK_SECRETS") or ""
    webhook_secrets = tuple(
        s.strip() for s in raw_secrets.replace("\n", ",").split(",") if s.strip()
    )
    if not webhook_secrets:
        raise IssuerConfigError(
            "LINK_WALLET_ISSUER=stripe needs LINK_WALLET_STRIPE_WEBHOOK_SECRETS (or _FILE): "
            "the signing secret (whsec_…) of each webhook endpoint, comma-separated"
        )
    for secret in webhook_secrets:
        if not secret.startswith("whsec_") or len(secret) < 16:
            raise IssuerConfigError(
                "LINK_WALLET_STRIPE_WEBHOOK_SECRETS must list signing secrets starting "
                "with whsec_ (the endpoint's 'Signing secret' in the Dashboard)"
            )
    version = env.get("LINK_WALLET_STRIPE_API_VERSION", "").strip() or DEFAULT_STRIPE_API_VERSION
    if len(version) > 40 or not version[:10].replace("-", "").isdigit():
        raise IssuerConfigError(
            f"LINK_WALLET_STRIPE_API_VERSION must look like {DEFAULT_STRIPE_API_VERSION}"
        )
    base = env.get("LINK_WALLET_STRIPE_API_BASE", "").strip().rstrip("/") or None
    if base is not None and not base.startswith(("https://", "http://127.0.0.1", "http://[::1]")):
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_API_BASE must be an https:// address (or http:// on loopback)"
        )
    issued_tokens = _switch(env, "LINK_WALLET_STRIPE_ISSUED_TOKENS")
    preview = (
        env.get("LINK_WALLET_STRIPE_PREVIEW_API_VERSION", "").strip()
        or DEFAULT_STRIPE_PREVIEW_API_VERSION
    )
    if len(preview) > 40 or not preview.endswith(".preview") or not preview[:4].isdigit():
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_PREVIEW_API_VERSION must be a preview version like "
            f"{DEFAULT_STRIPE_PREVIEW_API_VERSION}"
        )
    publishable = env.get("LINK_WALLET_STRIPE_PUBLISHABLE_KEY", "").strip() or None
    if publishable is not None and (
        not publishable.startswith(("pk_test_", "pk_live_"))
        or not publishable.isascii()
        or not all(c.isalnum() or c == "_" for c in publishable)
        or len(publishable) > 255
    ):
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_test_… or pk_live_…)"
        )
    if issued_tokens and publishable is None:
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_ISSUED_TOKENS=on needs LINK_WALLET_STRIPE_PUBLISHABLE_KEY: "
            "cards are added with Stripe.js so the wallet has a PaymentMethod to issue from"
        )
    if publishable is not None and ("_live_" in publishable[:8]) != ("_live_" in key[:8]):
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_PUBLISHABLE_KEY and LINK_WALLET_STRIPE_SECRET_KEY must be of "
            "the same mode (both test or both live)"
        )
    return IssuerSettings(
        kind=STRIPE,
        issued_tokens=issued_tokens,
        preview_api_version=preview,
        publishable_key=publishable,
        user_terms_url=terms_url,
        stripe_secret_key=key,
        webhook_secrets=webhook_secrets,
        api_version=version,
        api_base=base,
        timeout_seconds=_number(env, "LINK_WALLET_STRIPE_TIMEOUT_SECONDS", 10.0, 0.1, 60.0),
        max_network_retries=int(_number(env, "LINK_WALLET_STRIPE_MAX_RETRIES", 2, 0, 5)),
        webhook_tolerance_seconds=int(
            _number(env, "LINK_WALLET_STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300, 1, 3600)
        ),
    )


def _terms_url(env: Mapping[str, str]) -> str | None:
    """The Authorized User Terms' address: https, no credentials, nothing a page could not
    show as a plain link."""
    raw = env.get("LINK_WALLET_STRIPE_USER_TERMS_URL", "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:
        host = None
    if (
        host is None
        or parts.scheme != "https"
        or parts.username is not None
        or len(raw) > 2000
        or not raw.isascii()
        or any(c.isspace() or ord(c) < 32 or c in "<>\"'" for c in raw)
    ):
        raise IssuerConfigError(
            "LINK_WALLET_STRIPE_USER_TERMS_URL must be the https:// address of your card "
            "program's Authorized User Terms (e.g. https://bank.example/authorized-user-terms)"
        )
    return raw


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower() or "off"
    if raw not in ("on", "off"):
        raise IssuerConfigError(f"{name} must be on or off, got {raw[:20]!r}")
    return raw == "on"


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise IssuerConfigError(f"{name} must be a number, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise IssuerConfigError(f"{name} must be between {low:g} and {high:g}")
    return value
