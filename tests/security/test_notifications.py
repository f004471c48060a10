"""Notifications: the outbox row commits with the move to pending_approval or not at all,
one worker wins each row, webhooks and push endpoints cannot be pointed at the wallet's own
network, and the settings page is behind sign-in and CSRF."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select
from tests.conftest import POSTGRES_ENV, fresh_postgres_database
from tests.support.agent import CONTEXT
from tests.support.push_receiver import Subscription
from tests.support.racing import race
from tests.support.wallet import DEFAULT_CARD, copy_migrated_sqlite, wallet_env
from tests.support.wallet_store import WalletStore

from link_cli.wallet.clock import Clock
from link_cli.wallet.domain.limits import LimitSettings
from link_cli.wallet.domain.notifications import (
    MAX_ATTEMPTS,
    WebhookUrlError,
    check_webhook_url,
    retry_delay,
)
from link_cli.wallet.domain.spend_request import CredentialType, SpendRequestDraft
from link_cli.wallet.notify.senders import DeliveryError, check_destination
from link_cli.wallet.services import spend_requests as service
from link_cli.wallet.store import notifications as outbox
from link_cli.wallet.store.models.notify import NotificationOutbox

PAGE = "/wallet/notifications"


POSTGRES_BASE = os.environ.get(POSTGRES_ENV)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("notify-store")
    if request.param == "sqlite":
        copy_migrated_sqlite(directory / "wallet.db")
        return WalletStore(directory, None, wallet_env())
    if not POSTGRES_BASE:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts a throwaway PostgreSQL)")
    url = fresh_postgres_database(POSTGRES_BASE, migrated=True)
    return WalletStore(directory, url, wallet_env())


def _person_with_channel(store: WalletStore, email: str) -> str:
    user = store.create_user(email, "Correct-horse-9!", "Jo")
    store.add_card(email, DEFAULT_CARD, shipping=False)
    with store.database.session_scope() as session:
        outbox.add_channel(
            session, user_id=user["id"], kind="email", target=email, data={}, now=Clock().now()
        )
    return user["id"]


def _draft(request_approval: bool) -> SpendRequestDraft:
    return SpendRequestDraft(
        credential_type=CredentialType.CARD,
        amount=1500,
        currency="usd",
        context=CONTEXT,
        merchant_name="Shop",
        merchant_url="https://shop.example",
        request_approval=request_approval,
    )


def _rows(store: WalletStore, request_id: str) -> int:
    with store.database.session_scope() as session:
        return session.scalar(
            select(func.count())
            .select_from(NotificationOutbox)
            .where(NotificationOutbox.spend_request_id == request_id)
        )


def test_the_outbox_row_commits_with_the_transition_and_one_worker_wins_it(store):
    user_id = _person_with_channel(store, f"outbox-{store.settings.database_url[:4]}@example.com")
    now = Clock().now()
    limits = LimitSettings()
    # A transaction that rolls back leaves no notification behind.
    with pytest.raises(RuntimeError), store.database.session_scope() as session:
        rolled = service.create(
            session, user_id=user_id, grant_id="grant_x", draft=_draft(True), now=now, limits=limits
        )
        raise RuntimeError("the route failed after the move")
    assert _rows(store, rolled.id) == 0

    with store.database.session_scope() as session:
        created = service.create(
            session,
            user_id=user_id,
            grant_id="grant_x",
            draft=_draft(False),
            now=now,
            limits=limits,
        )
    assert _rows(store, created.id) == 0, "created, not pending: nothing to tell"
    for _ in range(2):  # idempotent while pending: told once
        with store.database.session_scope() as session:
            service.request_approval(
                session, user_id=user_id, grant_id="grant_x", request_id=created.id, now=now,
                limits=limits,
            )  # fmt: skip
    assert _rows(store, created.id) == 1

    def claim():
        with store.database.write_scope() as session:
            return outbox.claim_due(session, now=now)

    results = race([claim] * 4)
    won = [r for r in results if isinstance(r, outbox.Claimed)]
    assert len(won) == 1, results
    assert all(r is None for r in results if r not in won), results
    assert won[0].spend_request_id == created.id and won[0].attempts == 1
    assert won[0].target.startswith("outbox-")
    assert claim() is None, "claimed rows are not handed out again"
    # A worker that died holding the claim: the row is due again once the claim lapses.
    later = now + timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    with store.database.write_scope() as session:
        again = outbox.claim_due(session, now=later)
    assert again is not None and again.outbox_id == won[0].outbox_id and again.attempts == 2
    with store.database.write_scope() as session:
        outbox.record_result(session, claimed=again, error=None, now=later, retry_at=None)
    with store.database.write_scope() as session:
        assert outbox.claim_due(session, now=later + timedelta(days=1)) is None


def test_retries_back_off_exponentially_and_end():
    delays = [retry_delay(attempt) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:3] == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    assert delays[-1] is None
    assert all(d <= timedelta(minutes=5) for d in delays if d is not None)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8725/wallet",
        "http://localhost/",
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_private_and_loopback_destinations_are_refused_by_default(url):
    with pytest.raises(DeliveryError) as refused:
        check_destination(url, allow_private=False)
    assert refused.value.permanent
    assert "LINK_WALLET_WEBHOOK_ALLOW_PRIVATE" in str(refused.value)
    check_destination(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com/",
        "//example.com/hook",
        "https://a:b@example.com/",
        "https://example.com:0/",
        "https://exa mple.com/",
        "https://" + "a" * 3000 + ".com/",
    ],
)
def test_webhook_urls_must_be_plain_http_or_https(url):
    with pytest.raises(WebhookUrlError):
        check_webhook_url(url)


def _token(person) -> str:
    page = person.client.get(PAGE)
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1))


def test_settings_need_sign_in_and_the_page_own_token(wallet):
    person = wallet.create_person(with_card=False)
    anonymous = person.client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    refused = person.client.post(
        f"{PAGE}/webhook", data={"url": "https://example.com/h"}, follow_redirects=False
    )
    assert refused.status_code in {303, 403}
    person.sign_in()
    token = _token(person)
    for data, headers in [
        ({"url": "https://example.com/h"}, {}),
        ({"url": "https://example.com/h", "csrf_token": "forged"}, {}),
        ({"url": "https://example.com/h", "csrf_token": token}, {"Origin": "https://evil.example"}),
        ({"url": "https://example.com/h", "csrf_token": token}, {"Sec-Fetch-Site": "cross-site"}),
    ]:
        answer = person.client.post(f"{PAGE}/webhook", data=data, headers=headers)
        assert answer.status_code == 403, answer.text
    assert "whsec_" not in person.client.get(PAGE).text
    # Push subscriptions: https only (this wallet does not allow private destinations).
    answer = person.client.post(
        f"{PAGE}/push",
        data={
            "csrf_token": token,
            "endpoint": "http://127.0.0.1:1/push",
            "p256dh": "x",
            "auth": "y",
        },
    )
    assert answer.status_code == 400
    assert "https" in answer.json()["error"]["message"]


def test_a_person_cannot_remove_another_persons_channel(wallet):
    owner = wallet.create_person(with_card=False)
    owner.sign_in()
    owner.client.post(f"{PAGE}/email", data={"csrf_token": _token(owner), "email": owner.email})
    channel_id = re.search(r'name="channel_id" value="([^"]+)"', owner.client.get(PAGE).text).group(
        1
    )
    other = wallet.create_person(with_card=False)
    other.sign_in()
    answer = other.client.post(
        f"{PAGE}/remove", data={"csrf_token": _token(other), "channel_id": channel_id}
    )
    assert answer.status_code == 200
    assert channel_id in owner.client.get(PAGE).text
    for person in (owner, other):
        person.close()


NASTY = [
    "\x00",
    "a\x00b@example.com",
    "https://example.com/\x00",
    "https://exa\u202emple.com/",
    "nch_\x00",
    "x" * 5000,
    "two@at@example.com",
    "BNcR\x00W5dwh3Dx",
    "a@b\r\nBcc: c@d",
    "https://[::1",
    "http://:80/",
]


def test_any_settings_form_value_is_answered_without_a_5xx(any_wallet):
    """Control characters (PostgreSQL refuses NUL in text), bidi marks, huge and malformed
    values in every field of every form: a page or a 4xx, never a 5xx, nothing stored."""
    person = any_wallet.create_person(with_card=False)
    person.sign_in()
    token = _token(person)
    for value in NASTY:
        for path, data in [
            ("email", {"email": value}),
            ("webhook", {"url": value}),
            ("push", {"endpoint": value, "p256dh": "x", "auth": "y"}),
            ("push", {"endpoint": "https://push.example/x", "p256dh": value, "auth": value}),
            ("remove", {"channel_id": value}),
        ]:
            answer = person.client.post(f"{PAGE}/{path}", data={"csrf_token": token, **data})
            assert answer.status_code < 500, (path, value, answer.text[:300])
            if path != "remove":
                assert answer.status_code == 400, (path, value)
    assert 'name="channel_id"' not in person.client.get(PAGE).text
    # A valid subscription with a label full of controls is stored with the label cleaned.
    keys = Subscription("https://push.example/sub").as_json()["keys"]
    answer = person.client.post(
        f"{PAGE}/push",
        data={
            "csrf_token": token,
            "endpoint": "https://push.example/sub",
            **keys,
            "label": "Phone\u202e\x1b[31m\u200b",
        },
    )
    assert answer.status_code == 200, answer.text
    page = person.client.get(PAGE).text
    assert "Phone[31m" in page and "\x00" not in page and "\u202e" not in page
    person.close()
