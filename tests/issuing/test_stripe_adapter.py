"""The Stripe Issuing adapter against the contract fake (in-process, real loopback HTTP):
idempotent retries, timeouts, Stripe's errors; webhook signatures; settings; merchant rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.stripe_fake import PUBLISHABLE_KEY, FakeStripe, running_fake, stripe_env

from link_cli.wallet.domain.issuing_authorization import merchant_matches
from link_cli.wallet.domain.sites import registrable_domain
from link_cli.wallet.domain.spend_request import CredentialType, SpendRequest, Status
from link_cli.wallet.issuing.base import (
    FundingCard,
    Holder,
    IssuerRejected,
    IssuerUnavailable,
    TermsAcceptance,
    WebhookRejected,
)
from link_cli.wallet.issuing.config import IssuerConfigError, issuer_settings_from_env
from link_cli.wallet.issuing.stripe_events import signature_header, verify_event
from link_cli.wallet.issuing.stripe_issuing import StripeIssuer, cardholder_name, cardholder_params

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
FUNDING = FundingCard(
    id="csmrpd_1",
    brand="visa",
    last4="4242",
    billing_address={
        "name": "Jenny Rosen",
        "line1": "510 Townsend St",
        "city": "San Francisco",
        "postal_code": "94103",
        "country": "US",
    },
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with running_fake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.02)


def _issuer(fake: FakeStripe, **env: str) -> StripeIssuer:
    return StripeIssuer(issuer_settings_from_env({**stripe_env(fake), **env}))


def _request(n: int, amount: int = 2500) -> SpendRequest:
    return SpendRequest(
        id=f"lsrq_adapter{n}_{NOW.timestamp():.0f}",
        user_id="usr_1",
        status=Status.APPROVED,
        credential_type=CredentialType.CARD,
        amount=amount,
        currency="usd",
        context="x",
        payment_method_id="csmrpd_1",
        created_at=NOW,
        updated_at=NOW,
        approval_expires_at=NOW + timedelta(minutes=10),
        expires_at=NOW + timedelta(hours=1),
        merchant_name="Rocket Rides",
        merchant_url="https://rocketrides.io",
        test=True,
        valid_until=NOW + timedelta(hours=1),
    )


HOLDER = Holder(user_id="usr_1", email="jenny@example.com", name="Jenny Rosen 3rd", phone=None)


def test_a_retry_after_a_lost_answer_creates_one_card(fake: FakeStripe) -> None:
    issuer = _issuer(fake)
    fake.fail_next(500, after_effect=True)  # created, but the answer is lost
    card = issuer.issue_card(_request(1), FUNDING, NOW, HOLDER)
    same = [c for c in fake.cards.values() if c["metadata"]["link_spend_request"] == _request(1).id]
    assert len(same) == 1 and same[0]["id"] == card.issuer_ref
    assert card.number is None and card.reported_last4 == same[0]["last4"]
    holder = fake.cardholders[same[0]["cardholder"]]
    assert holder["name"] == "Jenny Rosen rd"  # no digits on a card
    # The same profile again: the cardholder is reused, nothing is sent.
    before = len(fake.cardholders)
    again = issuer.issue_card(_request(2), FUNDING, NOW, card.holder)
    assert len(fake.cardholders) == before and again.holder == card.holder


def test_a_timeout_is_retried_with_the_same_key(fake: FakeStripe) -> None:
    issuer = _issuer(
        fake, LINK_WALLET_STRIPE_TIMEOUT_SECONDS="0.3", LINK_WALLET_STRIPE_MAX_RETRIES="1"
    )
    fake.fail_next(delay=0.6)
    card = issuer.issue_card(_request(3), FUNDING, NOW, HOLDER)
    assert sum(1 for c in fake.cards.values() if c["id"] == card.issuer_ref) == 1


def test_stripe_down_is_unavailable_and_a_changed_retry_is_refused(fake: FakeStripe) -> None:
    issuer = _issuer(fake, LINK_WALLET_STRIPE_MAX_RETRIES="0")
    fake.fail_next(503)
    with pytest.raises(IssuerUnavailable):
        issuer.issue_card(_request(4), FUNDING, NOW, HOLDER)
    issuer.issue_card(_request(5), FUNDING, NOW, HOLDER)
    with pytest.raises(IssuerRejected) as refused:
        issuer.issue_card(dataclasses.replace(_request(5), amount=9999), FUNDING, NOW, HOLDER)
    assert refused.value.extra["issuer_code"] in ("IdempotencyError", "idempotency_error")


def test_reveal_and_cancel(fake: FakeStripe) -> None:
    issuer = _issuer(fake)
    card = issuer.issue_card(_request(6), FUNDING, NOW, HOLDER)
    assert card.issuer_ref is not None
    secrets = issuer.reveal_card(card.issuer_ref)
    assert secrets.number == fake.cards[card.issuer_ref]["number"]
    assert secrets.number not in repr(secrets)
    issuer.cancel_card(card.issuer_ref)
    issuer.cancel_card(card.issuer_ref)
    assert fake.cards[card.issuer_ref]["status"] == "canceled"


def test_signatures_are_checked_on_the_raw_body() -> None:
    payload = b'{"id":"evt_1","type":"x","data":{"object":{}}}'
    now = 1_800_000_000
    good = signature_header("whsec_new_secret_1234", payload, now)
    assert (
        verify_event(
            payload,
            good,
            ["whsec_old_secret_1234", "whsec_new_secret_1234"],
            now=now,
            tolerance_seconds=300,
        )["id"]
        == "evt_1"
    )
    for header, when in (
        (good, now + 301),  # replayed later
        (signature_header("whsec_other_secret_12", payload, now), now),
        ("t=abc,v1=zz", now),
        (None, now),
    ):
        with pytest.raises(WebhookRejected):
            verify_event(
                payload, header, ["whsec_new_secret_1234"], now=when, tolerance_seconds=300
            )
    with pytest.raises(WebhookRejected):
        verify_event(
            payload + b" ", good, ["whsec_new_secret_1234"], now=now, tolerance_seconds=300
        )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"LINK_WALLET_ISSUER": "visa"}, "sandbox or stripe"),
        ({"LINK_WALLET_ISSUER": "stripe"}, "LINK_WALLET_STRIPE_SECRET_KEY"),
        (
            {"LINK_WALLET_ISSUER": "stripe", "LINK_WALLET_STRIPE_SECRET_KEY": "sk_test_1"},
            "WEBHOOK_SECRETS",
        ),
        (
            {
                "LINK_WALLET_ISSUER": "stripe",
                "LINK_WALLET_STRIPE_SECRET_KEY": "sk_test_1",
                "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": "nope",
            },
            "whsec_",
        ),
        (
            {
                "LINK_WALLET_ISSUER": "stripe",
                "LINK_WALLET_STRIPE_SECRET_KEY": "sk_test_1",
                "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": "whsec_0123456789abcdef",
                "LINK_WALLET_STRIPE_API_BASE": "http://example.com",
            },
            "API_BASE",
        ),
    ],
)
def test_settings_are_validated(env: dict[str, str], needle: str) -> None:
    with pytest.raises(IssuerConfigError, match=needle):
        issuer_settings_from_env(env)


def test_the_key_may_come_from_a_private_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "stripe.key"
    key.write_text("sk_test_from_file\n")
    key.chmod(0o644)
    env = {
        "LINK_WALLET_ISSUER": "stripe",
        "LINK_WALLET_STRIPE_SECRET_KEY_FILE": str(key),
        "LINK_WALLET_STRIPE_WEBHOOK_SECRETS": "whsec_0123456789abcdef",
    }
    with pytest.raises(IssuerConfigError, match="chmod 600"):
        issuer_settings_from_env(env)
    key.chmod(0o600)
    settings = issuer_settings_from_env(env)
    assert settings.stripe_secret_key == "sk_test_from_file" and "sk_test" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "url", "ok"),
    [
        ("ROCKETRIDES.IO*RIDE 42", None, True),
        ("Rocket Rides", None, True),
        ("ROCKET RIDES SAN FRANC", None, True),
        ("EVIL GADGETS LTD", None, False),
        ("RR", None, False),
        ("Anything", "https://pay.rocketrides.io/checkout", True),
        ("Rocket Rides", "https://rocketrides.io.evil.example/", False),
    ],
)
def test_merchant_rule(name: str, url: str | None, ok: bool) -> None:
    assert (
        merchant_matches(
            approved_name="Rocket Rides",
            approved_url="https://rocketrides.io/cart",
            descriptor_name=name,
            descriptor_url=url,
            registrable_domain=registrable_domain,
        )
        is ok
    )


def test_cardholder_names_fit_the_card() -> None:
    assert (
        cardholder_name("Zoë Ångström-Löfgren the Second of Sweden") == "Zoe Angstrom-Lofgren the"
    )
    assert cardholder_name("12345", None) == "Link Wallet Holder"


def test_a_changed_profile_updates_the_cardholder(fake: FakeStripe) -> None:
    issuer = _issuer(fake)
    first = issuer.issue_card(_request(7), FUNDING, NOW, HOLDER)
    assert first.holder is not None and first.holder.cardholder_id
    renamed = dataclasses.replace(first.holder, name="Jenny Appleseed")
    second = issuer.issue_card(_request(8), FUNDING, NOW, renamed)
    assert second.holder is not None
    assert second.holder.cardholder_id == first.holder.cardholder_id
    assert second.holder.synced_profile != first.holder.synced_profile
    assert fake.cardholders[first.holder.cardholder_id]["name"] == "Jenny Appleseed"


def test_a_test_request_never_gets_a_card_from_a_live_key(fake: FakeStripe) -> None:
    from link_cli.wallet.domain.errors import InvalidRequest

    issuer = _issuer(fake)
    with pytest.raises(InvalidRequest) as refused:
        issuer.issue_card(dataclasses.replace(_request(9), test=False), FUNDING, NOW, HOLDER)
    assert refused.value.code == "issuer_mode_mismatch"


def test_every_decline_reason() -> None:
    from link_cli.wallet.domain.issuing_authorization import AuthorizationAsk, decide

    approved = _request(10, amount=1000)
    ask = AuthorizationAsk(amount=1000, currency="usd", merchant_name="Rocket Rides")
    cases = [
        (None, ask, False, True, NOW, "unknown_card"),
        (
            dataclasses.replace(approved, status=Status.CANCELED),
            ask,
            False,
            True,
            NOW,
            "spend_request_not_approved",
        ),
        (approved, ask, False, True, NOW + timedelta(hours=1), "spend_request_expired"),
        (approved, dataclasses.replace(ask, currency="eur"), False, True, NOW, "currency_mismatch"),
        (
            approved,
            dataclasses.replace(ask, amount=1001),
            False,
            True,
            NOW,
            "amount_exceeds_approval",
        ),
        (approved, ask, True, True, NOW, "credential_already_used"),
        (approved, ask, False, False, NOW, "merchant_mismatch"),
        (approved, dataclasses.replace(ask, amount=999), False, True, NOW, "approved"),
    ]
    for request, asked, used, merchant_ok, when, reason in cases:
        decision = decide(request, asked, card_used=used, merchant_ok=merchant_ok, now=when)
        assert (decision.reason, decision.approved) == (reason, reason == "approved")


# -- Stripe-issued shared payment tokens (preview) -------------------------------------------


def _spt_request(n: int, amount: int = 1200) -> SpendRequest:
    return dataclasses.replace(
        _request(100 + n, amount),
        credential_type=CredentialType.SHARED_PAYMENT_TOKEN,
        network_id="profile_test_seller",
        merchant_name=None,
        merchant_url=None,
    )


def _funding(fake: FakeStripe) -> FundingCard:
    return dataclasses.replace(FUNDING, stripe_payment_method=fake.create_payment_method())


def test_spt_without_the_preview_setting_is_unsupported(fake: FakeStripe) -> None:
    from link_cli.wallet.domain.errors import InvalidRequest

    issuer = _issuer(fake)
    assert issuer.spt_redeemed_elsewhere is False
    with pytest.raises(InvalidRequest) as refused:
        issuer.issue_spt(_spt_request(1), NOW, _funding(fake))
    assert refused.value.code == "credential_type_unsupported"
    assert not any(p.startswith("/v1/shared_payment") for _, p, _ in fake.requests)


def test_spt_is_issued_once_for_the_seller_amount_and_expiry(fake: FakeStripe) -> None:
    issuer = _issuer(fake, **stripe_env(fake, issued_tokens=True))
    funding = _funding(fake)
    request = _spt_request(2)
    fake.fail_next(500, after_effect=True)  # created, but the answer is lost: retried
    spt = issuer.issue_spt(request, NOW, funding)
    same = [
        t for t in fake.issued_tokens.values() if t["seller_details"]["external_id"] == request.id
    ]
    assert len(same) == 1 and same[0]["id"] == spt.issuer_ref
    assert not spt.id.startswith("spt_")  # the wallet's own reference is never a token
    token = same[0]
    assert token["payment_method"] == funding.stripe_payment_method
    assert token["seller_details"]["network_business_profile"] == "profile_test_seller"
    assert token["usage_limits"] == {
        "currency": "usd",
        "max_amount": 1200,
        "expires_at": int((NOW + timedelta(hours=1)).timestamp()),
    }
    # Revoking twice is harmless (the second sees the token already deactivated).
    issuer.revoke_spt(token["id"])
    issuer.revoke_spt(token["id"])
    assert token["status"] == "deactivated" and token["deactivated_reason"] == "revoked"


def test_spt_needs_a_stripe_payment_method_and_the_same_mode(fake: FakeStripe) -> None:
    from link_cli.wallet.domain.errors import InvalidRequest

    issuer = _issuer(fake, **stripe_env(fake, issued_tokens=True))
    with pytest.raises(InvalidRequest) as refused:
        issuer.issue_spt(_spt_request(3), NOW, FUNDING)
    assert refused.value.code == "payment_method_not_tokenised"
    with pytest.raises(InvalidRequest) as refused:
        issuer.issue_spt(dataclasses.replace(_spt_request(4), test=False), NOW, _funding(fake))
    assert refused.value.code == "issuer_mode_mismatch"
    # Stripe refuses an unknown PaymentMethod: its message is passed on.
    unknown = dataclasses.replace(FUNDING, stripe_payment_method="pm_unknown")
    with pytest.raises(IssuerRejected):
        issuer.issue_spt(_spt_request(5), NOW, unknown)


def test_a_token_that_requires_action_is_revoked_and_refused(fake: FakeStripe) -> None:
    issuer = _issuer(fake, **stripe_env(fake, issued_tokens=True))
    fake.tokens_require_action = True
    try:
        with pytest.raises(IssuerRejected) as refused:
            issuer.issue_spt(_spt_request(6), NOW, _funding(fake))
    finally:
        fake.tokens_require_action = False
    assert refused.value.extra["issuer_code"] == "token_requires_action"
    token = next(
        t
        for t in fake.issued_tokens.values()
        if t["seller_details"]["external_id"] == _spt_request(6).id
    )
    assert token["status"] == "deactivated"


def test_payment_method_summary(fake: FakeStripe) -> None:
    issuer = _issuer(fake)
    pm = fake.create_payment_method(brand="amex", last4="0005")
    summary = issuer.payment_method(pm)
    assert (summary.brand, summary.last4, summary.exp_year) == ("amex", "0005", 2031)
    with pytest.raises(IssuerRejected):
        issuer.payment_method("pm_missing")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"LINK_WALLET_STRIPE_ISSUED_TOKENS": "yes"}, "on or off"),
        ({"LINK_WALLET_STRIPE_ISSUED_TOKENS": "on"}, "PUBLISHABLE_KEY"),
        ({"LINK_WALLET_STRIPE_PUBLISHABLE_KEY": "sk_test_abc"}, "publishable"),
        ({"LINK_WALLET_STRIPE_PUBLISHABLE_KEY": "pk_live_abc"}, "same mode"),
        ({"LINK_WALLET_STRIPE_PUBLISHABLE_KEY": 'pk_test_a"b'}, "publishable"),
        ({"LINK_WALLET_STRIPE_PREVIEW_API_VERSION": "2026-10-28.endive"}, "preview"),
    ],
)
def test_issued_token_settings_are_validated(
    fake: FakeStripe, extra: dict[str, str], needle: str
) -> None:
    with pytest.raises(IssuerConfigError, match=needle):
        issuer_settings_from_env({**stripe_env(fake), **extra})
    on = issuer_settings_from_env(stripe_env(fake, issued_tokens=True))
    assert on.issued_tokens and on.publishable_key == PUBLISHABLE_KEY


TERMS_URL = "https://bank.example/authorized-user-terms"
ACCEPTED = TermsAcceptance(
    accepted_at=NOW - timedelta(minutes=5), ip="203.0.113.7", user_agent="Mozilla/5.0 (Test)"
)


def test_cardholder_params_carry_the_terms_acceptance_once_given() -> None:
    before = cardholder_params(HOLDER, FUNDING.billing_address)
    assert "card_issuing" not in before["individual"]
    after = cardholder_params(dataclasses.replace(HOLDER, terms=ACCEPTED), FUNDING.billing_address)
    assert after["individual"]["card_issuing"] == {
        "user_terms_acceptance": {
            "date": int(ACCEPTED.accepted_at.timestamp()),
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (Test)",
        }
    }
    unknown = dataclasses.replace(ACCEPTED, ip=None, user_agent=None)
    bare = cardholder_params(dataclasses.replace(HOLDER, terms=unknown), FUNDING.billing_address)
    assert bare["individual"]["card_issuing"]["user_terms_acceptance"] == {
        "date": int(ACCEPTED.accepted_at.timestamp())
    }


def test_an_acceptance_after_the_first_card_updates_the_cardholder(fake: FakeStripe) -> None:
    issuer = _issuer(fake, LINK_WALLET_STRIPE_USER_TERMS_URL=TERMS_URL)
    assert issuer.user_terms_url == TERMS_URL
    first = issuer.issue_card(_request(10), FUNDING, NOW, HOLDER)
    assert first.holder is not None and first.holder.cardholder_id
    held = fake.cardholders[first.holder.cardholder_id]
    assert "card_issuing" not in held["individual"]
    accepted = dataclasses.replace(first.holder, terms=ACCEPTED)
    second = issuer.issue_card(_request(11), FUNDING, NOW, accepted)
    assert second.holder is not None and second.holder.terms == ACCEPTED
    assert second.holder.cardholder_id == first.holder.cardholder_id
    assert second.holder.synced_profile != first.holder.synced_profile
    # What Stripe received (form-encoded, so the date arrives as text).
    assert held["individual"]["card_issuing"]["user_terms_acceptance"] == {
        "date": str(int(ACCEPTED.accepted_at.timestamp())),
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (Test)",
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://bank.example/terms",
        "bank.example/terms",
        "https://user:pw@bank.example/terms",
        'https://bank.example/"onmouseover',
        "javascript:alert(1)",
    ],
)
def test_the_terms_url_must_be_https(fake: FakeStripe, url: str, tmp_path: Path) -> None:
    from link_cli.wallet.settings import SettingsError, load_settings

    with pytest.raises(IssuerConfigError, match="LINK_WALLET_STRIPE_USER_TERMS_URL must be"):
        issuer_settings_from_env({**stripe_env(fake), "LINK_WALLET_STRIPE_USER_TERMS_URL": url})
    if url.startswith("http:"):
        # serve loads these settings and exits 1 with the message (like every bad setting).
        with pytest.raises(SettingsError, match="https:// address of your card program"):
            load_settings(
                database_url="sqlite://",
                data_dir=tmp_path,
                env={**stripe_env(fake), "LINK_WALLET_STRIPE_USER_TERMS_URL": url},
            )


def test_a_consent_is_kept_bounded() -> None:
    from link_cli.wallet.services.issuing import (
        TERMS_USER_AGENT_MAX,
        TermsConsent,
        terms_acceptance,
    )

    kept = terms_acceptance(
        TermsConsent(" ::ffff:10.0.0.1 ", "A\x00B\r\nC\u202e " + "x" * 600), NOW
    )
    assert kept.accepted_at == NOW and kept.ip == "::ffff:a00:1"
    assert kept.user_agent is not None and len(kept.user_agent) == TERMS_USER_AGENT_MAX
    assert kept.user_agent.startswith("A B C xxx")
    unknown = terms_acceptance(TermsConsent("unknown", "\x07 "), NOW)
    assert (unknown.ip, unknown.user_agent) == (None, None)
