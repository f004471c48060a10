"""No card enumeration, no card burning by strangers (docs/security.md, "Card enumeration and
card burning").

Real wallet processes: one SQLite wallet for what a merchant key learns and can do, and three
processes sharing one PostgreSQL database (with the merchant lock on) for the per-key budget
of failed authorizations, raced from threads, and for the lock. Cards come from the real Link
API (delegated spend requests); merchants are written in-process as ``merchant create`` would.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.redemption.delegated import (
    DelegatedAgent,
    Merchant,
    card_form,
    confirm,
    register_merchant,
)
from tests.support.person import Person, bearer, refresh_tokens, wallet_tokens
from tests.support.racing import race
from tests.support.wallet import WalletProcess

from link_cli.wallet.domain.cards import luhn_valid
from link_cli.wallet.domain.redemption import MAX_FOREIGN_FAILED_CARD_ATTEMPTS
from link_cli.wallet.store.crypto import sha256_hex
from link_cli.wallet.store.engine import Database
from link_cli.wallet.store.models.accounts import AuthAttempt
from link_cli.wallet.store.models.merchants import PaymentIntentRecord

pytestmark = pytest.mark.server

SHOP = "https://shop.example/checkout"  # the merchant_url the person approves
CARD_LIMIT = 5  # LINK_WALLET_THROTTLE_CARD_FAILURES_PER_KEY of the PostgreSQL cluster
GUESSES = 30
SHARED_SECRET = "card-guard-tests-shared-secret-key-0123456789"
CARD_VALIDITY_SECONDS = 43200  # LimitSettings.credential_validity_seconds

_POSTGRES_URL = os.environ.get(POSTGRES_ENV)  # read before the autouse fixture clears LINK_*


@pytest.fixture(scope="module")
def guard_wallet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletProcess]:
    """A SQLite wallet of this module's own (its clock is moved by the expiry test)."""
    with WalletProcess.start(tmp_path_factory.mktemp("card-guard")) as process:
        yield process


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[WalletProcess]]:
    """Three wallet processes on one PostgreSQL database, a small per-key budget, the lock on."""
    if not _POSTGRES_URL:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(_POSTGRES_URL, migrated=True)
    env = {
        "LINK_WALLET_SECRET_KEY": SHARED_SECRET,
        "LINK_WALLET_THROTTLE_CARD_FAILURES_PER_KEY": str(CARD_LIMIT),
        "LINK_WALLET_CARD_MERCHANT_LOCK": "on",
    }
    started: list[WalletProcess] = []
    try:
        for i in range(3):
            directory = tmp_path_factory.mktemp(f"card-guard-pg-{i}")
            started.append(WalletProcess.start(directory, database_url=url, env=env))
        yield started
    finally:
        for process in started:
            process.stop()


class Holder:
    """A person with a card, and their agent logged in with the approve scope."""

    def __init__(self, wallet: WalletProcess) -> None:
        self.person: Person = wallet.create_person()
        tokens = wallet_tokens(
            wallet,
            self.person,
            scope="userinfo:read payment_methods.agentic spend_requests:approve",
            grant_approve_scope=True,
        )
        assert self.person.payment_method_id is not None
        self.tokens = tokens
        self.agent = DelegatedAgent(
            wallet=wallet,
            payment_method_id=self.person.payment_method_id,
            headers=bearer(tokens),
        )
        self._amount = 100

    def card(self, merchant_url: str = SHOP) -> tuple[str, dict[str, Any]]:
        """A new approved card spend request for ``merchant_url``: (id, card object)."""
        self._amount += 1  # identical active requests would be refused as duplicates
        created = self.agent.create_delegated(
            {
                "credential_type": "card",
                "merchant_name": "Trailhead Supply Co.",
                "merchant_url": merchant_url,
                "amount": self._amount,
                "currency": "usd",
            }
        )
        card = self.agent.retrieve(created["id"], "card")["card"]
        assert len(card["number"]) >= 12
        return created["id"], card

    def status(self, request_id: str) -> str:
        return str(self.agent.retrieve(request_id)["status"])


def _merchant(wallet: WalletProcess, site: str | None) -> Merchant:
    return register_merchant(wallet, url=site)


def _wrong(digits: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in digits)


def _unknown_number(like: str) -> str:
    """A Luhn-valid number of the same length and prefix as ``like`` that was never issued."""
    while True:
        body = like[:6] + "".join(secrets.choice("0123456789") for _ in range(len(like) - 7))
        for check in "0123456789":
            if luhn_valid(body + check) and body + check != like:
                return body + check


