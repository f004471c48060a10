"""Who gets paid, as the approval pages show it: a registered name and a site whose
registrable domain stands out.

A look-alike address such as ``https://paypal.com.evil.example/`` reads as PayPal to a
hurried eye; what decides who receives the money is the registrable domain (the public
suffix plus one label: ``evil.example``). The page shows the whole address with the leading
labels muted and that domain in bold, and names the domain again on its own line. The
public suffix list comes from ``publicsuffixlist``, whose wheel bundles a snapshot of the
list, so nothing is fetched at run time (docs/security.md, "Trustworthy approval pages").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..domain.sites import registrable_domain

__all__ = ["SiteParts", "registrable_domain", "site_parts"]


@dataclass(frozen=True)
class SiteParts:
    """A web address split for display: ``scheme + muted + domain + rest``."""

    scheme: str
    """``https://`` or ``http://``."""
    muted: str
    """The labels in front of the registrable domain, with their trailing dot."""
    domain: str
    """The registrable domain (or the whole host for an IP address or a one-label name)."""
    rest: str
    """Port, path and query as given."""
    converted: bool
    """The host had non-ASCII letters and is shown in its ASCII (punycode) form."""

    @property
    def secure(self) -> bool:
        """Whether the address uses HTTPS."""
        return self.scheme == "https://"


def _ascii_host(host: str) -> tuple[str, bool]:
    if host.isascii():
        return host, False
    try:
        return host.encode("idna").decode("ascii"), True
    except UnicodeError:
        return host, False


def site_parts(url: str | None) -> SiteParts | None:
    """``url`` split for display, or None when it is not an http(s) address with a host."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    host, converted = _ascii_host(host.rstrip("."))
    domain = registrable_domain(host)
    muted = host[: len(host) - len(domain)] if host.endswith(domain) else ""
    # Credentials in the address (user@host) are left out: they can make a host look like
    # another one, and they are never part of where the money goes.
    rest = (f":{port}" if port is not None else "") + parts.path
    if parts.query:
        rest += "?" + parts.query
    if ":" in domain:
        domain = f"[{domain}]"
    return SiteParts(
        scheme=f"{parts.scheme}://",
        muted=muted,
        domain=domain,
        rest=rest,
        converted=converted,
    )
