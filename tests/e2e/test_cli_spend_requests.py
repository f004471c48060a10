"""Spend requests end to end: the real CLI creates, the person decides in the wallet's pages."""

from __future__ import annotations

import json
import os
import stat

import pytest
import yaml
from tests.support.agent import CONTEXT, Agent, finish, login
from tests.support.approvals import approve_spend_request, deny_spend_request

SHOP = ("-m", "Widget Shop", "--merchant-url", "https://shop.example/checkout")


@pytest.fixture(scope="module")
def session(wallet, tmp_path_factory):
    person = wallet.create_person()
    agent = Agent(wallet.url, tmp_path_factory.mktemp("spend") / "auth.json")
    login(agent, person)
    yield agent, person
    person.close()


_counter = iter(range(1, 10**6))


def create_card(agent: Agent, *extra: str, amount: int = 1200) -> dict:
    """A card spend request with a unique merchant name (so never a duplicate)."""
    shop = f"Widget Shop {next(_counter)}"
    code, chunks = agent.json(
        "spend-request",
        "create",
        "--amount",
        str(amount),
        "-m",
        shop,
        "--merchant-url",
        "https://shop.example/checkout",
        "--context",
        CONTEXT,
        *extra,
    )
    assert code == 0, chunks
    assert isinstance(chunks, list) and len(chunks) == 1
    return chunks[0]


def test_card_request_approved_while_the_agent_polls(session, tmp_path):
    agent, person = session
    created = create_card(
        agent,
        "--line-item",
        "name:Widget,quantity:2,unit_amount:600",
        "--total",
        "type:total,display_text:Total,amount:1200",
        "--metadata",
        "order_id:ord_1,team:growth",
        "--metadata",
        "team:ops",
    )
    assert created["status"] == "pending_approval"
    assert created["line_items"] == [{"name": "Widget", "quantity": 2, "unit_amount": 600}]
    assert created["metadata"] == {"order_id": "ord_1", "team": "ops"}
    assert created["_next"] == {
        "command": f"spend-request retrieve {created['id']} --interval 2 --max-attempts 300",
        "until": "status changes from pending_approval",
    }
    assert "approval_url" in created["instruction"]

    poller = agent.popen(
        "spend-request",
        "retrieve",
        created["id"],
        "--interval",
        "0.2",
        "--max-attempts",
        "200",
        "--format",
        "jsonl",
    )
    try:
        first = json.loads(poller.stdout.readline())
        assert first["data"]["status"] == "pending_approval"
        approve_spend_request(person, created["approval_url"])
    finally:
        code, rest = finish(poller)
    lines = [json.loads(line) for line in rest.splitlines()]
    assert code == 0 and lines[-1]["type"] == "done"
    assert lines[-2]["data"]["status"] == "approved" and "card" not in lines[-2]["data"]

    code, chunks = agent.json("spend-request", "retrieve", created["id"], "--include", "card")
    card = chunks[0]["card"]
    assert code == 0 and len(card["number"]) == 16 and card["cvc"] and card["valid_until"]

    # --verbose: the card reaches stdout (the contract) but never the stderr log (contract §10.4).
    result = agent.run(
        "--verbose", "spend-request", "retrieve", created["id"], "--include", "card", "--json"
    )
    assert result.returncode == 0 and json.loads(result.stdout)[0]["card"] == card
    log = result.stderr
    assert f"> GET {agent.base_url}/spend_requests/{created['id']}?include=card" in log
    assert "< 200 OK" in log and '"cvc": "<redacted>"' in log
    stored = json.loads(agent.auth_file.read_text())["auth"]
    for secret in (card["number"], f'"{card["cvc"]}"', stored["access_token"]):
        assert secret not in log

    # --output-file: a new 0600 file holds the card; stdout names it and keeps only a summary.
    target = tmp_path / "card.json"
    args = (
        "spend-request",
        "retrieve",
        created["id"],
        "--include",
        "card",
        "--output-file",
        str(target),
    )
    code, chunks = agent.json(*args)
    result = chunks[0]
    assert code == 0 and "card" not in result and result["card_output_file"] == str(target)
    assert (
        result["card_last4"] == card["number"][-4:] and result["card_exp_year"] == card["exp_year"]
    )
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    saved = json.loads(target.read_text())
    assert saved["spend_request_id"] == created["id"] and saved["card"] == card

    code, error = agent.json(*args)
    assert code == 1 and error["code"] == "OUTPUT_FILE_EXISTS"
    assert (
        error["message"]
        == f"OUTPUT_FILE_EXISTS: {target} already exists. Use --force to overwrite."
    )
    code, chunks = agent.json(*args, "--force")
    assert code == 0 and stat.S_IMODE(os.stat(target).st_mode) == 0o600

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    link = tmp_path / "link.json"
    link.symlink_to(victim)
    for force in ((), ("--force",)):
        code, error = agent.json(
            "spend-request",
            "retrieve",
            created["id"],
            "--include",
            "card",
            "--output-file",
            str(link),
            *force,
        )
        assert code == 1 and error["code"] == "OUTPUT_FILE_WRITE_ERROR"
        assert error["message"].startswith(f"OUTPUT_FILE_SYMLINK: {link} is a symbolic link.")
    assert victim.read_text() == "untouched"