def _shape(value: Any) -> Any:
    """The keys and value types of a JSON value: what is left once ids and times differ."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _answer(response: httpx2.Response) -> str:
    """Everything a merchant can compare between two declines, ids and times left out."""
    error = response.json()["error"]
    return json.dumps(
        [
            response.status_code,
            error["type"],
            error.get("code"),
            error.get("decline_code"),
            error.get("message"),
            error.get("param"),
            error["payment_intent"]["status"],
            error["payment_intent"]["last_payment_error"],
            _shape(response.json()),
            sorted(k for k in response.headers if k.lower() not in {"date", "request-id"}),
        ],
        sort_keys=True,
    )


def _rows(wallet: WalletProcess, query: Any) -> int:
    database = Database(wallet.database_url or f"sqlite:///{wallet.data_dir / 'wallet.db'}")
    try:
        with database.session_scope() as session:
            return int(session.scalar(query) or 0)
    finally:
        database.dispose()


# --- what a merchant key learns -----------------------------------------------------------


def test_a_scan_and_wrong_details_get_one_answer_whoever_asks(guard_wallet: WalletProcess) -> None:
    holder = Holder(guard_wallet)
    shop = _merchant(guard_wallet, "https://shop.example")
    stranger = _merchant(guard_wallet, "https://elsewhere.example")
    unregistered = _merchant(guard_wallet, None)
    live_id, live = holder.card()
    used_id, used = holder.card()
    assert confirm(guard_wallet, shop, card_form(used, amount=100)).status_code == 200

    presentations = {
        **{f"unknown number {i}": {"number": _unknown_number(live["number"])} for i in range(6)},
        "wrong expiry year": {"exp_year": str(int(live["exp_year"]) + 1)},
        "wrong expiry month": {"exp_month": str(int(live["exp_month"]) % 12 + 1)},
        "wrong cvc": {"cvc": _wrong(live["cvc"])},
    }
    answers: dict[str, str] = {}
    for who in (stranger, unregistered, shop):
        for name, changes in presentations.items():
            if who is shop and name == "wrong expiry month":
                continue  # a third wrong try by the card's own merchant burns it (tested below)
            response = confirm(guard_wallet, who, card_form(live, amount=100, **changes))
            answers[f"{name} by {who.id}"] = _answer(response)
        # A used card, even with its right details, answers the same to everyone.
        answers[f"used card by {who.id}"] = _answer(
            confirm(guard_wallet, who, card_form(used, amount=100))
        )
    distinct = set(answers.values())
    assert len(distinct) == 1, answers
    status, kind, code, decline_code, message, *_ = json.loads(distinct.pop())
    assert (status, kind, code, decline_code, message) == (
        402,
        "card_error",
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    )
    # Nothing was harmed: the wrong details (two by the card's own merchant) did not burn it.
    assert holder.status(live_id) == "approved"
    assert holder.status(used_id) == "succeeded"
    assert confirm(guard_wallet, shop, card_form(live, amount=100)).status_code == 200


def test_strangers_wrong_cvcs_never_burn_the_card(guard_wallet: WalletProcess) -> None:
    holder = Holder(guard_wallet)
    shop = _merchant(guard_wallet, "https://SHOP.example.")  # hosts compare case-insensitively
    stranger = _merchant(guard_wallet, "https://elsewhere.example")
    unregistered = _merchant(guard_wallet, None)
    request_id, card = holder.card()
    wrong = card_form(card, amount=100, cvc=_wrong(card["cvc"]))
    for who in [stranger, unregistered] * (MAX_FOREIGN_FAILED_CARD_ATTEMPTS // 2):
        assert confirm(guard_wallet, who, wrong).status_code == 402
    assert holder.status(request_id) == "approved"
    # After that many foreign failures the card is examined only for its own merchant: the
    # right details from a stranger are declined, and the purchase still goes through.
    right = card_form(card, amount=100)
    declined = confirm(guard_wallet, stranger, right)
    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "generic_decline"
    assert holder.status(request_id) == "approved"
    assert confirm(guard_wallet, shop, right).status_code == 200
    assert holder.status(request_id) == "succeeded"


def test_the_cards_own_merchant_burns_it_and_the_agent_learns_why(
    guard_wallet: WalletProcess,
) -> None:
    holder = Holder(guard_wallet)
    shop = _merchant(guard_wallet, "http://shop.example:8080")  # the host is what counts
    request_id, card = holder.card()
    wrong = card_form(card, amount=100, cvc=_wrong(card["cvc"]))
    for _ in range(3):
        response = confirm(guard_wallet, shop, wrong)
        assert response.json()["error"]["decline_code"] == "generic_decline"
    spend = holder.agent.retrieve(request_id)
    assert spend["status"] == "failed"
    assert spend["payment_status_details"]["decline_code"] == "incorrect_cvc"
    assert confirm(guard_wallet, shop, card_form(card, amount=100)).status_code == 402


def test_card_details_are_gone_once_the_card_is_used(guard_wallet: WalletProcess) -> None:
    holder = Holder(guard_wallet)
    shop = _merchant(guard_wallet, "https://shop.example")
    request_id, card = holder.card()
    assert confirm(guard_wallet, shop, card_form(card, amount=100)).status_code == 200
    spend = holder.agent.retrieve(request_id, "card")
    assert spend["status"] == "succeeded"
    assert "card" not in spend
    assert (spend["card_brand"], spend["card_last4"]) == (card["brand"], card["number"][-4:])
    # The person's pages never show a virtual card's number, only its last four digits.
    if not holder.person.is_signed_in():
        holder.person.sign_in()
    home = holder.person.client.get("/wallet")
    approval = holder.person.client.get(f"/approve/{request_id}")
    assert home.status_code == approval.status_code == 200
    assert card["number"] not in home.text + approval.text
    assert card["number"][-4:] in approval.text


# --- the per-key budget and the merchant lock (PostgreSQL, three processes) ----------------


def test_concurrent_guesses_of_one_key_examine_exactly_the_limit(
    cluster: list[WalletProcess],
) -> None:
    holder = Holder(cluster[0])
    _request_id, card = holder.card()
    scanner = _merchant(cluster[0], "https://scanner.example")
    forms = [
        card_form(card, amount=100, number=_unknown_number(card["number"])) for _ in range(GUESSES)
    ]
    calls = [
        (lambda i=i: confirm(cluster[i % len(cluster)], scanner, forms[i])) for i in range(GUESSES)
    ]
    responses = race(calls)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {402: CARD_LIMIT, 429: GUESSES - CARD_LIMIT}, statuses
    refused = next(r for r in responses if r.status_code == 429)
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert "payment_intent" not in error
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    # Examined = a PaymentIntent recorded; kept = one attempt row per examined failure.
    examined = select(func.count(PaymentIntentRecord.id)).where(
        PaymentIntentRecord.merchant_id == scanner.id
    )
    assert _rows(cluster[0], examined) == CARD_LIMIT
    kept = select(func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == "card_failure", AuthAttempt.key_hash == sha256_hex(scanner.id)
    )
    assert _rows(cluster[0], kept) == CARD_LIMIT
    # The refusal comes before any card is looked at, even the right one; other keys go on.
    assert confirm(cluster[1], scanner, card_form(card, amount=100)).status_code == 429
    shop = _merchant(cluster[0], "https://shop.example")
    assert confirm(cluster[2], shop, card_form(card, amount=100)).status_code == 200


def test_payments_do_not_spend_the_budget(cluster: list[WalletProcess]) -> None:
    holder = Holder(cluster[0])
    shop = _merchant(cluster[0], "https://shop.example")
    for i in range(CARD_LIMIT + 1):
        _request_id, card = holder.card()
        paid = confirm(cluster[i % len(cluster)], shop, card_form(card, amount=100))
        assert paid.status_code == 200, paid.text


def test_the_merchant_lock_declines_every_other_merchant_alike(
    cluster: list[WalletProcess],
) -> None:
    holder = Holder(cluster[0])
    shop = _merchant(cluster[0], "https://shop.example")
    elsewhere = _merchant(cluster[0], "https://elsewhere.example")
    unregistered = _merchant(cluster[0], None)
    request_id, card = holder.card()
    right = card_form(card, amount=100)
    unknown = card_form(card, amount=100, number=_unknown_number(card["number"]))
    baseline = _answer(confirm(cluster[1], elsewhere, unknown))
    for who in (elsewhere, unregistered):
        assert _answer(confirm(cluster[1], who, right)) == baseline
    assert holder.status(request_id) == "approved"
    assert confirm(cluster[2], shop, right).status_code == 200


# --- expiry (moves the module wallet's clock: keep it last) --------------------------------


def test_an_expired_card_is_neither_shown_nor_told_apart(guard_wallet: WalletProcess) -> None:
    holder = Holder(guard_wallet)
    shop = _merchant(guard_wallet, "https://shop.example")
    request_id, card = holder.card()
    unknown = _answer(
        confirm(
            guard_wallet, shop, card_form(card, amount=100, number=_unknown_number(card["number"]))
        )
    )
    guard_wallet.advance_clock(CARD_VALIDITY_SECONDS + 60)
    holder.agent.headers = bearer(refresh_tokens(guard_wallet, holder.tokens))
    spend = holder.agent.retrieve(request_id, "card")
    assert spend["status"] == "expired" and "card" not in spend
    assert spend["card_last4"] == card["number"][-4:]
    assert _answer(confirm(guard_wallet, shop, card_form(card, amount=100))) == unknown
