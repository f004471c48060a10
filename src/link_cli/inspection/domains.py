"""Registrable domains (Public Suffix List) and look-alikes of the domain a person named.

The registrable domain ("eTLD+1") is what a person means by "the shop's site": a redirect
from ``www.shop.example`` to ``pay.shop.example`` stays on it, one to ``shop-pay.example``
does not. ``publicsuffixlist`` bundles the list, so nothing is fetched at run time.
"""

from __future__ import annotations

import contextlib
import ipaddress
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["host_label", "is_domain_name", "lookalike_reason", "registrable_domain", "skeleton"]

# Characters that render like a Latin letter or digit (Unicode's confusables, the part that
# matters for domain names: Cyrillic and Greek letters, and digits standing in for letters).
_CONFUSABLE = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i",
        "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
        "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "υ": "u",
        "ɑ": "a", "ǀ": "l", "0": "o", "1": "l", "3": "e", "5": "s",
    }
)  # fmt: skip
# Letter pairs that read as one letter at a glance.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("i", "l"))


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def host_label(host: str) -> str:
    """`host` in Unicode (punycode labels decoded), lower case, without a trailing dot."""
    host = host.strip().rstrip(".").lower()
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return ".".join(labels)


def registrable_domain(host: str) -> str:
    """The registrable domain of `host`; an IP address or a bare name is its own domain."""
    host = host.strip().rstrip(".").lower().strip("[]")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        ascii_host = host
    return _psl().privatesuffix(ascii_host) or ascii_host


def is_domain_name(word: str) -> bool:
    """True when `word` is a name under a known public suffix (``shop.com``, not ``Node.js``)."""
    word = word.strip().rstrip(".").lower()
    if "." not in word or not word.isascii():
        return False
    suffix = _psl().publicsuffix(word, accept_unknown=False)
    return suffix is not None and suffix != word


def skeleton(domain: str) -> str:
    """What `domain` looks like: NFKC, confusable letters and letter pairs folded, no dashes."""
    text = unicodedata.normalize("NFKC", host_label(domain)).translate(_CONFUSABLE)
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return text.replace("-", "")


def _distance_at_most_one(a: str, b: str) -> bool:
    """True when one edit (insert, delete, replace or swap of neighbours) turns a into b."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) <= 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def lookalike_reason(host: str, expected: str) -> str | None:
    """Why `host` may imitate the `expected` domain, or None when it is that domain or unlike it.

    Compares registrable domains: the same one is fine; punycode, confusable letters or a
    one-letter typo of the expected name is a look-alike.
    """
    actual, wanted = registrable_domain(host), registrable_domain(expected)
    if actual == wanted:
        return None
    shown = host_label(actual)
    named = f"{actual} ({shown})" if shown != actual else actual
    full = host_label(host)
    if full.startswith(wanted + ".") or f".{wanted}." in full:
        return f"{full} puts {wanted} in front of another domain, {actual}"
    punycode = "xn--" in actual
    if skeleton(actual) == skeleton(wanted):
        kind = "punycode" if punycode else "look-alike letters"
        return f"{named} imitates {wanted} with {kind}"
    name_a, name_w = host_label(actual.split(".", 1)[0]), wanted.split(".", 1)[0]
    if skeleton(name_a) == skeleton(name_w):
        return f"{named} uses the name of {wanted} under another suffix"
    if _distance_at_most_one(name_a, name_w):
        return f"{actual} differs from {wanted} by one letter"
    return None