def test_shared_payment_token_request(session):
    agent, person = session
    person.wallet.store().create_merchant("E2E seller", "profile_e2e_1", livemode=True)
    code, chunks = agent.json(
        "spend-request",
        "create",
        "--credential-type",
        "shared_payment_token",
        "--network-id",
        "profile_e2e_1",
        "--amount",
        "500",
        "--context",
        CONTEXT,
    )
    created = chunks[0]
    assert code == 0 and created["credential_type"] == "shared_payment_token"
    assert created["network_id"] == "profile_e2e_1"
    approve_spend_request(person, created["approval_url"])
    code, chunks = agent.json(
        "spend-request", "retrieve", created["id"], "--include", "shared_payment_token"
    )
    assert code == 0 and chunks[0]["status"] == "approved"
    assert chunks[0]["shared_payment_token"]["id"].startswith("spt_")


def test_a_token_no_merchant_of_this_wallet_could_redeem_is_refused_at_creation(session):
    agent, _person = session
    code, chunks = agent.json(
        "spend-request",
        "create",
        "--credential-type",
        "shared_payment_token",
        "--network-id",
        "profile_nobody_here",
        "--amount",
        "500",
        "--context",
        CONTEXT,
    )
    error = chunks
    assert code == 1, error
    assert error["message"].startswith("Failed to create spend request (400): ")
    assert "No live-mode merchant with network id 'profile_nobody_here'" in error["message"]
    assert "could never be redeemed" in error["message"]


def test_denied_request_is_terminal_with_exit_zero(session):
    agent, person = session
    created = create_card(agent)
    deny_spend_request(person, created["approval_url"])
    code, chunks = agent.json("spend-request", "retrieve", created["id"], "--interval", "0.1")
    assert code == 0 and [c["status"] for c in chunks] == ["denied"]


def test_cancel_then_cancel_again_surfaces_the_api_error(session):
    agent, _ = session
    created = create_card(agent)
    code, canceled = agent.json("spend-request", "cancel", created["id"])
    assert code == 0 and canceled["status"] == "canceled" and canceled["id"] == created["id"]
    code, error = agent.json("spend-request", "cancel", created["id"])
    assert code == 1 and error["code"] == "UNKNOWN"
    assert error["message"].startswith("Failed to cancel spend request (409): ")


def test_pending_request_expires_with_the_wallet_clock(session, wallet):
    agent, _ = session
    created = create_card(agent)
    wallet.advance_clock(11 * 60)  # past the 10-minute approval window (contract §11.1)
    code, chunks = agent.json("spend-request", "retrieve", created["id"])
    assert code == 0 and chunks[0]["status"] == "expired"


def test_polling_limits_are_retryable_timeouts(session):
    agent, _ = session
    created = create_card(agent)
    code, error = agent.json(
        "spend-request", "retrieve", created["id"], "--interval", "0.05", "--max-attempts", "2"
    )
    assert code == 1 and error == {
        "code": "POLLING_TIMEOUT",
        "message": f"Polling stopped before spend request {created['id']} reached a terminal "
        "status: max attempts (2) exhausted; current status is pending_approval.",
        "retryable": True,
    }
    code, error = agent.json(
        "spend-request", "retrieve", created["id"], "--interval", "1", "--timeout", "0"
    )
    assert code == 1 and error["code"] == "POLLING_TIMEOUT"
    assert "timeout (0s) reached; current status is pending_approval" in error["message"]
    result = agent.run(
        "spend-request", "retrieve", created["id"], "--interval", "0.05", "--max-attempts", "1"
    )
    assert result.returncode == 1 and result.stdout.startswith(
        "Error (POLLING_TIMEOUT): Polling stopped"
    )


