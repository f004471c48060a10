"""Registrable domains: the public suffix plus one label (``evil.example`` for
``paypal.com.evil.example``), which decides who a web address belongs to. The list comes
from ``publicsuffixlist``, whose wheel bundles a snapshot: nothing is fetched at run time."""

from __future__ import annotations

import ipaddress
from functools import cache

from publicsuffixlist import PublicSuffixList

__all__ = ["registrable_domain"]


@cache
def _suffix_list() -> PublicSuffixList:
    # Parsing the bundled list takes tens of milliseconds: once per process, when first needed.
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
