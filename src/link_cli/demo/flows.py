"""The two stories the demo tells, step by step, with the real programs.

Each flow starts as the skill's step 2 does: ``link-cli merchant inspect`` evaluates the URL
and names the credential type, and the flow goes on only with the one it names.

* Card: the agent asks for a one-time card (spend request with line items and totals),
  the person approves, the agent retrieves the card into a 0600 file and types it into the
  shop's checkout form; the wallet settles the payment and the request ends ``succeeded``.
* SPT: the agent calls a paid API, gets HTTP 402, decodes the challenge, asks for a Shared
  Payment Token bound to the shop's network id, the person approves, ``mpp pay`` answers
  the challenge; the API returns 200 with a receipt and the request ends ``succeeded``.

Every agent action is a ``link-cli`` subprocess (:class:`LinkCliAgent`); every person
action goes through the wallet's pages (:class:`Approver`); the checkout is a real form
post. Each step prints one line as it completes (:class:`StepReporter`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from link_cli._sanitize import sanitize_text
from link_cli.demo.agent import LinkCliAgent
from link_cli.demo.approver import Approver
from link_cli.demo.pages import FormBrowser
from link_cli.demo.progress import StepReporter
from link_cli.demo.shop import DemoShop
from link_cli.money import format_amount

__all__ = ["DemoFlowError", "FlowOutcome", "FlowRunner"]

# How long the agent waits for the person, as the official CLI's approval poller (contract §4.3).
_APPROVAL_TIMEOUT_SECONDS = 300
# Settlement is synchronous at the wallet; a few short re-reads absorb any lag.
_SETTLE_CHECKS = 20
_SETTLE_PAUSE_SECONDS = 0.25

CARD_CONTEXT = (
    "The person asked me to buy a rechargeable camp lantern from Trailhead Supply Co. "
    "before next weekend's trip, shipped to their home address; I found it at the shop's "
    "checkout page and will pay with a one-time card from their Link wallet."
)
SPT_CONTEXT = (
    "The person asked for tomorrow's mountain weather before they decide on the hike; the "
    "shop's forecast API charges per call through HTTP 402, so I am paying for exactly one "
    "forecast with a single-use token."
)


class DemoFlowError(RuntimeError):
    """A flow could not reach ``succeeded``; the message says at which step and why."""


@dataclass
class FlowOutcome:
    """What a flow achieved, for the summary."""

    name: str
    spend_request_id: str | None = None
    status: str = "not started"
    amount: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when the spend request ended ``succeeded``."""
        return self.status == "succeeded"