def test_unknown_id_is_not_found(session):
    agent, _ = session
    code, error = agent.json("spend-request", "retrieve", "lsrq_doesnotexist")
    assert (code, error) == (
        1,
        {"code": "NOT_FOUND", "message": "Spend request lsrq_doesnotexist not found"},
    )


def test_duplicate_request_names_the_existing_one(session):
    agent, _ = session
    args = ("spend-request", "create", "--amount", "700", *SHOP, "--context", CONTEXT)
    code, first = agent.json(*args)
    assert code == 0
    code, error = agent.json(*args)
    assert code == 1 and error["code"] == "spend_request_rate_limited"
    existing = first[0]["id"]
    assert (
        f"A matching spend request already exists: {existing} (status: pending_approval)."
        in error["message"]
    )
    assert error["message"].startswith("Failed to create spend request (429): ")
    # The wallet's sentence and the client's do not say the same thing twice.
    assert error["message"].count(existing) == 1, error["message"]
    assert error["message"].count("already") == 1, error["message"]
    agent.json("spend-request", "cancel", existing)


def test_without_approval_then_request_approval_update_and_list(session):
    agent, _ = session
    created = create_card(agent, "--no-request-approval", "--test")
    assert created["status"] == "created" and "_next" not in created and created["test"] is True
    code, updated = agent.json("spend-request", "update", created["id"], "--amount", "1500")
    assert code == 0 and updated["amount"] == 1500
    code, chunks = agent.json("spend-request", "request-approval", created["id"])
    assert code == 0 and chunks[0]["_next"]["command"].startswith(
        f"spend-request retrieve {created['id']}"
    )
    code, active = agent.json("spend-request", "list")
    assert code == 0 and created["id"] in {r["id"] for r in active}
    agent.json("spend-request", "cancel", created["id"])
    code, active = agent.json("spend-request", "list")
    assert created["id"] not in {r["id"] for r in active}
    code, everything = agent.json("spend-request", "list", "--include-history")
    assert created["id"] in {r["id"] for r in everything}


def test_validation_and_input_errors_make_no_request(session):
    agent, _ = session
    _, before = agent.json("spend-request", "list", "--include-history")
    code, error = agent.json(
        "spend-request", "create", "--amount", "abc", *SHOP, "--context", "short"
    )
    assert code == 1 and error["code"] == "VALIDATION_ERROR"
    assert [f["path"] for f in error["fieldErrors"]] == ["amount", "context"]
    code, error = agent.json(
        "spend-request",
        "create",
        "--amount",
        "100",
        "--context",
        CONTEXT,
        "--credential-type",
        "shared_payment_token",
    )
    assert (code, error["code"]) == (1, "INVALID_INPUT")
    _, after = agent.json("spend-request", "list", "--include-history")
    assert len(after) == len(before)


@pytest.mark.parametrize("fmt", ["default", "toon", "jsonl", "yaml", "md"])
def test_create_in_every_format(session, fmt):
    agent, _ = session
    shop = f"Format Shop {fmt}"
    chosen = () if fmt == "default" else ("--format", fmt)
    result = agent.run(
        "spend-request",
        "create",
        "--amount",
        "300",
        "-m",
        shop,
        "--merchant-url",
        "https://shop.example",
        "--context",
        CONTEXT,
        *chosen,
    )
    assert result.returncode == 0, result.stdout
    out = result.stdout
    if fmt == "default":  # incremental toon: each chunk its own document (contract §2.3)
        assert out.startswith("id: lsrq_") and "_next:\n  command: spend-request retrieve" in out
    elif fmt == "toon":  # an explicit format buffers the chunks into an array
        assert out.startswith("[1]:\n  - id: lsrq_")
    elif fmt == "jsonl":
        lines = [json.loads(line) for line in out.splitlines()]
        assert [line["type"] for line in lines] == ["chunk", "done"]
        assert lines[1]["meta"]["command"] == "spend-request create"
    elif fmt == "yaml":
        (chunk,) = yaml.safe_load(out)
        assert chunk["merchant_name"] == shop
    else:
        assert f"| merchant_name | {shop} |" in out or shop in out


