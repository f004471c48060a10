"""Fetch a merchant URL and the site's agent policy; turn what was found into a verdict."""

from __future__ import annotations

import ipaddress
import shlex
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from link_cli.inspection import domains, page, policy
from link_cli.mpp import MppParseError
from link_cli.mpp.client import (
    MerchantRequest,
    MerchantRequestFailed,
    MerchantResponse,
    Resolve,
    preferred_stripe_offer,
    read_challenges,
    send,
)
from link_cli.mpp.methods import stripe

__all__ = ["Inspection", "inspect_merchant", "parse_resolve"]

SPT, CARD, UNSUPPORTED, UNKNOWN = "shared_payment_token", "card", "unsupported", "unknown"
MAX_REDIRECTS = 3
PAGE_BYTES = 2 * 1024 * 1024
POLICY_BYTES = 256 * 1024
REQUEST_TIMEOUT = 10.0
TOTAL_SECONDS = 30.0
POLICY_FILES = ("/agents.txt", "/llms.txt", "/robots.txt")
# Where checkout forms legitimately post: the payment processors a shop hands off to.
_PAYMENT_DOMAINS = frozenset({"stripe.com", "link.com"})
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
CONTEXT_HINT = "'<what you are buying and why, 100+ characters>'"


class InspectError(Exception):
    """The URL could not be inspected; the message is safe to show."""


class RefusedInput(InspectError):
    """The request asked for something inspect never does (send a credential)."""


@dataclass(frozen=True)
class Inspection:
    """What to inspect and how to reach it."""

    url: str
    method: str | None = None
    data: str | None = None
    headers: tuple[str, ...] = ()
    expect_domain: str | None = None
    resolve: Resolve | None = None


def parse_resolve(entries: list[str]) -> dict[tuple[str, int], str]:
    """curl's ``--resolve HOST:PORT:ADDRESS`` entries; raises ValueError with the bad one."""
    pinned: dict[tuple[str, int], str] = {}
    for entry in entries:
        host, _, rest = entry.partition(":")
        port, _, address = rest.partition(":")
        address = address.strip().removeprefix("[").removesuffix("]")
        try:
            ipaddress.ip_address(address)
            number = int(port)
        except ValueError:
            raise ValueError(f"--resolve {entry!r}: expected HOST:PORT:ADDRESS") from None
        if not host or not 0 < number < 65536:
            raise ValueError(f"--resolve {entry!r}: expected HOST:PORT:ADDRESS")
        pinned[(host.strip().lower(), number)] = address
    return pinned


class _Clock:
    def __init__(self) -> None:
        self.deadline = time.monotonic() + TOTAL_SECONDS

    def timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise InspectError(f"Inspection took longer than {TOTAL_SECONDS:.0f} seconds.")
        return min(REQUEST_TIMEOUT, left)


def _request(target: Inspection) -> MerchantRequest:
    private = [
        line.partition(":")[0].strip()
        for line in target.headers
        if line.partition(":")[0].strip().lower() in _PRIVATE_HEADERS
    ]
    if private:
        raise RefusedInput(
            f"merchant inspect never sends credentials or cookies: drop the {private[0]} header."
        )
    return MerchantRequest.from_options(
        target.url, method=target.method or None, data=target.data, header_lines=target.headers
    )


def _host(url: str) -> str:
    return (urllib.parse.urlsplit(url).hostname or "").lower()


# --- offers ---------------------------------------------------------------------------------


def _offer(challenge: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"method": challenge.method, "intent": challenge.intent}
    if challenge.realm:
        out["realm"] = challenge.realm
    try:
        request = challenge.request_json()
    except MppParseError:
        request = {}
    for key in ("amount", "currency"):
        if isinstance(request.get(key), str | int):
            out[key] = str(request[key])
    description = challenge.description or request.get("description")
    if isinstance(description, str) and description:
        out["description"] = description
    if challenge.expires:
        out["expires"] = challenge.expires
    return out


