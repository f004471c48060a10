"""Where one-time credentials come from: the :class:`~.base.Issuer` protocol and its
implementations. The wallet uses ``app.state.issuer``, built by :func:`build_issuer` from the
settings (``LINK_WALLET_ISSUER``); this package is the only place that knows which one runs."""

from __future__ import annotations

from .base import Issuer
from .config import IssuerConfigError, IssuerSettings


def default_issuer() -> Issuer:
    """The issuer a wallet uses when none is configured: the sandbox."""
    from .sandbox import SandboxIssuer

    return SandboxIssuer()


def build_issuer(settings: IssuerSettings) -> Issuer:
    """The configured issuer; raises :class:`IssuerConfigError` when it cannot run (e.g. the
    ``stripe`` extra is not installed)."""
    if settings.kind == "stripe":
        from .stripe_issuing import StripeIssuer

        return StripeIssuer(settings)
    return default_issuer()


__all__ = ["Issuer", "IssuerConfigError", "build_issuer", "default_issuer"]
