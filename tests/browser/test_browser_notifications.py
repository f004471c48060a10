"""The notification settings page in Chromium, at desktop and phone widths: subscribe this
browser to Web Push (the real page script and service worker; the subscription is handed
to the page for a local push endpoint, as Chromium's own push service is not reachable
offline), add a webhook, and see the service worker show what the wallet pushed.
"""

from __future__ import annotations

import os
import queue
import time

import pytest
from playwright.sync_api import Browser
from tests.browser.conftest import FULL_CHROMIUM
from tests.support.agent import CONTEXT, Agent, login
from tests.support.push_receiver import Subscription, decrypt, http_recorder
from tests.support.wallet import WalletProcess

PAGE = "/wallet/notifications"
WAIT_SECONDS = 20.0
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Replaces pushManager.subscribe with one answering the test's subscription; everything
# else (permission, service worker registration, the POST to the wallet) is the page's own.
HAND_SUBSCRIPTION = r"""
(subscription) => {
  PushManager.prototype.subscribe = async function (options) {
    if (!options || !options.userVisibleOnly || !options.applicationServerKey) {
      throw new Error("subscribe called without userVisibleOnly and applicationServerKey");
    }
    const sent = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (sent !== document.getElementById("push-controls").dataset.vapidKey) {
      throw new Error("subscribe was not given the wallet's VAPID public key");
    }
    return { endpoint: subscription.endpoint, toJSON: () => subscription };
  };
}
"""


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args):
    """The full Chromium: the headless shell the other modules use shows no notifications, so
    a service worker's ``showNotification`` would never be seen."""
    if not os.access(FULL_CHROMIUM, os.X_OK):
        pytest.fail(f"{FULL_CHROMIUM} not found: run `make sysdeps` (apt-get install chromium)")
    launched = browser_type.launch(**{**browser_type_launch_args, "executable_path": FULL_CHROMIUM})
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def push_rig(tmp_path_factory):
    with http_recorder() as push:
        env = {"LINK_WALLET_WEBHOOK_ALLOW_PRIVATE": "on"}
        with WalletProcess.start(tmp_path_factory.mktemp("notify-browser"), env=env) as wallet:
            yield wallet, push


def _sign_in(page, wallet: WalletProcess, person) -> None:
    page.goto(f"{wallet.url}{PAGE}")
    page.fill("input[name=email]", person.email)
    page.fill("input[name=password]", person.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{wallet.url}{PAGE}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_settings_page_subscribes_this_browser_and_adds_a_webhook(
    browser: Browser, push_rig, screenshot, viewport, tmp_path
) -> None:
    wallet, push = push_rig
    person = wallet.create_person()
    subscription = Subscription(f"{push.base_url}/push/{person.user_id}")
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["notifications"], origin=wallet.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _sign_in(page, wallet, person)
        screenshot(page, "empty")
        assert "no mail server configured" in page.inner_text("#email")
        assert page.input_value("input[name=email]") == person.email

        page.evaluate(HAND_SUBSCRIPTION, subscription.as_json())
        page.click("#push-subscribe")
        page.wait_for_selector("#push .channel")
        assert "Chrome on Linux" in page.inner_text("#push .channel")
        assert "Nothing sent yet" in page.inner_text("#push .channel")
        # The page's real service worker is active, with the whole wallet in its scope.
        scope = page.evaluate(
            "navigator.serviceWorker.ready.then(r => r.scope + ' ' + r.active.scriptURL)"
        )
        assert scope == f"{wallet.url}/ {wallet.url}/sw.js"

        page.fill("input[name=url]", "https://hooks.example.test/link-wallet")
        page.click("#webhook button[type=submit]")
        secret = page.inner_text("#webhook-secret")
        assert secret.startswith("whsec_")
        assert "https://hooks.example.test/link-wallet" in page.inner_text("#webhook .channel")
        screenshot(page, "subscribed-with-webhook")
        width = viewport["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.reload()
        assert secret not in page.content()

        if viewport is PHONE:
            return
        # What the wallet pushes for a real request, handed to the service worker.
        agent = Agent(wallet.url, tmp_path / "auth.json")
        login(agent, person)
        code, chunks = agent.json(
            "spend-request", "create", "--amount", "1999", "-m", "Lamp Store",
            "--merchant-url", "https://lamps.example", "--context", CONTEXT,
        )  # fmt: skip
        assert code == 0, chunks
        message = _message_for(push.messages, subscription.endpoint)
        payload = decrypt(message, subscription).decode()
        notification = _deliver_to_service_worker(context, page, wallet.url, payload)
        assert notification["title"] == "Approve $19.99 to Lamp Store?"
        assert notification["data"]["url"] == f"{wallet.url}/approve/{chunks[0]['id']}"
        assert notification["tag"] == chunks[0]["id"]
        assert errors == []
    finally:
        context.close()
        person.close()


def _message_for(messages: queue.Queue, endpoint: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        message = messages.get(timeout=max(0.01, deadline - time.monotonic()))
        if endpoint.endswith(message.path):
            return message
    raise AssertionError("no push message for this subscription")


def _deliver_to_service_worker(context, page, origin: str, data: str) -> dict:
    """Chromium's DevTools push delivery: the service worker's ``push`` handler runs."""
    cdp = context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + WAIT_SECONDS
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # DevTools events arrive on the page's event loop
    assert registrations, "no service worker registration reported"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registrations[0], "data": data},
    )
    shown = page.wait_for_function(
        """() => navigator.serviceWorker.ready
              .then(r => r.getNotifications())
              .then(ns => ns.length ? ns.map(n => ({title: n.title, body: n.body,
                                                     tag: n.tag, data: n.data})) : null)""",
        timeout=WAIT_SECONDS * 1000,
    )
    notifications = shown.json_value()
    assert len(notifications) == 1, notifications
    return notifications[0]
