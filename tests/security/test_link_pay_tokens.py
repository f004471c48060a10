"""Link Pay Tokens (docs/security.md, "Link Pay Tokens"): one-time across processes, bound to
one merchant account, never pre-approved, shown only while they can pay; and the pure rules
and parameters behind them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from tests.redemption.delegated import Merchant, delegated_agent, register_merchant
from tests.support.approvals import ApiAgent, approve_spend_request, card_body, new_agent
from tests.support.racing import race
from tests.support.wallet import WalletProcess

from link_cli.wallet.domain.payment_intent_params import (
    parse_payment_intent_confirm,
    parse_payment_intent_create,
)
from link_cli.wallet.domain.redemption import LPT, Effect, TokenSnapshot, judge_token
from link_cli.wallet.domain.stripe_errors import StripeError

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TOKEN = "lpt_" + "a" * 32
ACCOUNT = "acct_shop"
RACERS = 8


# -- pure rules -------------------------------------------------------------------------------


def token(**changes: object) -> TokenSnapshot:
    base = TokenSnapshot(
        id=TOKEN,
        bound_to=ACCOUNT,
        max_amount=1000,
        currency="usd",
        expires_at=NOW + timedelta(minutes=30),
        consumed=False,
        usable=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def verdict(snapshot: TokenSnapshot | None, *, presenter: str = ACCOUNT, amount: int = 1000,
            currency: str = "usd", now: datetime = NOW) -> tuple[str, Effect] | None:  # fmt: skip
    refusal = judge_token(
        snapshot,
        kind=LPT,
        token=TOKEN,
        presenter=presenter,
        amount=amount,
        currency=currency,
        now=now,
    )
    return None if refusal is None else (str(refusal.error.code), refusal.effect)


def test_the_token_rules() -> None:
    assert verdict(token()) is None
    assert verdict(token(), amount=999) is None
    unknown = ("resource_missing", Effect.NONE)
    assert verdict(None) == unknown
    assert verdict(token(), presenter="acct_other") == unknown
    assert verdict(token(bound_to=None)) == unknown
    assert verdict(token(consumed=True)) == ("link_pay_token_consumed", Effect.NONE)
    assert verdict(token(), now=NOW + timedelta(minutes=30)) == (
        "link_pay_token_expired",
        Effect.NONE,
    )
    assert verdict(token(usable=False)) == ("link_pay_token_revoked", Effect.NONE)
    assert verdict(token(), currency="eur") == ("currency_mismatch", Effect.BURN)
    assert verdict(token(), amount=1001) == ("amount_too_large", Effect.BURN)
    # Another merchant learns nothing, even about a spent or expired token.
    for spent in (token(consumed=True), token(expires_at=NOW)):
        assert verdict(spent, presenter="acct_other") == unknown


BASE = {"amount": "1000", "currency": "usd", "confirm": "true"}


def lpt_data(**fields: str) -> dict[str, object]:
    return {"payment_method_data": {"type": "link_pay_token", **fields}}


def test_the_redemption_parameter() -> None:
    params = parse_payment_intent_create(BASE | lpt_data(link_pay_token=f" {TOKEN} "))
    assert (params.lpt, params.spt, params.card) == (TOKEN, None, None)
    assert parse_payment_intent_confirm(lpt_data(link_pay_token=TOKEN)).lpt == TOKEN
    for form, code, param in (
        (BASE | lpt_data(), "parameter_missing", "payment_method_data[link_pay_token]"),
        (BASE | lpt_data(link_pay_token=""), "parameter_missing", None),
        (BASE | lpt_data(link_pay_token=TOKEN, card="x"), "parameter_unknown", None),
        (
            BASE | lpt_data(link_pay_token=TOKEN) | {"shared_payment_granted_token": "spt_x"},
            "parameter_missing",
            "shared_payment_granted_token",
        ),
        (  # never stored unconfirmed, like card details
            BASE | lpt_data(link_pay_token=TOKEN) | {"confirm": "false"},
            "parameter_invalid",
            "payment_method_data",
        ),
    ):
        with pytest.raises(StripeError) as caught:
            parse_payment_intent_create(form)
        assert caught.value.code == code, form
        if param is not None:
            assert caught.value.param == param


# -- a real wallet and a second process on its database ---------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def wallet(request: pytest.FixtureRequest) -> WalletProcess:
    """The session's SQLite wallet, then its PostgreSQL one."""
    return request.getfixturevalue("wallet" if request.param == "sqlite" else "pg_wallet")