def _offers(response: MerchantResponse) -> tuple[dict[str, Any] | None, list[dict[str, Any]], str]:
    """(the stripe offer, every other offer, why there is no stripe offer)."""
    try:
        challenges = read_challenges(response)
    except MppParseError as exc:
        return None, [], str(exc)
    if not challenges:
        return None, [], "the 402 carries no readable Payment challenge"
    try:
        chosen = preferred_stripe_offer(challenges)
        request = stripe.parse_stripe_request(chosen)
    except MppParseError as exc:
        return None, [_offer(c) for c in challenges], str(exc)
    offer = _offer(chosen)
    offer.update(
        network_id=request.network_id,
        amount=request.amount,
        currency=request.currency,
        expired=chosen.is_expired(),
    )
    try:
        request.check_payable()
    except MppParseError as exc:
        offer["problem"] = str(exc)
    return offer, [_offer(c) for c in challenges if c is not chosen], ""


# --- policy ---------------------------------------------------------------------------------


def _policy_file(origin: str, path: str, target: Inspection, clock: _Clock) -> str | None:
    """The text of a policy file, or None when the site has none (an HTML page is none)."""
    try:
        answer = send(
            MerchantRequest(url=origin + path),
            timeout=clock.timeout(),
            max_redirects=2,
            max_bytes=POLICY_BYTES,
            resolve=target.resolve,
        )
    except MerchantRequestFailed:
        return None
    kind = ",".join(answer.header_values("content-type")).lower()
    if answer.status != 200 or "html" in kind:
        return None
    text = answer.body.decode("utf-8", errors="replace")
    return None if text.lstrip().startswith("<") else text


