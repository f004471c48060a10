"""``mpp pay``'s merchant requests: the paid retry goes out on the probe's connection (one
TCP/TLS handshake per payment), and a connection the merchant closed is replaced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.sdk.test_connection_reuse import CountingServer, wait_until_closed_by_peer
from tests.support.threaded_server import serving

from link_cli.mpp import client


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[CountingServer]:
    counting = CountingServer(close_after_each=request.param)
    with serving(counting):
        yield counting
    client._IDLE.clear()


@pytest.mark.parametrize("server", [False], indirect=True)
def test_the_second_request_reuses_the_connection(server: CountingServer) -> None:
    probe = client.send(client.MerchantRequest.from_options(f"{server.url}/paid"))
    paid = client.send(
        client.MerchantRequest.from_options(
            f"{server.url}/paid", method="POST", data='{"a":1}', header_lines=["X-A: 1"]
        )
    )
    assert (probe.status, paid.status) == (200, 200)
    assert b'"received": "{\\"a\\":1}"' in paid.body
    assert server.connections == 1


@pytest.mark.parametrize("server", [True], indirect=True)
def test_a_connection_the_merchant_closed_is_replaced(server: CountingServer) -> None:
    answers = []
    for n in range(3):
        answers.append(client.send(client.MerchantRequest.from_options(f"{server.url}/{n}")))
        (idle,) = client._IDLE.values()
        wait_until_closed_by_peer(idle)
    assert [a.status for a in answers] == [200, 200, 200]
    assert server.connections == 3