@pytest.fixture(scope="module")
def peer(wallet: WalletProcess) -> Iterator[WalletProcess]:
    """A second ``link-wallet serve`` on the same database."""
    with WalletProcess.start(wallet.data_dir, database_url=wallet.database_url) as process:
        yield process


@pytest.fixture(scope="module")
def shop(wallet: WalletProcess) -> Merchant:
    return register_merchant(wallet)


@pytest.fixture(scope="module")
def agent(wallet: WalletProcess) -> Iterator[ApiAgent]:
    someone = new_agent(wallet)
    yield someone
    someone.close()


def lpt_body(account: str, amount: int) -> dict[str, object]:
    return card_body(
        amount=amount,
        merchant_name=...,
        merchant_url=...,
        execution_method="link_pay_token",
        merchant_account_id=account,
    )


def approved(agent: ApiAgent, shop: Merchant, amount: int) -> tuple[str, str]:
    created = agent.create_ok(lpt_body(shop.id, amount))
    approve_spend_request(agent.person, created["approval_url"])
    shown = agent.retrieve(created["id"], include="link_pay_token").json()
    return created["id"], shown["link_pay_token"]


def redeem(wallet: WalletProcess, shop: Merchant, lpt: str, amount: int) -> httpx2.Response:
    form = {
        "amount": str(amount),
        "currency": "usd",
        "confirm": "true",
        "payment_method_data[type]": "link_pay_token",
        "payment_method_data[link_pay_token]": lpt,
    }
    return httpx2.post(f"{wallet.url}/v1/payment_intents", data=form, headers=shop.auth, timeout=60)


@pytest.mark.server
def test_concurrent_redemptions_on_two_processes_succeed_once(
    wallet: WalletProcess, peer: WalletProcess, shop: Merchant, agent: ApiAgent
) -> None:
    request_id, lpt = approved(agent, shop, 1300)
    processes = [wallet, peer]
    answers = race(
        [
            lambda i=i: redeem(processes[i % 2], shop, lpt, 1300)  # type: ignore[misc]
            for i in range(RACERS)
        ]
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 1, [answer.text for answer in answers]
    assert [a.json()["error"]["code"] for a in answers if a.status_code != 200] == [
        "link_pay_token_consumed"
    ] * (RACERS - 1)
    assert agent.status_of(request_id) == "succeeded"


@pytest.mark.server
def test_shown_only_to_its_agent_while_it_can_pay_and_never_listed(
    wallet: WalletProcess, shop: Merchant, agent: ApiAgent
) -> None:
    request_id, lpt = approved(agent, shop, 1400)
    assert lpt.startswith("lpt_")
    assert lpt not in agent.client.get("/spend_requests").text
    assert lpt not in agent.retrieve(request_id).text  # not without include
    stranger = new_agent(wallet)
    try:
        assert stranger.retrieve(request_id, include="link_pay_token").status_code == 404
    finally:
        stranger.close()
    assert agent.cancel(request_id).status_code == 200
    assert "link_pay_token" not in agent.retrieve(request_id, include="link_pay_token").json()
    answer = redeem(wallet, shop, lpt, 1400)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "link_pay_token_revoked"


@pytest.mark.server
def test_never_pre_approved_and_never_for_a_name_the_agent_types(
    wallet: WalletProcess, shop: Merchant, agent: ApiAgent
) -> None:
    delegated = delegated_agent(wallet).post_delegated(
        {"execution_method": "link_pay_token", "merchant_account_id": shop.id, "amount": 500}
    )
    assert delegated.status_code == 400
    assert delegated.json()["error"]["code"] == "parameter_not_allowed"
    typed = agent.create(lpt_body(shop.id, 500) | {"merchant_name": "Typed Name"})
    assert typed.status_code == 400
    assert typed.json()["error"]["param"] == "merchant_name"
    created = agent.create_ok(lpt_body(shop.id, 500))
    moved = agent.update(created["id"], {"merchant_url": "https://elsewhere.example"})
    assert moved.status_code == 400
    assert agent.retrieve(created["id"]).json()["merchant_name"] == "Test Shop"
