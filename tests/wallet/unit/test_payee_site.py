"""How the approval page splits a payee's web address: the registrable domain (public suffix
plus one label) is the part a look-alike cannot fake."""

from __future__ import annotations

import pytest

from link_cli.wallet.web.payee import registrable_domain, site_parts


@pytest.mark.parametrize(
    ("url", "muted", "domain", "rest"),
    [
        (
            "https://paypal.com.evil.example/checkout?x=1",
            "paypal.com.",
            "evil.example",
            "/checkout?x=1",
        ),
        ("https://www.paypal.com", "www.", "paypal.com", ""),
        ("https://shop.example.co.uk:8443/p", "shop.", "example.co.uk", ":8443/p"),
        ("https://alice.github.io/shop", "", "alice.github.io", "/shop"),  # a private suffix
        ("https://PayPal.COM./", "", "paypal.com", "/"),
        # user-info can make a host look like another one: it is never shown
        ("https://paypal.com@evil.example/pay", "", "evil.example", "/pay"),
        ("http://127.0.0.1:8725/approve", "", "127.0.0.1", ":8725/approve"),
        ("https://[::1]:8443/", "", "[::1]", ":8443/"),
    ],
)
def test_the_registrable_domain_is_split_out(url: str, muted: str, domain: str, rest: str) -> None:
    parts = site_parts(url)
    assert parts is not None
    assert (parts.muted, parts.domain, parts.rest) == (muted, domain, rest)


def test_international_letters_are_shown_in_ascii() -> None:
    parts = site_parts("https://pаypal.com/")  # a Cyrillic "а"
    assert parts is not None and parts.converted
    assert parts.domain.startswith("xn--") and parts.domain.endswith(".com")


@pytest.mark.parametrize(
    "url", [None, "", "ftp://paypal.com/", "javascript:alert(1)", "https://", "http://[::1"]
)
def test_anything_but_a_web_address_is_not_split(url: str | None) -> None:
    assert site_parts(url) is None


def test_plain_http_is_marked() -> None:
    parts = site_parts("http://shop.example/")
    assert parts is not None and not parts.secure


def test_names_the_list_does_not_split_stay_whole() -> None:
    assert registrable_domain("localhost") == "localhost"
    assert registrable_domain("10.0.0.1") == "10.0.0.1"
