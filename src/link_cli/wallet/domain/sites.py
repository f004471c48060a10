"""Where money goes: the registrable domain of a site (the public suffix plus one label).

``paypal.com.evil.example`` belongs to ``evil.example``. The approval pages show it and
spending policies match merchant allow- and deny-lists on it. The public suffix list comes
from ``publicsuffixlist``, whose wheel bundles a snapshot of the list, so nothing is fetched
at run time (docs/security.md, "Trustworthy approval pages").
"""

from __future__ import annotations

import ipaddress
from functools import cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

__all__ = ["registrable_domain", "registrable_domain_of_url"]


@cache
def _suffix_list() -> PublicSuffixList:
    # Parsing the bundled list takes tens of milliseconds: once per process, when first used.
    return PublicSuffixList()


def registrable_domain(host: str) -> str:
    """``evil.example`` for ``paypal.com.evil.example``; IP addresses and names the list
    does not split (``localhost``) are returned whole."""
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    found = _suffix_list().privatesuffix(host)
    return found if found else host


def registrable_domain_of_url(url: str | None) -> str | None:
    """The registrable domain of an http(s) address (ASCII form), or None without a host."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return registrable_domain(host)