def test_no_credentials_means_not_authenticated(wallet, tmp_path):
    agent = Agent(wallet.url, tmp_path / "none.json")
    for args in (
        ("spend-request", "list"),
        ("spend-request", "retrieve", "lsrq_1"),
        ("spend-request", "create", "--amount", "100", *SHOP, "--context", CONTEXT),
    ):
        code, error = agent.json(*args)
        assert code == 1 and error["code"] == "NOT_AUTHENTICATED", args


def test_human_create_waits_for_approval_and_masks_the_card(session, monkeypatch):
    """At a terminal: approval box + QR, a wait, then the card shown masked (never whole)."""
    import io
    import threading

    from link_cli.cli.main import run

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    agent, person = session
    for name, value in agent.env().items():
        if name.startswith("LINK_"):
            monkeypatch.setenv(name, value)
    shop = "Human Shop"
    out = Terminal()
    result: list[int] = []
    argv = [
        "spend-request",
        "create",
        "--amount",
        "900",
        "-m",
        shop,
        "--merchant-url",
        "https://shop.example",
        "--context",
        CONTEXT,
    ]
    worker = threading.Thread(target=lambda: result.append(run(argv, out)), daemon=True)
    worker.start()
    pending = []
    for _ in range(200):  # bounded: ~20 s
        _, active = agent.json("spend-request", "list")
        pending = [r for r in active if r["merchant_name"] == shop]
        if pending:
            break
        worker.join(0.1)
    assert pending, "the spend request was never created"
    approve_spend_request(person, pending[0]["approval_url"])
    worker.join(30)
    assert result == [0]
    text = out.getvalue()
    assert pending[0]["approval_url"] in text and "▀" in text
    _, chunks = agent.json("spend-request", "retrieve", pending[0]["id"], "--include", "card")
    number = chunks[0]["card"]["number"]
    assert number not in text and f"•••• {number[-4:]}" in text
    assert f"cvc: {chunks[0]['card']['cvc']}" not in text and "cvc: •••" in text


# Every field a SpendRequest may carry (contract §7.2, plus `test` echoed from the create
# body, contract §7.3); the CLI adds only the two hint fields.
SPEND_REQUEST_FIELDS = {
    "id", "status", "merchant_name", "merchant_url", "context", "amount", "currency",
    "line_items", "totals", "payment_details", "payment_method", "credential_type",
    "network_id", "card_brand", "card_last4", "approval_url", "card", "shared_payment_token",
    "link_pay_token", "payment_status_details", "status_details", "link_transaction_id",
    "activity_url", "metadata", "expires_at", "created_at", "updated_at", "test",
}  # fmt: skip
HINT_FIELDS = ["instruction", "_next"]


def test_golden_output_shapes(session):
    """JSON shapes of contract §2.2–§2.4 and §7.2: arrays for streaming commands, bare values
    otherwise, hints last, and nothing outside the reference's SpendRequest fields."""
    agent, _ = session
    created = create_card(agent)
    assert list(created)[-2:] == HINT_FIELDS
    assert set(created) - set(HINT_FIELDS) <= SPEND_REQUEST_FIELDS
    for field in ("id", "status", "amount", "currency", "line_items", "totals", "created_at"):
        assert field in created, field

    code, chunks = agent.json("spend-request", "request-approval", created["id"])
    (approval,) = chunks
    assert code == 0 and approval["id"] == created["id"] and "approval_link" in approval
    assert list(approval)[-2:] == HINT_FIELDS
    assert approval["_next"] == {
        "command": f"spend-request retrieve {created['id']} --interval 2 --max-attempts 300",
        "until": "status changes from pending_approval",
    }

    code, chunks = agent.json("spend-request", "retrieve", created["id"])
    (retrieved,) = chunks  # streaming: an array even for one fetch
    assert code == 0 and set(retrieved) <= SPEND_REQUEST_FIELDS

    code, listed = agent.json("spend-request", "list")  # a bare array, no `data` envelope
    assert code == 0 and isinstance(listed, list)
    assert all(set(item) <= SPEND_REQUEST_FIELDS for item in listed)

    code, canceled = agent.json("spend-request", "cancel", created["id"])  # a bare object
    assert code == 0 and canceled["status"] == "canceled"
    assert set(canceled) <= SPEND_REQUEST_FIELDS
