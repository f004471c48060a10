"""One-time redemption holds across processes: several ``link-wallet serve`` processes on
one database, 20 concurrent confirmations of one SPT and of one card, exactly one wins."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from tests.redemption.delegated import (
    Merchant,
    card_form,
    delegated_agent,
    register_merchant,
    spt_form,
)
from tests.support.wallet import WalletProcess

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ATTEMPTS = 20


@pytest.fixture
def cluster(any_wallet: WalletProcess) -> Iterator[list[WalletProcess]]:
    """The wallet plus two more processes sharing its database and secret key."""
    peers = [
        WalletProcess.start(any_wallet.data_dir, database_url=any_wallet.database_url)
        for _ in range(2)
    ]
    try:
        yield [any_wallet, *peers]
    finally:
        for peer in peers:
            peer.stop()


def confirm_everywhere(
    cluster: list[WalletProcess], merchant: Merchant, form: dict[str, str]
) -> list[httpx2.Response]:
    def confirm(index: int) -> httpx2.Response:
        wallet = cluster[index % len(cluster)]
        return httpx2.post(
            f"{wallet.url}/v1/payment_intents", data=form, headers=merchant.auth, timeout=60
        )

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        return list(pool.map(confirm, range(ATTEMPTS)))


def test_one_spt_redeemed_concurrently_on_three_processes_succeeds_once(
    cluster: list[WalletProcess],
) -> None:
    merchant = register_merchant(cluster[0])
    agent = delegated_agent(cluster[0])
    request_id, spt = agent.approved_spt(merchant.network_id)
    responses = confirm_everywhere(cluster, merchant, spt_form(spt))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, [r.text for r in responses]
    others = [r.json()["error"]["code"] for r in responses if r.status_code != 200]
    assert others == ["shared_payment_token_consumed"] * (ATTEMPTS - 1)
    spend = agent.retrieve(request_id)
    assert spend["status"] == "succeeded"
    assert spend["payment_status_details"]["outcome"] == "success"


def test_one_card_charged_concurrently_on_three_processes_succeeds_once(
    cluster: list[WalletProcess],
) -> None:
    merchant = register_merchant(cluster[0])
    agent = delegated_agent(cluster[0])
    request_id, card = agent.approved_card(amount=1850)
    responses = confirm_everywhere(cluster, merchant, card_form(card, amount=1850))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, [r.text for r in responses]
    assert statuses.count(402) == ATTEMPTS - 1
    assert agent.retrieve(request_id)["status"] == "succeeded"
