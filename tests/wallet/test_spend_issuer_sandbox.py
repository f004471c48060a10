"""The sandbox issuer: one credential of the right kind for an approved request."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from link_cli.wallet.domain import spend_request as sr
from link_cli.wallet.domain.credentials import is_sandbox_card_number
from link_cli.wallet.domain.spend_request import CredentialType, SpendRequest, Status
from link_cli.wallet.issuing.base import FundingCard, Issuer, IssuingError
from link_cli.wallet.issuing.sandbox import SandboxIssuer

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FUNDING = FundingCard(
    id="csmrpd_1",
    brand="mastercard",
    last4="4444",
    billing_address={"name": "Ada Lovelace", "line1": "1 Main St", "country": "US"},
)


def approved(**changes: object) -> SpendRequest:
    request = SpendRequest(
        id="lsrq_1",
        user_id="usr_1",
        status=Status.CREATED,
        credential_type=CredentialType.CARD,
        amount=5000,
        currency="usd",
        context="c" * 100,
        payment_method_id="csmrpd_1",
        created_at=T0,
        updated_at=T0,
        approval_expires_at=T0 + timedelta(minutes=10),
        expires_at=T0 + timedelta(hours=12),
        merchant_name="Shop",
        merchant_url="https://shop.example",
    )
    request = dataclasses.replace(request, **changes)
    return sr.approve(request, now=T0 + timedelta(minutes=1))


def test_sandbox_issuer_satisfies_the_protocol() -> None:
    issuer: Issuer = SandboxIssuer()
    assert issuer is not None


def test_card_is_a_sandbox_visa_valid_until_the_request_ends() -> None:
    card = SandboxIssuer().issue_card(approved(), FUNDING, T0 + timedelta(minutes=1))
    assert is_sandbox_card_number(card.number)
    assert card.brand == "visa"
    assert len(card.cvc) == 3 and card.cvc.isdigit()
    assert card.valid_until == T0 + timedelta(hours=12)
    assert (card.exp_month, card.exp_year) == (11, 2026)
    assert card.billing_address == FUNDING.billing_address
    assert card.id.startswith("vcard_")
    assert card.livemode is True  # a live request: only a live merchant key redeems it
    test_card = SandboxIssuer().issue_card(approved(test=True), FUNDING, T0 + timedelta(minutes=1))
    assert test_card.livemode is False
    assert card.last4 == card.number[-4:]


def test_card_secrets_stay_out_of_reprs() -> None:
    card = SandboxIssuer().issue_card(approved(), FUNDING, T0)
    assert card.number not in repr(card)
    assert f"cvc='{card.cvc}'" not in repr(card)


def test_each_card_gets_its_own_number() -> None:
    issuer = SandboxIssuer()
    numbers = {issuer.issue_card(approved(), FUNDING, T0).number for _ in range(20)}
    assert len(numbers) > 1


def test_spt_is_bound_to_seller_amount_and_currency() -> None:
    request = approved(
        credential_type=CredentialType.SHARED_PAYMENT_TOKEN,
        merchant_name=None,
        merchant_url=None,
        network_id="profile_seller",
        amount=1234,
        currency="eur",
    )
    token = SandboxIssuer().issue_spt(request, T0 + timedelta(minutes=1))
    assert token.id.startswith("spt_")
    assert (token.network_id, token.max_amount, token.currency) == ("profile_seller", 1234, "eur")
    assert token.valid_until == T0 + timedelta(hours=12)
    assert token.livemode is True
    test_request = dataclasses.replace(request, test=True)
    assert SandboxIssuer().issue_spt(test_request, T0 + timedelta(minutes=1)).livemode is False


def test_nothing_is_issued_for_an_unapproved_request() -> None:
    pending = dataclasses.replace(approved(), status=Status.PENDING_APPROVAL, valid_until=None)
    with pytest.raises(IssuingError, match="not approved"):
        SandboxIssuer().issue_card(pending, FUNDING, T0)


def test_the_credential_type_must_match() -> None:
    with pytest.raises(IssuingError, match="asks for card"):
        SandboxIssuer().issue_spt(approved(), T0)


def test_nothing_is_issued_past_valid_until() -> None:
    with pytest.raises(IssuingError, match="valid_until"):
        SandboxIssuer().issue_card(approved(), FUNDING, T0 + timedelta(hours=12))
