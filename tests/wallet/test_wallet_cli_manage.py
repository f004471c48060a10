"""Every management command of ``link-wallet`` as a subprocess, against the running session
wallet: agents (revoking one makes the real ``link-cli``'s next command fail with the
reference's auth error), cards, shipping addresses, profile, passwords, people and history.

People, cards and agent logins are set up in-process or over HTTP (tests/support); only the
command under test runs as a ``link-wallet`` subprocess.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.redemption.delegated import confirm, register_merchant, spt_form
from tests.support.agent import Agent, login
from tests.support.approvals import approve_spend_request, card_body, new_agent, spt_body
from tests.support.wallet import DEFAULT_CARD, WalletProcess

pytestmark = pytest.mark.server


def _ok(wallet: WalletProcess, *args: str, input_text: str | None = None) -> Any:
    result = wallet.run_cli(*args, input_text=input_text)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if args[-1] != "--csv" else result.stdout


def _fails(wallet: WalletProcess, *args: str) -> str:
    result = wallet.run_cli(*args)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    return result.stderr


def test_revoking_an_agent_stops_its_link_cli_at_once(
    wallet: WalletProcess, tmp_path: Path
) -> None:
    person = wallet.create_person()
    agent = Agent(base_url=wallet.url, auth_file=tmp_path / "auth.json")
    login(agent, person)
    code, info = agent.json("user-info", "retrieve")
    assert code == 0 and info["email"] == person.email

    agents = _ok(wallet, "agent", "list", "--email", person.email)
    assert len(agents) == 1
    connected = agents[0]
    assert connected["scopes"] and connected["connected_at"].endswith("Z")
    # The command above used the token: its use is recorded (at most once a minute).
    assert connected["last_used_at"] is not None

    revoked = _ok(wallet, "agent", "revoke", "--email", person.email, connected["id"])
    assert revoked == {"id": connected["id"], "revoked": True}

    # The stored access token is rejected (401); the CLI refreshes once (contract §6.6) and
    # the refresh token is dead too: the command fails, nothing is printed as data.
    result = agent.run("user-info", "retrieve", "--format", "json")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["code"] == "UNKNOWN"
    assert "refresh token is no longer valid" in error["message"]

    # Someone else's (or an unknown) agent id is not found, whatever the email.
    other = wallet.create_person(with_card=False)
    assert "No connected agent" in _fails(
        wallet, "agent", "revoke", "--email", other.email, connected["id"]
    )


def test_cards_list_nickname_default_and_remove_with_confirmation(wallet: WalletProcess) -> None:
    api = new_agent(wallet)
    email = api.person.email
    second = wallet.store().add_card(email, {**DEFAULT_CARD, "number": "5555555555554444"},
                                     shipping=False)  # fmt: skip
    cards = _ok(wallet, "card", "list", "--email", email)
    assert [c["last4"] for c in cards] == ["4242", "4444"]  # default first
    first = cards[0]["id"]
    assert set(cards[0]) == {"id", "brand", "last4", "exp_month", "exp_year", "nickname",
                             "is_default"}  # fmt: skip

    named = _ok(wallet, "card", "nickname", "--email", email, second["id"], "  Travel  ")
    assert named["nickname"] == "Travel"
    assert _ok(wallet, "card", "default", "--email", email, second["id"])["is_default"] is True
    table = wallet.run_cli("card", "list", "--email", email, "--format", "text").stdout
    lines = [line.split() for line in table.splitlines()]
    assert lines[0][:3] == ["id", "brand", "last4"] and lines[0][-1] == "is_default"
    assert [(line[2], line[-1]) for line in lines[1:]] == [("4444", "yes"), ("4242", "no")]

    # An approved, unused card credential on the first card: removal asks for --yes.
    created = api.create_ok(card_body(payment_details=first))
    approve_spend_request(api.person, created["approval_url"])
    refusal = _fails(wallet, "card", "remove", "--email", email, first)
    assert created["id"] in refusal and "--yes" in refusal
    assert api.status_of(created["id"]) == "approved"

    removed = _ok(wallet, "card", "remove", "--email", email, first, "--yes")
    assert removed == {"id": first, "removed": True, "canceled_spend_requests": [created["id"]]}
    assert api.status_of(created["id"]) == "canceled"

    api.close()


def test_shipping_addresses_add_edit_default_remove(wallet: WalletProcess) -> None:
    api = new_agent(wallet)
    email = api.person.email
    added = _ok(
        wallet, "address", "add", "--email", email, "--name", "Jo Doe", "--line1", "9 Elm St",
        "--city", "Austin", "--state", "TX", "--postal-code", "78701", "--nickname", "Office",
    )  # fmt: skip
    assert added["country_code"] == "US" and added["is_default"] is False
    edited = _ok(wallet, "address", "edit", "--email", email, added["id"], "--line2", "Suite 4")
    assert (edited["line_1"], edited["line_2"]) == ("9 Elm St", "Suite 4")
    assert _ok(wallet, "address", "default", "--email", email, added["id"])["is_default"] is True
    # What the agent sees: `shipping-address list` over the Link API, the new default first.
    listed = api.client.get("/shipping_addresses").json()
    items = listed.get("data", listed) if isinstance(listed, dict) else listed
    assert json.dumps(items).find("Suite 4") != -1

    other = wallet.create_person(with_card=False)
    assert "No shipping address" in _fails(
        wallet, "address", "remove", "--email", other.email, added["id"]
    )
    assert _ok(wallet, "address", "remove", "--email", email, added["id"])["removed"] is True
    remaining = _ok(wallet, "address", "list", "--email", email)
    assert [a["is_default"] for a in remaining] == [True]  # the other one inherited it
    api.close()


def test_profile_users_and_password_reset(wallet: WalletProcess) -> None:
    api = new_agent(wallet, with_card=False)
    person = api.person
    profile = _ok(wallet, "user", "profile", "--email", person.email, "--name", "Ada Byron",
                  "--phone", "+44 20 7946 0000")  # fmt: skip
    assert (profile["name"], profile["phone"]) == ("Ada Byron", "+44 20 7946 0000")
    info = api.client.get("/userinfo").json()  # what `link-cli user-info retrieve` shows
    assert (info["name"], info["phone"]) == ("Ada Byron", "+44 20 7946 0000")

    everyone = _ok(wallet, "user", "list")
    mine = next(u for u in everyone if u["email"] == person.email)
    assert mine["name"] == "Ada Byron" and mine["cards"] == 0 and "password_hash" not in mine

    assert person.is_signed_in()  # since approving the agent's login
    reset = _ok(wallet, "user", "reset-password", "--email", person.email, "--password-stdin",
                input_text="a brand new secret\n")  # fmt: skip
    assert reset["password_reset"] is True
    assert not person.is_signed_in()  # every browser session ended with the reset
    person.password = "a brand new secret"
    person.sign_in()  # the new password works on the sign-in page
    api.close()


def test_history_filters_and_formula_safe_csv(wallet: WalletProcess) -> None:
    api = new_agent(wallet)
    email = api.person.email
    hostile = api.create_ok(card_body(merchant_name='=HYPERLINK("http://evil")'))
    plain = api.create_ok(card_body(merchant_name="Corner Books"))
    approve_spend_request(api.person, plain["approval_url"])
    # A shared payment token the merchant settles: the history shows settlement and receipt.
    merchant = register_merchant(wallet)
    paid = api.create_ok(spt_body(network_id=merchant.network_id, amount=700))
    approve_spend_request(api.person, paid["approval_url"])
    token = api.retrieve(paid["id"], "shared_payment_token").json()["shared_payment_token"]
    settled = confirm(wallet, merchant, spt_form(token["id"] if isinstance(token, dict) else token,
                                                 amount=650))  # fmt: skip
    assert settled.status_code == 200, settled.text

    rows = _ok(wallet, "history", "--email", email)
    assert [r["id"] for r in rows] == [paid["id"], plain["id"], hostile["id"]]
    receipt = rows[0]
    assert (receipt["status"], receipt["credential_type"]) == ("succeeded", "shared_payment_token")
    assert (receipt["settlement_status"], receipt["settled_amount"], receipt["settled_by"]) == (
        "succeeded", 650, "Test Shop",
    )  # fmt: skip
    assert receipt["receipt"] == settled.json()["id"] and receipt["credential_used_at"]
    assert rows[1]["status"] == "approved" and rows[1]["credential_id"]
    assert rows[1]["receipt"] is None and rows[2]["credential_id"] is None

    books = _ok(wallet, "history", "--email", email, "--status", "approved", "--merchant", "corner")
    assert [r["id"] for r in books] == [plain["id"]]
    assert _ok(wallet, "history", "--email", email, "--since", "2000-01-01", "--until",
               "2000-12-31") == []  # fmt: skip

    text = _ok(wallet, "history", "--email", email, "--csv")
    table = list(csv.DictReader(io.StringIO(text)))
    names = {row["id"]: row["merchant_name"] for row in table}
    assert names[hostile["id"]] == '\'=HYPERLINK("http://evil")'
    assert names[plain["id"]] == "Corner Books"
    api.close()
