"""``--resolve`` over HTTPS: only the socket goes to the pinned address.

The local sites answer over TLS with a certificate for ``shop.test`` from a throwaway
certificate authority (trustme) that only the ``link-cli`` under test trusts
(``SSL_CERT_FILE``). Pinning ``shop.test`` to loopback must still send ``shop.test`` as the
TLS server name and the ``Host``, and check the certificate against ``shop.test``: a name the
certificate does not cover is refused even though the address is the same.
"""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from tests.inspection.sites import Sites, running_sites
from tests.support.agent import LINK_CLI
from tests.support.environment import clean_env

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_sites(authority: trustme.CA) -> Iterator[Sites]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("shop.test").configure_cert(context)
    with running_sites(tls=context) as sites:
        yield sites


@pytest.fixture(scope="module")
def ca_file(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


def _inspect(ca_file: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINK_CLI, "merchant", "inspect", url, *args, "--format", "json"],
        capture_output=True,
        text=True,
        env=clean_env({"NO_UPDATE_NOTIFIER": "1", "SSL_CERT_FILE": str(ca_file)}),
        timeout=60,
        check=False,
    )


def test_a_pinned_https_site_keeps_its_name_for_sni_host_and_certificate(
    tls_sites: Sites, ca_file: Path
) -> None:
    url = tls_sites.url("shop.test", "/checkout")
    result = _inspect(ca_file, url, *tls_sites.resolve_args("shop.test"))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"]["credential_type"] == "card"
    assert report["checkout"]["cart_total"]["amount"] == 2400
    assert "shop.test" in tls_sites.server_names
    assert f"shop.test:{tls_sites.port}" in {seen.get("host") for seen in tls_sites.seen}


def test_a_pinned_name_the_certificate_does_not_cover_is_refused(
    tls_sites: Sites, ca_file: Path
) -> None:
    # Same address, same certificate: only the name in the URL differs.
    before = len(tls_sites.seen)
    url = tls_sites.url("elsewhere.test", "/checkout")
    result = _inspect(ca_file, url, *tls_sites.resolve_args("elsewhere.test"))
    assert result.returncode != 0
    error = json.loads(result.stdout or result.stderr)
    assert "certificate is not trusted" in error["message"]
    assert "not valid for 'elsewhere.test'" in error["message"]
    assert len(tls_sites.seen) == before  # no request was sent over the refused connection
