"""Notifications of pending approvals, end to end: the real ``link-cli spend-request create``
against a real ``link-wallet serve``; the e-mail arrives at a local SMTP server, the Web Push
message at a local push endpoint (VAPID checked, payload decrypted with the subscription's
keys), the webhook at a local receiver (signature verified, retried after a 500).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from tests.support.agent import CONTEXT, Agent, login
from tests.support.push_receiver import (
    PushMessage,
    Subscription,
    decrypt,
    http_recorder,
    smtp_server,
    verify_vapid,
)
from tests.support.wallet import DEFAULT_CARD, WalletProcess

pytestmark = [
    pytest.mark.server,
    # The local SMTP server takes AUTH on a plain loopback connection on purpose.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

ARRIVAL_TIMEOUT = 20.0
RETRY_TIMEOUT = 30.0
SMTP_USER, SMTP_PASSWORD = "wallet-mailer", "smtp-pass-Aa1!"
PAGE = "/wallet/notifications"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with (
        smtp_server(SMTP_USER, SMTP_PASSWORD) as smtp,
        http_recorder() as push,
        http_recorder() as hooks,
    ):
        env = {
            "LINK_WALLET_SMTP_HOST": smtp.host,
            "LINK_WALLET_SMTP_PORT": str(smtp.port),
            "LINK_WALLET_SMTP_STARTTLS": "off",
            "LINK_WALLET_SMTP_USERNAME": SMTP_USER,
            "LINK_WALLET_SMTP_PASSWORD": SMTP_PASSWORD,
            "LINK_WALLET_SMTP_FROM": "wallet@example.test",
            "LINK_WALLET_WEBHOOK_ALLOW_PRIVATE": "on",
        }
        with WalletProcess.start(tmp_path_factory.mktemp("notify"), env=env) as wallet:
            yield wallet, smtp, push, hooks


def _csrf(person, path: str = PAGE) -> str:
    page = person.client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return unescape(found.group(1))


def _vapid_key(person) -> str:
    page = person.client.get(PAGE).text
    found = re.search(r'data-vapid-key="([^"]+)"', page)
    assert found
    return found.group(1)


def _wait(source: queue.Queue, what: str, timeout: float = ARRIVAL_TIMEOUT):
    try:
        return source.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no {what} within {timeout} s") from None


def _secrets_of(agent: Agent) -> list[str]:
    stored = json.loads(agent.auth_file.read_text())
    found = [DEFAULT_CARD["number"]]
    for value in _walk(stored):
        if isinstance(value, str) and len(value) >= 16:
            found.append(value)
    return found


def _walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def _assert_nothing_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text
    assert not re.search(r"\b\d{13,19}\b", text), "a card-number-like digit run"
    assert not re.search(r"\bcvc\b|spt_|lpt_|\b4242\b", text, re.IGNORECASE)


def test_spend_request_create_notifies_by_email_push_and_webhook(rig, tmp_path, record_property):
    wallet, smtp, push, hooks = rig
    person = wallet.create_person(name="Jenny Rosen")
    person.sign_in()
    # E-mail and webhook through the settings page's forms.
    answer = person.client.post(
        f"{PAGE}/email", data={"csrf_token": _csrf(person), "email": person.email}
    )
    assert answer.status_code == 200 and "E-mail notifications saved" in answer.text
    hook_url = f"{hooks.base_url}/hook/{person.user_id}"
    hooks.statuses[urlsplit(hook_url).path] = [500]
    answer = person.client.post(
        f"{PAGE}/webhook", data={"csrf_token": _csrf(person), "url": hook_url}
    )
    assert answer.status_code == 200
    secret = unescape(re.search(r'id="webhook-secret">([^<]+)<', answer.text).group(1))
    assert secret.startswith("whsec_")
    assert secret not in person.client.get(PAGE).text, "the secret is shown once"
    # This browser's push subscription, as the page's script posts it.
    subscription = Subscription(f"{push.base_url}/push/{person.user_id}")
    keys = subscription.as_json()["keys"]
    answer = person.client.post(
        f"{PAGE}/push",
        data={
            "csrf_token": _csrf(person),
            "endpoint": subscription.endpoint,
            **keys,
            "label": "Test phone",
        },
    )
    assert answer.status_code == 200, answer.text

    agent = Agent(wallet.url, tmp_path / "auth.json")
    login(agent, person)
    started = time.monotonic()
    code, chunks = agent.json(
        "spend-request", "create", "--amount", "4321", "-m", "Widget Shop",
        "--merchant-url", "https://shop.example/checkout", "--context", CONTEXT,
    )  # fmt: skip
    answered = time.monotonic()
    assert code == 0, chunks
    created = chunks[0]
    assert created["status"] == "pending_approval"
    approval_url = f"{wallet.url}/approve/{created['id']}"
    secrets = _secrets_of(agent)

    message, raw, recipients = _wait(smtp.messages, "e-mail")
    email_latency = time.monotonic() - answered
    pushed: PushMessage = _wait(push.messages, "push message")
    push_latency = time.monotonic() - answered
    record_property("email_latency_s", round(email_latency, 3))
    record_property("push_latency_s", round(push_latency, 3))
    print(
        f"\nnotification latency after `spend-request create` exited: e-mail "
        f"{email_latency:.3f} s, push {push_latency:.3f} s (the command itself took "
        f"{answered - started:.3f} s)"
    )

    # The e-mail: to the person, through an authenticated SMTP session.
    assert recipients == [person.email]
    assert smtp.logins, "the wallet logged in to the SMTP server"
    assert message["From"] == "wallet@example.test"
    assert message["Subject"] == "Approve $43.21 to Widget Shop?"
    body = message.get_payload(decode=True).decode()
    for expected in (
        "$43.21",
        "Widget Shop",
        "https://shop.example/checkout",
        CONTEXT,
        approval_url,
    ):
        assert expected in " ".join(body.split()), expected
    assert "Agent: " in body
    # The Message-ID is a random digit run of the mail library's own; every other header and
    # the decoded body are scanned, and the raw bytes for the secrets themselves.
    shown = [f"{name}: {value}" for name, value in message.items() if name != "Message-ID"]
    _assert_nothing_secret("\n".join([*shown, body]), secrets)
    assert not any(secret in raw.decode() for secret in secrets)

    # The push: VAPID-signed for the endpoint's origin by the key the page serves, decrypted
    # with the subscription's own keys.
    _claims, key = verify_vapid(pushed.headers["authorization"], push.base_url)
    assert key == _vapid_key(person)
    assert int(pushed.headers["ttl"]) > 0
    payload = json.loads(decrypt(pushed, subscription))
    assert payload["url"] == approval_url
    assert payload["title"] == "Approve $43.21 to Widget Shop?"
    assert CONTEXT[:60] in payload["body"]
    _assert_nothing_secret(json.dumps(payload), secrets)
    assert pushed.body.find(b"Widget") == -1, "the push body is encrypted"

    # The webhook: first answer 500, retried with backoff, same event id, valid signature.
    first = _wait(hooks.messages, "webhook call")
    second = _wait(hooks.messages, "webhook retry", RETRY_TIMEOUT)
    for call in (first, second):
        header = call.headers["link-wallet-signature"]
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + call.body, hashlib.sha256)
        assert hmac.compare_digest(parts["v1"], expected.hexdigest())
        assert abs(int(parts["t"]) - time.time()) < 300
    assert first.body == second.body
    event = json.loads(second.body)
    assert event["type"] == "spend_request.pending_approval"
    assert event["data"]["spend_request_id"] == created["id"]
    assert event["data"]["amount"] == 4321 and event["data"]["currency"] == "usd"
    assert event["data"]["approval_url"] == approval_url
    _assert_nothing_secret(second.body.decode(), secrets)

    # The settings page shows each channel's last result.
    page = _poll_page(person, lambda text: text.count('data-state="ok"') == 3)
    assert "Broken" not in page
    # Nothing else was sent (one e-mail, one push).
    assert smtp.messages.empty() and push.messages.empty()


def _poll_page(person, done, timeout: float = ARRIVAL_TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = person.client.get(PAGE).text
        if done(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)  # polling the page for the worker's write, bounded


def test_request_approval_notifies_and_a_gone_subscription_shows_broken(rig, tmp_path):
    wallet, _smtp, push, _hooks = rig
    person = wallet.create_person()
    person.sign_in()
    subscription = Subscription(f"{push.base_url}/gone/{person.user_id}")
    push.statuses[urlsplit(subscription.endpoint).path] = [410]
    keys = subscription.as_json()["keys"]
    answer = person.client.post(
        f"{PAGE}/push",
        data={"csrf_token": _csrf(person), "endpoint": subscription.endpoint, **keys},
    )
    assert answer.status_code == 200
    agent = Agent(wallet.url, tmp_path / "auth.json")
    login(agent, person)
    code, chunks = agent.json(
        "spend-request", "create", "--amount", "500", "-m", "Corner Shop",
        "--merchant-url", "https://corner.example", "--context", CONTEXT,
        "--no-request-approval",
    )  # fmt: skip
    assert code == 0, chunks
    assert chunks[0]["status"] == "created"
    code, chunks = agent.json("spend-request", "request-approval", chunks[0]["id"])
    assert code == 0, chunks
    gone = _wait(push.messages, "push message")
    assert json.loads(decrypt(gone, subscription))["tag"] == chunks[0]["id"]
    page = _poll_page(person, lambda text: 'data-state="broken"' in text)
    assert 'data-state="broken"' in page
    assert "subscription is gone (410)" in page
    home = person.client.get("/wallet").text
    assert "failed to deliver" in home


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://user:pw@example.com/hook", "no user name or password"),
        ("https://", "must name a host"),
        ("", "Enter the webhook"),
    ],
)
def test_settings_refuse_bad_webhook_urls(rig, url, message):
    wallet = rig[0]
    person = wallet.create_person(with_card=False)
    person.sign_in()
    answer = person.client.post(f"{PAGE}/webhook", data={"csrf_token": _csrf(person), "url": url})
    assert answer.status_code == 400
    assert message in unescape(answer.text)
    assert "data-state=" not in answer.text
