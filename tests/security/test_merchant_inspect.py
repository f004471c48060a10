"""``merchant inspect`` reads hostile pages: nothing private is sent, every read is bounded,
and nothing it prints can drive a terminal (docs/security.md, "Merchant inspect")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.inspection.sites import Sites, running_sites
from tests.support.ports import free_port

from link_cli.commands import merchant as merchant_command
from link_cli.commands._spec import UNDEFINED
from link_cli.errors import InvalidInput, Unknown
from link_cli.inspection import Inspection, inspect_merchant, parse_resolve
from link_cli.inspection import inspect as inspect_module
from link_cli.inspection.inspect import InspectError


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    with running_sites() as running:
        yield running


def _inspect(sites: Sites, path: str, **options: object) -> dict:
    hosts = ("shop.test", "pay.shop.test", "elsewhere.test")
    return inspect_merchant(
        Inspection(url=sites.url("shop.test", path), resolve=sites.resolve(*hosts), **options)
    )


def test_no_cookie_or_credential_is_ever_sent(sites: Sites) -> None:
    sites.seen.clear()
    _inspect(sites, "/go", headers=("Accept: text/html",))
    assert len(sites.seen) >= 3  # the page, its redirects and the policy files
    assert all(not {"cookie", "authorization"} & set(headers) for headers in sites.seen)
    for header in ("Cookie: session=1", "authorization: Bearer x", "Proxy-Authorization: x"):
        with pytest.raises(InspectError, match="never sends credentials"):
            _inspect(sites, "/checkout", headers=(header,))


def test_the_command_sanitises_what_it_prints_and_checks_resolve(sites: Sites) -> None:
    params = {
        "url": sites.url("shop.test", "/hostile"),
        "method": UNDEFINED,
        "data": UNDEFINED,
        "header": [],
        "expectDomain": UNDEFINED,
        "resolve": [f"shop.test:{sites.port}:127.0.0.1"],
    }
    report = merchant_command.inspect(params, None)  # type: ignore[arg-type]
    assert report["title"] == "Shop now"
    assert "\x1b" not in json.dumps(report)
    with pytest.raises(InvalidInput, match="HOST:PORT:ADDRESS"):
        merchant_command.inspect({**params, "resolve": ["shop.test:80:not-an-ip"]}, None)  # type: ignore[arg-type]
    unreachable = {**params, "url": f"http://127.0.0.1:{free_port()}/", "resolve": []}
    with pytest.raises(Unknown, match="Request failed"):
        merchant_command.inspect(unreachable, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="drop the Cookie header"):
        merchant_command.inspect({**params, "header": ["Cookie: a=b"]}, None)  # type: ignore[arg-type]
    assert parse_resolve(["Shop.Test:443:[::1]"]) == {("shop.test", 443): "::1"}


def test_redirects_are_bounded(sites: Sites) -> None:
    report = _inspect(sites, "/loop")
    assert report["status"] == 302 and len(report["redirects"]) == 3
    assert report["verdict"]["credential_type"] == "unknown"


def test_bodies_are_read_up_to_a_bound(sites: Sites, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 3 MiB page is read up to the bound: the checkout before the cut still counts.
    assert _inspect(sites, "/huge")["verdict"]["credential_type"] == "card"
    # With a bound that ends before the card form, the form is never seen.
    monkeypatch.setattr(inspect_module, "PAGE_BYTES", 200)
    assert _inspect(sites, "/checkout")["verdict"]["credential_type"] == "unknown"


def test_the_whole_inspection_has_a_deadline(sites: Sites, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inspect_module, "TOTAL_SECONDS", 0.0)
    with pytest.raises(InspectError, match="longer than 0 seconds"):
        _inspect(sites, "/checkout")
