"""Where one-time credentials come from: the :class:`~.base.Issuer` protocol and its
implementations. The wallet uses ``app.state.issuer`` when one is configured, else
:func:`default_issuer` (the built-in sandbox)."""

from __future__ import annotations

from .base import Issuer


def default_issuer() -> Issuer:
    """The issuer a wallet uses when none is configured: the sandbox."""
    from .sandbox import SandboxIssuer

    return SandboxIssuer()


__all__ = ["Issuer", "default_issuer"]
