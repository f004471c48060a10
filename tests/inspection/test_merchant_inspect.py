"""``merchant inspect``: the verdict, checkout signals, agent policy and risks, on local sites.

Most cases run the analysis in-process against one threaded server that answers for many
host names (``--resolve`` pins them to loopback); a few run the real ``link-cli``. The demo
shop and the demo paid API are inspected by the command-tree tours (tests/e2e) and the
demo's own flows; an mppx merchant with several offers is inspected here when Node is there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.inspection.sites import LOOKALIKE, NETWORK_ID, Sites, running_sites
from tests.support.agent import LINK_CLI
from tests.support.environment import clean_env, outer_env
from tests.support.ports import free_port

from link_cli.inspection import Inspection, inspect_merchant
from link_cli.inspection.domains import is_domain_name, lookalike_reason, registrable_domain
from link_cli.inspection.policy import robots_policy, text_policy, x_robots_policy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    with running_sites() as running:
        yield running


def _inspect(sites: Sites, host: str, path: str, **options: object) -> dict:
    hosts = {host, "shop.test", "pay.shop.test", "elsewhere.test", LOOKALIKE}
    return inspect_merchant(
        Inspection(url=sites.url(host, path), resolve=sites.resolve(*hosts), **options)
    )


def _signals(report: dict) -> set[str]:
    return {risk["signal"] for risk in report["risks"]}


# --- verdicts -------------------------------------------------------------------------------


def test_a_card_form_asks_for_a_card_with_the_total_and_merchant(sites: Sites) -> None:
    report = _inspect(sites, "shop.test", "/checkout")
    assert report["verdict"]["credential_type"] == "card"
    checkout = report["checkout"]
    assert checkout["card_fields"] == {
        "number": True,
        "expiry": True,
        "cvc": True,
        "found_in": "form#checkout-form",
    }
    assert checkout["cart_total"] == {
        "text": "$24.00",
        "amount": 2400,
        "currency": "usd",
        "found_in": "strong#total[data-amount]",
    }
    command = report["_next"]["spend_request_command"]
    assert command.startswith("spend-request create --credential-type card ")
    assert "--merchant-name 'Trail Shop'" in command and "--amount 2400 --currency usd" in command
    assert f"--merchant-url {sites.url('shop.test', '/checkout')}" in command


def test_a_stripe_hosted_checkout_with_the_agent_block_recommends_a_link_pay_token(
    sites: Sites,
) -> None:
    report = _inspect(sites, "shop.test", "/hosted")
    verdict = report["verdict"]
    assert verdict["credential_type"] == "card"
    assert verdict["execution_method"] == "link_pay_token"
    assert verdict["merchant_account_id"] == "acct_1InspectTest"
    checkout = report["checkout"]
    assert checkout["stripe_checkout"] and checkout["link_button"]
    assert checkout["link_pay_token"] == {
        "merchant_account_id": "acct_1InspectTest",
        "input": "link_pay_token",
    }
    assert checkout["cart_total"]["amount"] == 3150
    assert checkout["cart_total"]["found_in"] == "span.OrderSummary-totalAmount"
    command = report["_next"]["spend_request_command"]
    assert "--execution-method link_pay_token --merchant-account-id acct_1InspectTest" in command
    assert "--merchant-name" not in command  # Link names the merchant from the account
    assert "form_posts_elsewhere" not in _signals(report)  # Stripe is where checkouts post


def test_a_stripe_elements_page_is_a_card_checkout_with_its_json_ld_total(sites: Sites) -> None:
    report = _inspect(sites, "shop.test", "/elements")
    assert report["verdict"]["credential_type"] == "card"
    assert report["checkout"]["stripe_elements"] and report["checkout"]["link_button"]
    assert report["checkout"]["cart_total"] == {
        "text": "12.75",
        "amount": 1275,
        "currency": "eur",
        "found_in": "JSON-LD totalPaymentDue.price",
    }


def test_a_page_without_payment_is_unknown_and_no_command_is_offered(sites: Sites) -> None:
    report = _inspect(sites, "shop.test", "/about")
    assert report["verdict"] == {
        "credential_type": "unknown",
        "reason": "no card form, Stripe checkout or 402 challenge found",
    }
    assert "spend_request_command" not in report["_next"]
    assert report["_next"]["instruction"].startswith("Do not create a spend request")
    # A <meta> addressed to an AI agent is part of the site's policy.
    assert {
        "source": "<meta name=robots>",
        "status": "disallowed",
        "lines": ["GPTBot: noindex, nofollow"],
    } in report["agent_policy"]["sources"]


def test_a_402_with_a_stripe_offer_asks_for_a_token_and_lists_the_other_offers(
    sites: Sites,
) -> None:
    report = _inspect(sites, "shop.test", "/api/forecast", method="POST", data="{}")
    assert report["verdict"]["credential_type"] == "shared_payment_token"
    offer = report["stripe_offer"]
    assert (offer["network_id"], offer["amount"], offer["currency"]) == (NETWORK_ID, "250", "usd")
    assert offer["description"] == "One forecast"
    assert [(o["method"], o["amount"]) for o in report["other_offers"]] == [("tempo", "2500000")]
    hints = report["_next"]
    assert hints["spend_request_command"].startswith(
        "spend-request create --credential-type shared_payment_token "
        f"--network-id {NETWORK_ID} --amount 250 --currency usd --context"
    )
    assert hints["pay_command"] == (
        f"mpp pay {sites.url('shop.test', '/api/forecast')} --spend-request-id <id> "
        "-X POST -d '{}'"
    )


def test_a_402_with_only_another_method_is_unsupported(sites: Sites) -> None:
    report = _inspect(sites, "shop.test", "/api/tempo-only")
    assert report["verdict"]["credential_type"] == "unsupported"
    assert "tempo/charge" in report["verdict"]["reason"]
    assert report["stripe_offer"] is None
    assert "spend_request_command" not in report["_next"]


# --- agent policy -----------------------------------------------------------------------------


def test_the_sites_policy_files_are_read_and_quoted(sites: Sites) -> None:
    policy = _inspect(sites, "shop.test", "/checkout")["agent_policy"]
    by_source = {s["source"]: s for s in policy["sources"]}
    assert by_source["/agents.txt"]["status"] == "absent"
    assert by_source["/llms.txt"] == {
        "source": "/llms.txt",
        "status": "allowed",
        "lines": ["AI agents are welcome to buy on a person's behalf."],
    }
    assert by_source["/robots.txt"]["status"] == "allowed"
    assert by_source["/robots.txt"]["lines"] == ["User-agent: GPTBot", "Allow: /"]
    assert policy["summary"] == "allowed"


def test_agents_txt_forbidding_agents_is_reported_and_cautioned(sites: Sites) -> None:
    report = _inspect(sites, "forbidding.test", "/checkout")
    assert report["agent_policy"]["summary"] == "disallowed"
    [agents] = [s for s in report["agent_policy"]["sources"] if s["source"] == "/agents.txt"]
    assert agents["lines"] == ["User-agent: *", "Disallow: /"]
    assert any("disallows" in c for c in report["_next"]["cautions"])


def test_an_x_robots_tag_noai_disallows(sites: Sites) -> None:
    policy = _inspect(sites, "shop.test", "/noai")["agent_policy"]
    assert policy["summary"] == "disallowed"
    assert {"source": "X-Robots-Tag", "status": "disallowed", "lines": ["noai"]} in policy[
        "sources"
    ]


def test_policy_parsers() -> None:
    robots = "User-agent: *\nDisallow: /private\n\nUser-agent: ClaudeBot\nDisallow: /check*\n"
    assert robots_policy(robots, "/checkout", "r")["status"] == "disallowed"
    assert robots_policy(robots, "/checkout", "r")["agents"] == ["ClaudeBot"]
    assert robots_policy(robots, "/cart", "r")["status"] == "allowed"
    assert robots_policy("# nothing here\n", "/", "r")["status"] == "not_stated"
    prose = "Automated agents must not place orders.\nSee our terms."
    assert text_policy(prose, "t")["status"] == "disallowed"
    assert text_policy("# Docs\n- [API](/api)", "t")["status"] == "not_stated"
    assert x_robots_policy(["GPTBot: noindex"])["status"] == "disallowed"
    assert x_robots_policy(["noindex"])["status"] == "not_stated"
    assert x_robots_policy([]) is None


# --- risks ----------------------------------------------------------------------------------


def test_a_redirect_to_another_registrable_domain_is_flagged(sites: Sites) -> None:
    report = _inspect(sites, "shop.test", "/go")
    assert report["final_url"] == sites.url("elsewhere.test", "/checkout")
    assert report["redirects"] == [
        sites.url("pay.shop.test", "/checkout"),
        sites.url("elsewhere.test", "/checkout"),
    ]
    [risk] = [r for r in report["risks"] if r["signal"] == "cross_domain_redirect"]
    assert risk["detail"].startswith("shop.test redirected to elsewhere.test")


def test_a_lookalike_of_the_expected_domain_is_flagged(sites: Sites) -> None:
    report = _inspect(sites, LOOKALIKE, "/checkout", expect_domain="shop.test")
    [risk] = [r for r in report["risks"] if r["signal"] == "lookalike_domain"]
    assert "imitates shop.test with punycode" in risk["detail"]
    assert "shоp.test" in risk["detail"]  # the Unicode form a person would have seen
    assert risk["detail"] in report["_next"]["cautions"]
    same = _inspect(sites, "shop.test", "/checkout", expect_domain="https://shop.test/")
    assert not {"lookalike_domain", "unexpected_domain"} & _signals(same)


def test_a_page_posting_cards_to_another_domain_and_naming_one_is_flagged(sites: Sites) -> None:
    report = _inspect(sites, LOOKALIKE, "/signin")
    assert {"form_posts_elsewhere", "title_names_other_domain", "plain_http"} <= _signals(report)
    [plain] = [r for r in report["risks"] if r["signal"] == "plain_http"]
    assert plain["severity"] == "high"  # a host name, although it resolves to loopback


def test_domain_rules() -> None:
    assert is_domain_name("PayPal.com") and is_domain_name("shop.co.uk")
    assert not is_domain_name("Node.js") and not is_domain_name("co.uk")
    assert registrable_domain("a.b.shop.co.uk") == "shop.co.uk"
    assert registrable_domain("127.0.0.1") == "127.0.0.1"
    assert lookalike_reason("www.shop.example", "shop.example") is None
    assert "one letter" in (lookalike_reason("shopp.example", "shop.example") or "")
    assert "look-alike letters" in (lookalike_reason("paypa1.com", "paypal.com") or "")
    assert "another suffix" in (lookalike_reason("shop.net", "shop.com") or "")
    assert "in front of" in (lookalike_reason("shop.com.pay.example", "shop.com") or "")
    assert lookalike_reason("weather.example", "shop.example") is None


# --- the real program ---------------------------------------------------------------------------


def _link_cli(*args: str) -> dict:
    result = subprocess.run(
        [LINK_CLI, *args, "--format", "json"],
        capture_output=True,
        text=True,
        env=clean_env({"NO_UPDATE_NOTIFIER": "1"}),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_link_cli_inspects_a_lookalike_through_resolve(sites: Sites) -> None:
    report = _link_cli(
        "merchant",
        "inspect",
        sites.url(LOOKALIKE, "/checkout"),
        "--expect-domain",
        "shop.test",
        *sites.resolve_args(LOOKALIKE),
    )
    assert report["verdict"]["credential_type"] == "card"
    assert "lookalike_domain" in _signals(report)


@pytest.fixture(scope="module")
def mppx_offers() -> Iterator[str]:
    """An mppx 0.11.0 merchant answering 402 with a tempo and a stripe offer."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm are not installed: the mppx merchant needs them")
    installed = subprocess.run(
        [str(REPO / "scripts" / "install-node-peers.sh")],
        env=outer_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    port = free_port()
    script = Path(__file__).with_name("mppx_offers.mjs")
    process = subprocess.Popen(
        ["node", str(script), installed.stdout.strip(), str(port), NETWORK_ID],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "listening", "the mppx merchant did not start"
        yield f"http://127.0.0.1:{port}/api/thing"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.server
def test_link_cli_picks_the_stripe_offer_of_an_mppx_merchant(mppx_offers: str) -> None:
    report = _link_cli("merchant", "inspect", mppx_offers)
    assert report["verdict"]["credential_type"] == "shared_payment_token"
    offer = report["stripe_offer"]
    assert (offer["network_id"], offer["amount"], offer["currency"]) == (NETWORK_ID, "250", "usd")
    assert offer["realm"] == "mppx-offers.test" and offer["expires"]
    assert [o["method"] for o in report["other_offers"]] == ["tempo"]
    assert f"--network-id {NETWORK_ID}" in report["_next"]["spend_request_command"]