def _agent_policy(
    response: MerchantResponse, signals: page.PageSignals | None, target: Inspection, clock: _Clock
) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(response.request.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    sources: list[dict[str, Any]] = []
    for path in POLICY_FILES:
        text = _policy_file(origin, path, target, clock)
        if text is None:
            sources.append({"source": path, "status": "absent", "lines": []})
        elif path == "/robots.txt":
            sources.append(policy.robots_policy(text, policy.path_of(response.request.url), path))
        elif path == "/agents.txt":
            read = policy.robots_policy(text, policy.path_of(response.request.url), path)
            sources.append(
                read if read["status"] != "not_stated" else policy.text_policy(text, path)
            )
        else:
            sources.append(policy.text_policy(text, path))
    tag = policy.x_robots_policy(response.header_values("x-robots-tag"))
    if tag is not None:
        sources.append(tag)
    if signals is not None and signals.meta_robots:
        meta = policy.x_robots_policy(
            [
                line.split(": ", 1)[1] if line.lower().startswith("robots") else line
                for line in signals.meta_robots
            ],
            "<meta name=robots>",
        )
        if meta is not None:
            sources.append(meta)
    present = [s for s in sources if s["status"] != "absent"]
    summary = policy.site_policy(present)["summary"]
    return {"summary": summary, "sources": sources}


# --- risks ----------------------------------------------------------------------------------


def _risks(
    response: MerchantResponse, signals: page.PageSignals | None, target: Inspection
) -> list[dict[str, str]]:
    risks: list[dict[str, str]] = []
    start = domains.registrable_domain(_host(target.url))
    for hop in (*response.redirects[1:], response.request.url):
        there = domains.registrable_domain(_host(hop))
        if there != start:
            risks.append(
                {
                    "signal": "cross_domain_redirect",
                    "severity": "high",
                    "detail": f"{start} redirected to {there} ({hop})",
                }
            )
            break
    final = urllib.parse.urlsplit(response.request.url)
    if final.scheme == "http":
        loopback = _is_loopback(final.hostname or "")
        risks.append(
            {
                "signal": "plain_http",
                "severity": "low" if loopback else "high",
                "detail": "the page is served without TLS"
                + (" (loopback address)" if loopback else ": anyone on the path can change it"),
            }
        )
    if target.expect_domain:
        expected = target.expect_domain.strip().lower()
        if "://" in expected:
            expected = _host(expected)
        host = final.hostname or ""
        reason = domains.lookalike_reason(host, expected)
        if reason is not None:
            risks.append({"signal": "lookalike_domain", "severity": "high", "detail": reason})
        elif domains.registrable_domain(host) != domains.registrable_domain(expected):
            risks.append(
                {
                    "signal": "unexpected_domain",
                    "severity": "high",
                    "detail": f"{domains.registrable_domain(host)} is not {expected}",
                }
            )
        elif "xn--" in host:
            risks.append(
                {"signal": "punycode", "severity": "medium", "detail": domains.host_label(host)}
            )
    if signals is not None:
        here = domains.registrable_domain(final.hostname or "")
        for action in signals.form_actions:
            there = domains.registrable_domain(_host(action)) if _host(action) else here
            if there not in (here, *_PAYMENT_DOMAINS):
                risks.append(
                    {
                        "signal": "form_posts_elsewhere",
                        "severity": "high",
                        "detail": f"a form on {here} posts to {there} ({action})",
                    }
                )
        for word in signals.title.replace("|", " ").replace("·", " ").split():
            word = word.strip(".,:;!?()[]'\"").lower()
            if not domains.is_domain_name(word):
                continue
            named = domains.registrable_domain(word)
            if named != here and named not in _PAYMENT_DOMAINS:
                risks.append(
                    {
                        "signal": "title_names_other_domain",
                        "severity": "medium",
                        "detail": f"the title names {named}, the page is on {here}",
                    }
                )
                break
    return risks


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


# --- verdict --------------------------------------------------------------------------------


def _verdict(
    response: MerchantResponse,
    offer: dict[str, Any] | None,
    others: list[dict[str, Any]],
    why_not: str,
    signals: page.PageSignals | None,
) -> dict[str, Any]:
    if response.status == 402:
        if offer is not None and "problem" not in offer:
            return {
                "credential_type": SPT,
                "reason": "HTTP 402 with a stripe Payment challenge: pay it with a shared payment token",
            }
        if offer is not None:
            return {
                "credential_type": UNKNOWN,
                "reason": f"the stripe offer is not payable: {offer['problem']}",
            }
        if others:
            methods = ", ".join(sorted({f"{o['method']}/{o['intent']}" for o in others}))
            return {
                "credential_type": UNSUPPORTED,
                "reason": f"HTTP 402 offers only {methods}; Link pays stripe challenges only",
            }
        return {
            "credential_type": UNKNOWN,
            "reason": f"HTTP 402 without a usable challenge: {why_not}",
        }
    if signals is not None:
        lpt = signals.link_pay_token
        if lpt is not None and lpt.get("merchant_account_id"):
            return {
                "credential_type": CARD,
                "execution_method": "link_pay_token",
                "merchant_account_id": lpt["merchant_account_id"],
                "reason": "the checkout has the Link Pay Token agent block: ask for a Link Pay "
                "Token for this merchant account and put it in the link_pay_token input",
            }
        found = [
            name
            for name, hit in (
                ("card number/expiry/CVC fields", signals.has_card_form),
                ("Stripe Checkout", signals.stripe_checkout),
                ("Stripe Elements", signals.stripe_elements),
                ("a Link button", signals.link_button),
            )
            if hit
        ]
        if found:
            return {"credential_type": CARD, "reason": "the page has " + ", ".join(found)}
    if response.status >= 400:
        return {"credential_type": UNKNOWN, "reason": f"the URL answered HTTP {response.status}"}
    if signals is None:
        return {"credential_type": UNKNOWN, "reason": "the answer is not an HTML page or a 402"}
    return {
        "credential_type": UNKNOWN,
        "reason": "no card form, Stripe checkout or 402 challenge found",
    }


def _pay_command(target: Inspection) -> str:
    parts = ["mpp", "pay", shlex.quote(target.url), "--spend-request-id", "<id>"]
    if target.method:
        parts += ["-X", shlex.quote(target.method.upper())]
    if target.data is not None:
        parts += ["-d", shlex.quote(target.data)]
    for line in target.headers:
        parts += ["-H", shlex.quote(line)]
    return " ".join(parts)


def _next(
    verdict: dict[str, Any],
    offer: dict[str, Any] | None,
    signals: page.PageSignals | None,
    response: MerchantResponse,
    target: Inspection,
    agent_policy: dict[str, Any],
    risks: list[dict[str, str]],
) -> dict[str, Any]:
    cautions = []
    if agent_policy["summary"] == "disallowed":
        cautions.append("the site's agent policy disallows automated agents: ask the person first")
    cautions += [r["detail"] for r in risks if r["severity"] == "high"]
    kind = verdict["credential_type"]
    if kind in (UNSUPPORTED, UNKNOWN):
        return {
            "instruction": "Do not create a spend request: " + verdict["reason"] + ".",
            **({"cautions": cautions} if cautions else {}),
        }
    q = shlex.quote
    words = ["spend-request", "create", "--credential-type", kind]
    if kind == SPT and offer is not None:
        words += ["--network-id", q(offer["network_id"])]
        amount, currency = offer.get("amount"), offer.get("currency")
    else:
        total = (signals.cart_total if signals is not None else None) or {}
        amount, currency = total.get("amount"), total.get("currency")
        if verdict.get("execution_method"):
            words += ["--execution-method", "link_pay_token"]
            words += ["--merchant-account-id", q(verdict["merchant_account_id"])]
        else:
            host = _host(response.request.url)
            name = (signals.site_name if signals is not None else "") or host
            words += ["--merchant-name", q(name), "--merchant-url", q(response.request.url)]
    words += [
        "--amount",
        q(str(amount)) if amount not in (None, "", "0", 0) else "<amount in minor units>",
    ]
    if currency:
        words += ["--currency", q(str(currency))]
    words += ["--context", CONTEXT_HINT]
    hints: dict[str, Any] = {
        "spend_request_command": " ".join(words),
        "instruction": "Not run for you: fill in the placeholders, run it, and have the person "
        "approve before paying.",
    }
    if kind == SPT:
        hints["pay_command"] = _pay_command(target)
    elif verdict.get("execution_method"):
        hints["then"] = (
            "spend-request retrieve <id> --include link_pay_token, then put the token in the "
            "page's link_pay_token input"
        )
    if cautions:
        hints["cautions"] = cautions
    return hints


def inspect_merchant(target: Inspection) -> dict[str, Any]:
    """Everything ``merchant inspect`` reports about `target` (not yet sanitised)."""
    request = _request(target)
    clock = _Clock()
    try:
        response = send(
            request,
            timeout=clock.timeout(),
            max_redirects=MAX_REDIRECTS,
            max_bytes=PAGE_BYTES,
            resolve=target.resolve,
        )
    except MerchantRequestFailed as exc:
        raise InspectError(str(exc)) from None
    kind = ",".join(response.header_values("content-type")).lower()
    signals = None
    if response.status != 402 and ("html" in kind or not kind):
        signals = page.read_page(
            response.body.decode("utf-8", errors="replace"), response.request.url
        )
    offer, others, why_not = _offers(response) if response.status == 402 else (None, [], "")
    verdict = _verdict(response, offer, others, why_not, signals)
    agent_policy = _agent_policy(response, signals, target, clock)
    risks = _risks(response, signals, target)
    out: dict[str, Any] = {
        "url": target.url,
        "final_url": response.request.url,
        "status": response.status,
        "verdict": verdict,
    }
    if response.redirects:
        out["redirects"] = [*response.redirects[1:], response.request.url]
    if response.status == 402:
        out["stripe_offer"] = offer
        out["other_offers"] = others
    if signals is not None:
        out["title"] = signals.title
        out["checkout"] = {
            "card_fields": signals.card_fields,
            "stripe_checkout": signals.stripe_checkout,
            "stripe_elements": signals.stripe_elements,
            "link_button": signals.link_button,
            "link_pay_token": signals.link_pay_token,
            "cart_total": signals.cart_total,
        }
    out["agent_policy"] = agent_policy
    out["risks"] = risks
    out["_next"] = _next(verdict, offer, signals, response, target, agent_policy, risks)
    return out
