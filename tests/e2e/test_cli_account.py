"""Payment methods, shipping addresses and user info end to end, in every output format."""

from __future__ import annotations

import json

import pytest
import yaml
from tests.support.agent import Agent, login


@pytest.fixture(scope="module")
def session(wallet, tmp_path_factory):
    person = wallet.create_person(name="Jenny Rosen")
    agent = Agent(wallet.url, tmp_path_factory.mktemp("account") / "auth.json")
    login(agent, person)
    yield agent, person
    person.close()


def test_payment_methods_list_is_a_bare_array(session):
    agent, person = session
    code, methods = agent.json("payment-methods", "list")
    assert code == 0 and [m["id"] for m in methods] == [person.payment_method_id]
    assert methods[0]["card_details"]["last4"] == "4242"
    assert "number" not in json.dumps(methods)


@pytest.mark.parametrize("fmt", ["toon", "json", "yaml", "md", "jsonl"])
def test_every_format_renders_the_same_list(session, fmt):
    agent, person = session
    result = agent.run("payment-methods", "list", "--format", fmt)
    assert result.returncode == 0, result.stdout
    out = result.stdout
    if fmt == "json":
        assert json.loads(out)[0]["id"] == person.payment_method_id
    elif fmt == "jsonl":
        assert json.loads(out.splitlines()[0])["id"] == person.payment_method_id
    elif fmt == "yaml":
        assert yaml.safe_load(out)[0]["id"] == person.payment_method_id
    elif fmt == "md":
        assert (
            out.startswith("| id | type | is_default |") or f"| {person.payment_method_id} |" in out
        )
        assert person.payment_method_id in out
    else:
        assert out.startswith("[1]:\n  - id: " + person.payment_method_id)
        assert '      last4: "4242"' in out


def test_user_info_has_exactly_the_five_fields(session):
    agent, person = session
    code, info = agent.json("user-info", "retrieve")
    assert code == 0
    assert list(info) == ["email", "name", "first_name", "last_name", "phone"]
    assert info["email"] == person.email and info["phone"] is None


def test_shipping_addresses_keep_nulls(session):
    agent, _ = session
    code, addresses = agent.json("shipping-address", "list")
    assert code == 0 and len(addresses) == 1
    assert "line_2" in addresses[0]["address"]


def test_payment_methods_add_points_at_the_wallet_page(session):
    agent, _ = session
    code, out = agent.json("payment-methods", "add")
    assert (code, out) == (0, {"url": f"{agent.base_url}/wallet/cards/new"})


def test_env_token_works_without_stored_credentials(session, tmp_path):
    agent, person = session
    token = json.loads(agent.auth_file.read_text())["auth"]["access_token"]
    fresh = Agent(agent.base_url, tmp_path / "none.json")
    code, methods = fresh.json("payment-methods", "list", LINK_ACCESS_TOKEN=token)
    assert code == 0 and methods[0]["id"] == person.payment_method_id


def test_read_commands_need_authentication(wallet, tmp_path):
    agent = Agent(wallet.url, tmp_path / "auth.json")
    for command in (
        ("payment-methods", "list"),
        ("user-info", "retrieve"),
        ("shipping-address", "list"),
    ):
        code, error = agent.json(*command)
        assert code == 1 and error["code"] == "NOT_AUTHENTICATED", command


def test_verbose_logs_to_stderr_without_tokens(session):
    agent, _ = session
    result = agent.run("--verbose", "payment-methods", "list", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)
    token = json.loads(agent.auth_file.read_text())["auth"]["access_token"]
    assert "/payment-details" in result.stderr and token not in result.stderr
