"""Issued virtual cards are secrets: never in the database file in clear, never in a log
line, shown only to their owner's agent with ``include=card``."""

from __future__ import annotations

import sqlite3

from tests.support.approvals import approve_spend_request, card_body, new_agent
from tests.support.wallet import WalletProcess


def test_virtual_cards_never_reach_the_database_or_the_log_in_clear(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet: WalletProcess = make_wallet()
    agent = new_agent(wallet)
    try:
        cards = []
        for _ in range(3):
            created = agent.create_ok(card_body(amount=1500))
            approve_spend_request(agent.person, created["approval_url"])
            cards.append(agent.retrieve(created["id"], include="card").json()["card"])
        token_request = agent.create_ok(
            agent.seller_spt_body(amount=1234)
        )  # no 3-digit values stored
        approve_spend_request(agent.person, token_request["approval_url"])
        spt = agent.retrieve(token_request["id"], include="shared_payment_token").json()
        assert spt["shared_payment_token"]["id"].startswith("spt_")
    finally:
        agent.close()
    wallet.stop()  # checkpoints the WAL, so the files hold everything

    files = sorted(wallet.data_dir.glob("wallet.db*"))
    assert files
    for path in files:
        raw = path.read_bytes()
        for card in cards:
            assert card["number"].encode() not in raw, f"card number in clear in {path.name}"
    values = wallet.stored_values()
    for card in cards:
        assert card["cvc"] not in values
        assert not any(card["number"] in value for value in values)
        # The last four digits are stored (they are shown without include=card).
        assert card["number"][-4:] in values

    log = wallet.log_text()
    assert "/spend_requests" in log  # the requests were logged...
    for card in cards:  # ...but not what they returned
        assert card["number"] not in log
        assert f'"cvc": "{card["cvc"]}"' not in log and f'"cvc":"{card["cvc"]}"' not in log


def test_card_secrets_are_encrypted_per_credential(make_wallet) -> None:  # type: ignore[no-untyped-def]
    wallet: WalletProcess = make_wallet()
    agent = new_agent(wallet)
    try:
        created = agent.create_ok(card_body())
        approve_spend_request(agent.person, created["approval_url"])
        card = agent.retrieve(created["id"], include="card").json()["card"]
    finally:
        agent.close()
    with sqlite3.connect(wallet.data_dir / "wallet.db") as connection:
        number, cvc, fingerprint = connection.execute(
            "SELECT card_number_encrypted, card_cvc_encrypted, card_fingerprint "
            "FROM issued_credentials WHERE id = ?",
            (card["id"],),
        ).fetchone()
    assert number.startswith("k1:") and cvc.startswith("k1:")
    assert number != cvc
    assert len(fingerprint) == 64 and card["number"] not in fingerprint
