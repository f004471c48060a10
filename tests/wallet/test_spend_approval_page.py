"""The approval page at ``approval_url``: what the person sees, who may see it, and that a
decision is only taken from the wallet's own, current page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.support.approvals import (
    CONTEXT,
    ApiAgent,
    approval_path,
    approve_spend_request,
    card_body,
    deny_spend_request,
    new_agent,
)
from tests.support.person import Person
from tests.support.wallet import WalletProcess


@pytest.fixture
def agent(wallet: WalletProcess) -> Iterator[ApiAgent]:
    created = new_agent(wallet)
    yield created
    created.close()


def page_of(agent: ApiAgent, spend_request: dict[str, Any]) -> str:
    response = agent.person.client.get(spend_request["approval_url"])
    assert response.status_code == 200, response.text
    return response.text


def test_the_page_shows_what_the_person_approves(agent: ApiAgent) -> None:
    body = card_body(
        merchant_name="Blue Widget Co",
        amount=5000,
        line_items=[
            {"name": "Blue widget", "quantity": 2, "unit_amount": 2000, "description": "Large"},
            {"name": "Gift wrap"},
        ],
        totals=[
            {"type": "subtotal", "display_text": "Subtotal", "amount": 4000},
            {"type": "shipping", "display_text": "Shipping", "amount": 1000},
            {"type": "total", "display_text": "Total", "amount": 5000},
        ],
    )
    created = agent.create_ok(body)
    text = html.unescape(page_of(agent, created))
    # The address is split in spans so its registrable domain stands out (issue 12).
    visible = re.sub(r"<[^>]+>", "", text)
    assert "https://shop.example/checkout" in visible
    assert '<strong class="site-domain">shop.example</strong>' in text
    for expected in (
        "Blue Widget Co",
        "$50.00",
        "USD",
        CONTEXT,
        "Blue widget × 2",
        "$40.00",
        "Large",
        "Gift wrap",
        "Subtotal",
        "Shipping",
        "$10.00",
        "Visa ···· 4242",
        "one-time virtual card",
        "Waiting for your approval",
        'value="approve"',
        'value="deny"',
        'name="csrf_token"',
    ):
        assert expected in text, expected
    assert "Test mode" not in text
    assert f'data-expires-at="{created["expires_at"]}"' in text


def test_the_pages_inline_script_runs_only_by_nonce(agent: ApiAgent) -> None:
    created = agent.create_ok()
    response = agent.person.client.get(created["approval_url"])
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy)
    assert nonce is not None, policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert f'<script nonce="{nonce.group(1)}">' in response.text
    other = agent.person.client.get(created["approval_url"]).headers["content-security-policy"]
    assert other != policy  # a fresh nonce per response


def test_spt_and_test_mode_requests_say_so(agent: ApiAgent) -> None:
    created = agent.create_ok(agent.seller_spt_body(amount=1999, currency="eur", test=True))
    text = html.unescape(page_of(agent, created))
    assert created["network_id"] in text
    assert "€19.99" in text and "EUR" in text
    assert "payment token that only this seller can charge" in text
    assert "Test mode" in text


def test_agent_text_is_shown_as_text_never_as_markup(agent: ApiAgent) -> None:
    hostile = CONTEXT + ' <script>alert("x")</script><img src=x onerror=alert(1)>'
    created = agent.create_ok(
        card_body(context=hostile, merchant_name="<b>Evil</b> & Co", line_items=[{"name": "<i>"}])
    )
    text = page_of(agent, created)
    assert '<script>alert("x")</script>' not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;" in text
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in text


def test_approving_shows_the_outcome_and_issues_the_card(agent: ApiAgent) -> None:
    created = agent.create_ok()
    response = approve_spend_request(agent.person, created["approval_url"])
    assert "You approved this payment" in response.text
    assert 'value="approve"' not in response.text
    shown = agent.retrieve(created["id"]).json()
    assert shown["status"] == "approved"
    assert f"···· {shown['card_last4']}" in html.unescape(response.text)


def test_denying_shows_the_outcome_and_issues_nothing(agent: ApiAgent) -> None:
    created = agent.create_ok()
    response = deny_spend_request(agent.person, created["approval_url"])
    assert "You denied this payment" in response.text
    shown = agent.retrieve(created["id"], include="card").json()
    assert shown["status"] == "denied"
    assert "card" not in shown and "card_last4" not in shown


def test_a_request_not_yet_submitted_has_no_buttons(agent: ApiAgent) -> None:
    created = agent.create_ok(card_body(request_approval=...))
    url = f"{agent.person.wallet.url}/approve/{created['id']}"
    text = agent.person.client.get(url).text
    assert "has not asked for your approval yet" in text
    assert 'value="approve"' not in text


def test_signed_out_visitors_are_sent_to_sign_in_and_back(
    agent: ApiAgent, wallet: WalletProcess
) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    visitor = Person(
        wallet=wallet,
        email=agent.person.email,
        password=agent.person.password,
        user_id=agent.person.user_id,
        payment_method_id=agent.person.payment_method_id,
    )
    try:
        first = visitor.client.get(path, follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == f"/signin?next={path}"
        landed = visitor.submit_form(
            first.headers["location"],
            {"email": visitor.email, "password": visitor.password},
            action="/signin",
        )
        assert urlsplit(str(landed.url)).path == path
        assert "Approve" in landed.text
    finally:
        visitor.close()


def test_another_person_gets_not_found(agent: ApiAgent, wallet: WalletProcess) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    stranger = wallet.create_person()
    try:
        stranger.sign_in()
        _, form = stranger.get_form("/wallet", action="/signout")
        for response in (
            stranger.client.get(path),
            stranger.client.get(path + "/status"),
            stranger.client.post(path, data={**form.fields, "action": "approve"}),
            stranger.client.get("/approve/lsrq_unknown"),
        ):
            assert response.status_code == 404
        assert agent.status_of(created["id"]) == "pending_approval"
    finally:
        stranger.close()


def test_posts_without_a_valid_csrf_token_are_refused(agent: ApiAgent) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    _, form = agent.person.get_form(path, action=path)
    client = agent.person.client
    for data, headers in (
        ({"action": "approve", "revision": form.fields["revision"]}, {}),
        ({**form.fields, "csrf_token": "forged", "action": "approve"}, {}),
        ({**form.fields, "action": "approve"}, {"Origin": "https://evil.example"}),
        ({**form.fields, "action": "approve"}, {"Sec-Fetch-Site": "cross-site"}),
    ):
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 403, data
    assert agent.status_of(created["id"]) == "pending_approval"


def test_an_unknown_action_changes_nothing(agent: ApiAgent) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    response = agent.person.submit_form(path, {"action": "maybe"}, action=path)
    assert response.status_code == 400
    assert "Choose Approve or Deny" in response.text
    assert agent.status_of(created["id"]) == "pending_approval"


def test_a_request_changed_after_the_page_was_shown_is_not_approved(agent: ApiAgent) -> None:
    created = agent.create_ok(card_body(amount=1000))
    path = approval_path(created["approval_url"])
    _, stale = agent.person.get_form(path, action=path)
    # The total shown must follow the amount (a stale total is refused).
    total = [{"type": "total", "display_text": "Total", "amount": 4900}]
    assert agent.update(created["id"], {"amount": 4900, "totals": total}).status_code == 200

    response = agent.person.client.post(path, data={**stale.fields, "action": "approve"})
    assert response.status_code == 409
    assert "changed after the page was shown" in response.text
    assert "$49.00" in response.text  # the page now shows the current amount
    assert agent.status_of(created["id"]) == "pending_approval"

    approve_spend_request(agent.person, created["approval_url"])
    assert agent.retrieve(created["id"]).json()["amount"] == 4900


def test_deciding_twice_is_refused(agent: ApiAgent) -> None:
    created = agent.create_ok()
    path = approval_path(created["approval_url"])
    _, form = agent.person.get_form(path, action=path)
    approve_spend_request(agent.person, created["approval_url"])
    again = agent.person.client.post(path, data={**form.fields, "action": "deny"})
    assert again.status_code == 409
    assert agent.status_of(created["id"]) == "approved"


def test_status_endpoint_follows_the_request(agent: ApiAgent) -> None:
    created = agent.create_ok()
    status_url = created["approval_url"] + "/status"
    assert agent.person.client.get(status_url).json() == {
        "status": "pending_approval",
        "revision": 1,
        "expires_at": created["expires_at"],
    }
    agent.cancel(created["id"])
    assert agent.person.client.get(status_url).json() == {
        "status": "canceled",
        "revision": 2,
        "expires_at": None,
    }
    text = page_of(agent, created)
    assert "Canceled by the agent" in text
    assert 'value="approve"' not in text


def test_the_wallet_home_lists_recent_requests(agent: ApiAgent) -> None:
    pending = agent.create_ok(card_body(merchant_name="Pending Shop"))
    denied = agent.create_ok(card_body(merchant_name="Denied Shop"))
    deny_spend_request(agent.person, denied["approval_url"])
    text = agent.person.client.get("/wallet").text
    assert "Recent spend requests" in text
    assert f'href="/approve/{pending["id"]}"' in text
    assert "Pending Shop" in text and "Waiting for your approval" in text
    assert "Denied Shop" in text