@dataclass
class FlowRunner:
    """Runs the flows against one started wallet and shop."""

    agent: LinkCliAgent
    approver: Approver
    shop: DemoShop
    reporter: StepReporter
    work_dir: Path

    def log_in(self) -> None:
        """``auth login`` → the person approves the device → ``auth status`` polls to done."""
        with self.reporter.step("Agent starts the login (link-cli auth login)") as step:
            started = self.agent.run("auth", "login", "--client-name", "Link CLI demo")
            url, phrase = started["verification_url"], started["phrase"]
            step.detail = f"phrase {phrase}"
        with self.reporter.step("Person approves the device in the wallet") as step:
            self.approver.approve_device(url, phrase)
            status = self.agent.run(
                "auth",
                "status",
                "--interval",
                "1",
                "--max-attempts",
                str(_APPROVAL_TIMEOUT_SECONDS),
                timeout=_APPROVAL_TIMEOUT_SECONDS + 60,
            )
            if not status.get("authenticated"):
                raise DemoFlowError("the login was not approved in time")
            step.detail = "link-cli is logged in"

    # -- card ---------------------------------------------------------------------------

    def card_flow(self, outcome: FlowOutcome) -> None:
        """Card: spend request → approval → card to file → checkout form → succeeded.

        ``outcome`` is filled in as the flow goes, so a failure still shows how far it got.
        """
        self.reporter.heading("Card flow: a one-time card typed into a checkout")
        self._inspect(self.shop.checkout_url, "card")
        with self.reporter.step("Agent reads the shop's checkout page") as step:
            cart = self.shop.read_checkout(FormBrowser())
            outcome.amount = format_amount(cart.amount, cart.currency)
            step.detail = f"{cart.item_name}, {outcome.amount}"
        # Commas and colons separate fields in --line-item (contract §11.2).
        item_name = cart.item_name.replace(",", " ").replace(":", " ")
        with self.reporter.step("Agent creates a card spend request") as step:
            created = self.agent.run(
                "spend-request",
                "create",
                "--credential-type",
                "card",
                "--amount",
                str(cart.amount),
                "--currency",
                cart.currency,
                "--merchant-name",
                self.shop.name,
                "--merchant-url",
                cart.url,
                "--context",
                CARD_CONTEXT,
                "--line-item",
                f"name:{item_name},quantity:1,unit_amount:{cart.amount}",
                "--total",
                f"type:subtotal,display_text:Subtotal,amount:{cart.amount}",
                "--total",
                "type:shipping,display_text:Shipping,amount:0",
                "--total",
                f"type:total,display_text:Total,amount:{cart.amount}",
                "--test",  # the demo shop holds a test key: it redeems only test credentials
            )
            outcome.spend_request_id = created["id"]
            outcome.status = created["status"]
            step.detail = (
                f"{created['id']}: {outcome.amount} at {self.shop.name}, {created['status']}"
            )
        self._approve(outcome, created)
        card_file = self.work_dir / f"card-{outcome.spend_request_id}.json"
        with self.reporter.step("Agent retrieves the card into a private file") as step:
            retrieved = self.agent.run(
                "spend-request",
                "retrieve",
                str(outcome.spend_request_id),
                "--include",
                "card",
                "--output-file",
                str(card_file),
            )
            card = _read_card(card_file)
            step.detail = (
                f"{card.get('brand', 'card')} ending {str(card['number'])[-4:]} → "
                f"{card_file.name} (mode 0600); stdout shows no card number"
            )
            if str(card["number"]) in json.dumps(retrieved):
                raise DemoFlowError("link-cli printed the card although --output-file was given")
        with self.reporter.step("Agent pays at the shop's checkout form") as step:
            receipt = self.shop.pay_with_card(FormBrowser(), card)
            step.detail = receipt
        self._await_succeeded(outcome)

    # -- SPT ----------------------------------------------------------------------------

    def spt_flow(self, outcome: FlowOutcome) -> None:
        """SPT: 402 probe → decode → spend request → approval → mpp pay → succeeded.

        ``outcome`` is filled in as the flow goes, so a failure still shows how far it got.
        """
        self.reporter.heading("Machine payment: HTTP 402 answered with a Shared Payment Token")
        api = self.shop.paid_api
        inspected = self._inspect(api.url, "shared_payment_token", api.method, api.body)
        with self.reporter.step("Agent calls the paid API") as step:
            header = self.shop.probe_paid_api(FormBrowser())
            step.detail = "402 Payment Required with a Payment challenge"
        with self.reporter.step("Agent decodes the challenge (link-cli mpp decode)") as step:
            decoded = self.agent.run("mpp", "decode", "--challenge", header)
            network_id = str(decoded["network_id"])
            if network_id != (inspected.get("stripe_offer") or {}).get("network_id"):
                raise DemoFlowError("mpp decode and merchant inspect disagree on the network id")
            request = decoded.get("request_json") or {}
            amount = int(str(request.get("amount", "0")))
            currency = str(request.get("currency", "usd"))
            outcome.amount = format_amount(amount, currency)
            step.detail = f"{outcome.amount}, network id {network_id}"
        with self.reporter.step("Agent creates an SPT spend request") as step:
            created = self.agent.run(
                "spend-request",
                "create",
                "--credential-type",
                "shared_payment_token",
                "--network-id",
                network_id,
                "--amount",
                str(amount),
                "--currency",
                currency,
                "--context",
                SPT_CONTEXT,
                "--line-item",
                f"name:{api.description},quantity:1,unit_amount:{amount}",
                "--total",
                f"type:total,display_text:Total,amount:{amount}",
                "--test",
            )
            outcome.spend_request_id = created["id"]
            outcome.status = created["status"]
            step.detail = f"{created['id']}: {outcome.amount}, {created['status']}"
        self._approve(outcome, created)
        with self.reporter.step("Agent pays with the token (link-cli mpp pay)") as step:
            pay_args = ["mpp", "pay", api.url, "--spend-request-id", str(outcome.spend_request_id)]
            if api.method != "GET":
                pay_args += ["--method", api.method]
            if api.body is not None:
                pay_args += ["--data", api.body]
            result = self.agent.run(*pay_args)
            status = int(result.get("status", 0))
            headers = result.get("headers") or {}
            if status != 200:
                raise DemoFlowError(
                    f"the paid API answered HTTP {status}: {sanitize_text(str(result.get('body')))[:200]}"
                )
            if "payment-receipt" not in headers:
                raise DemoFlowError("the paid API answered 200 without a Payment-Receipt")
            step.detail = f"HTTP 200 with a Payment-Receipt; {_forecast_line(result.get('body'))}"
        self._await_succeeded(outcome)

    # -- shared steps -------------------------------------------------------------------

    def _inspect(
        self, url: str, expected: str, method: str = "GET", body: str | None = None
    ) -> dict[str, Any]:
        """Step 2 of a purchase: ``merchant inspect`` must name the credential the flow uses."""
        with self.reporter.step("Agent inspects the merchant (link-cli merchant inspect)") as step:
            args = ["merchant", "inspect", url]
            if method != "GET":
                args += ["--method", method]
            if body is not None:
                args += ["--data", body]
            report = self.agent.run(*args)
            verdict = report.get("verdict") or {}
            kind = verdict.get("credential_type")
            if kind != expected:
                reason = sanitize_text(str(verdict.get("reason", "")))
                raise DemoFlowError(f"merchant inspect says {kind} ({reason}), not {expected}")
            offer = report.get("stripe_offer") or {}
            step.detail = f"credential type {kind}" + (
                f", network id {offer['network_id']}" if offer.get("network_id") else ""
            )
            return report

    def _approve(self, outcome: FlowOutcome, created: dict[str, Any]) -> None:
        approval_url = created.get("approval_url")
        if not approval_url:
            raise DemoFlowError("the spend request has no approval_url")
        with self.reporter.step("Person approves the purchase in the wallet") as step:
            self.approver.approve_spend_request(str(approval_url))
            polled = self.agent.run(
                "spend-request",
                "retrieve",
                str(outcome.spend_request_id),
                "--interval",
                "1",
                "--max-attempts",
                str(_APPROVAL_TIMEOUT_SECONDS),
                timeout=_APPROVAL_TIMEOUT_SECONDS + 60,
            )
            outcome.status = polled["status"]
            if outcome.status != "approved":
                raise DemoFlowError(f"the spend request ended {outcome.status}, not approved")
            step.detail = "approved"

    def _await_succeeded(self, outcome: FlowOutcome) -> None:
        with self.reporter.step("Spend request settles") as step:
            for _ in range(_SETTLE_CHECKS):
                current = self.agent.run("spend-request", "retrieve", str(outcome.spend_request_id))
                outcome.status = current["status"]
                if outcome.status not in ("approved", "pending_approval", "created"):
                    break
                time.sleep(_SETTLE_PAUSE_SECONDS)
            if outcome.status != "succeeded":
                raise DemoFlowError(f"the spend request ended {outcome.status}")
            step.detail = f"{outcome.spend_request_id} succeeded"


def _read_card(path: Path) -> dict[str, Any]:
    """The ``card`` object of a credential file written by ``--output-file`` (contract §10.2)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DemoFlowError(f"could not read the card file {path.name}") from error
    card = data.get("card") if isinstance(data, dict) else None
    if not isinstance(card, dict) or "number" not in card:
        raise DemoFlowError(f"{path.name} holds no card")
    return card


def _forecast_line(body: object) -> str:
    """One line from the forecast the paid API returned (text from the shop: sanitised)."""
    try:
        data = json.loads(str(body))
        today = data["days"][0]
        line = f"{data['city']} today: {today['summary']}, {today['low_c']}–{today['high_c']} °C"
    except (ValueError, KeyError, IndexError, TypeError):
        line = str(body)
    line = sanitize_text(line).replace("\n", " ")
    return line if len(line) <= 80 else line[:79] + "…"
