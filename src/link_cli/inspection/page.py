"""What a merchant's page shows an agent about paying: card fields, Stripe, Link, the total.

Parsed with selectolax (Lexbor, an HTML5-conformant parser in C): the page is a DOM, read
with CSS selectors and attributes, never scraped with patterns. Only the text of an element
that already holds a total is read as money.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PageSignals", "read_page"]

_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{1,64}\Z")
_MONEY = re.compile(r"([$€£¥])?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?")
_SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
_TEXT_LIMIT = 200

# Field names (lower case, without - and _) that mean a card field when autocomplete is absent.
_NUMBER_NAMES = {"cardnumber", "ccnumber", "cardno", "ccnum", "creditcardnumber", "pan"}
_EXPIRY_NAMES = {"expiry", "exp", "expiration", "expdate", "ccexp", "cardexpiry", "expmonth", "expyear"}  # fmt: skip
_CVC_NAMES = {"cvc", "cvv", "csc", "cvc2", "cvv2", "cardcvc", "securitycode", "cardcode"}
_ELEMENTS = "#card-element, #payment-element, #card-number-element, .StripeElement, [data-stripe-element]"  # fmt: skip
_LINK = "#link-authentication-element, #express-checkout-element, .LinkButton, [data-testid='link-button']"  # fmt: skip


@dataclass
class PageSignals:
    """The payment signals of one HTML page (every text as found: sanitise before printing)."""

    title: str = ""
    site_name: str = ""
    card_fields: dict[str, Any] = field(default_factory=dict)
    stripe_checkout: bool = False
    stripe_elements: bool = False
    link_button: bool = False
    link_pay_token: dict[str, str] | None = None
    cart_total: dict[str, Any] | None = None
    form_actions: list[str] = field(default_factory=list)
    meta_robots: list[str] = field(default_factory=list)

    @property
    def has_card_form(self) -> bool:
        fields = self.card_fields
        return bool(fields.get("number") and (fields.get("expiry") or fields.get("cvc")))


def _attr(node: Any, name: str) -> str:
    value = node.attributes.get(name)
    return value.strip() if isinstance(value, str) else ""


def _host(url: str) -> str:
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _describe(node: Any) -> str:
    """A CSS-like name of an element for "found in": tag#id or tag.class."""
    ident, classes = _attr(node, "id"), _attr(node, "class").split()
    if ident:
        return f"{node.tag}#{ident}"
    return f"{node.tag}.{classes[0]}" if classes else node.tag


def _card_fields(tree: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"number": False, "expiry": False, "cvc": False}
    where = ""
    for node in tree.css("input, select"):
        tokens = set(_attr(node, "autocomplete").lower().split())
        names = {
            _attr(node, key).lower().replace("-", "").replace("_", "") for key in ("name", "id")
        }
        kinds = {
            "number": "cc-number" in tokens or bool(names & _NUMBER_NAMES),
            "expiry": bool(tokens & {"cc-exp", "cc-exp-month", "cc-exp-year"})
            or bool(names & _EXPIRY_NAMES),
            "cvc": "cc-csc" in tokens or bool(names & _CVC_NAMES),
        }
        for kind, hit in kinds.items():
            if hit and not found[kind]:
                found[kind] = True
                form = next((p for p in _parents(node) if p.tag == "form"), None)
                where = where or (_describe(form) if form is not None else _describe(node))
    if where:
        found["found_in"] = where
    return found


def _parents(node: Any) -> Any:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _urls(tree: Any, selector: str, attribute: str) -> list[str]:
    return [_attr(n, attribute) for n in tree.css(selector) if _attr(n, attribute)]


def _link_pay_token(tree: Any) -> dict[str, str] | None:
    """The Link Pay Token agent block: a ``link_pay_token`` input and the merchant account."""
    inputs = tree.css("input[name='link_pay_token']")
    if not inputs:
        return None
    blocks = tree.css(".AiAgentPaymentSteering, [data-stripe-merchant-account]")
    for node in [*blocks, *(p for i in inputs for p in _parents(i))]:
        account = _attr(node, "data-stripe-merchant-account")
        if _ACCOUNT.match(account):
            return {"merchant_account_id": account, "input": "link_pay_token"}
    return {"input": "link_pay_token"}


def _money(text: str) -> tuple[int, str | None] | None:
    match = _MONEY.search(text)
    if match is None:
        return None
    symbol, whole, cents = match.groups()
    minor = int(whole.replace(",", "")) * 100 + int((cents or "0").ljust(2, "0"))
    return minor, _SYMBOLS.get(symbol) if symbol else None


def _total_from_json_ld(tree: Any) -> dict[str, Any] | None:
    for node in tree.css("script[type='application/ld+json']"):
        try:
            data = json.loads(node.text() or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            for key in ("totalPaymentDue", "offers", "priceSpecification"):
                offer = item.get(key)
                if isinstance(offer, list) and offer:
                    offer = offer[0]
                if isinstance(offer, dict) and isinstance(offer.get("price"), str | int | float):
                    money = _money(str(offer["price"]))
                    if money is not None:
                        currency = offer.get("priceCurrency")
                        return {
                            "text": str(offer["price"]),
                            "amount": money[0],
                            "currency": currency.lower() if isinstance(currency, str) else None,
                            "found_in": f"JSON-LD {key}.price",
                        }
    return None


def _cart_total(tree: Any) -> dict[str, Any] | None:
    """The total to pay and where it was read, trying the most explicit markings first."""
    candidates = [
        n
        for n in tree.css("[id], [class]")
        if "total" in (_attr(n, "id") + " " + _attr(n, "class")).lower()
    ]
    for node in candidates:
        raw = _attr(node, "data-amount")
        if raw.isascii() and raw.isdigit():
            money = _money(node.text(strip=True) or "")
            return {
                "text": _short(node.text(strip=True) or raw),
                "amount": int(raw),
                "currency": money[1] if money else None,
                "found_in": f"{_describe(node)}[data-amount]",
            }
    from_json = _total_from_json_ld(tree)
    if from_json is not None:
        return from_json
    meta = tree.css_first("meta[property='product:price:amount'], meta[property='og:price:amount']")
    if meta is not None and _money(_attr(meta, "content")):
        currency = tree.css_first("meta[property$='price:currency']")
        amount, _ = _money(_attr(meta, "content")) or (0, None)
        return {
            "text": _attr(meta, "content"),
            "amount": amount,
            "currency": _attr(currency, "content").lower() if currency is not None else None,
            "found_in": f"meta[property={_attr(meta, 'property')}]",
        }
    for node in reversed(candidates):  # the last "total" on a page is usually the grand total
        text = node.text(strip=True) or ""
        money = _money(text) if len(text) <= _TEXT_LIMIT else None
        if money is not None:
            return {
                "text": _short(text),
                "amount": money[0],
                "currency": money[1],
                "found_in": _describe(node),
            }
    return None


def read_page(html: str, url: str) -> PageSignals:
    """The payment signals of the page at `url` whose HTML is `html`."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    signals = PageSignals()
    title = tree.css_first("title")
    signals.title = _short(title.text(strip=True) or "") if title is not None else ""
    site = tree.css_first("meta[property='og:site_name'], meta[name='application-name']")
    signals.site_name = _short(_attr(site, "content")) if site is not None else ""
    signals.card_fields = _card_fields(tree)
    scripts = _urls(tree, "script[src]", "src")
    frames = _urls(tree, "iframe[src]", "src")
    targets = _urls(tree, "a[href]", "href") + [
        urllib.parse.urljoin(url, _attr(f, "action")) for f in tree.css("form")
    ]
    stripe_js = any(_host(s) == "js.stripe.com" for s in scripts)
    signals.stripe_elements = bool(
        (stripe_js and tree.css_first(_ELEMENTS) is not None)
        or any(_host(f) == "js.stripe.com" and "elements" in f for f in frames)
    )
    signals.stripe_checkout = bool(
        _host(url) == "checkout.stripe.com"
        or any(_host(t) in ("checkout.stripe.com", "buy.stripe.com") for t in targets)
        or tree.css_first("stripe-buy-button") is not None
    )
    buttons = tree.css("button, a, [role='button']")
    signals.link_button = tree.css_first(_LINK) is not None or any(
        "pay with link" in ((b.text(strip=True) or "") + " " + _attr(b, "aria-label")).lower()
        for b in buttons
    )
    signals.link_pay_token = _link_pay_token(tree)
    signals.cart_total = _cart_total(tree)
    signals.form_actions = [
        urllib.parse.urljoin(url, _attr(f, "action"))
        for f in tree.css("form")
        if _attr(f, "action")
    ]
    signals.meta_robots = [
        f"{_attr(m, 'name')}: {_attr(m, 'content')}"
        for m in tree.css("meta[name][content]")
        if _attr(m, "name").lower() in ("robots", *_AGENT_META)
    ]
    return signals


# <meta name=…> names that address AI agents specifically (a page may opt out of them).
_AGENT_META = ("gptbot", "chatgpt-user", "claudebot", "claude-user", "google-extended", "ai-agent")
