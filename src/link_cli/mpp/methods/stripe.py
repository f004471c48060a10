"""The Stripe method: Shared Payment Tokens over `charge` and `session` (mpp §2.2–2.3).

Request (`method="stripe"`): ``{"amount": "<minor units>", "currency": "usd",
"methodDetails": {"networkId": "profile_…", "paymentMethodTypes": ["card"], "metadata"?}}``
plus optional `externalId`, `description`, `recipient`. `session` uses the same request and
may carry `networkId` at the top level (contract §8.1).

Payloads: charge ``{"spt": "spt_…", "externalId"?}`` (externalId copied from the request,
mpp §2.2), session ``{"action": "open", "grantedToken": "spt_…"}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from link_cli._records import EMPTY_MAPPING, frozen_record
from link_cli.mpp.challenge import Challenge
from link_cli.mpp.credential import Credential
from link_cli.mpp.errors import MppParseError

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CHARGE",
    "METHOD",
    "SESSION",
    "ChargePayload",
    "OfferCheck",
    "StripeRequest",
    "build_charge_request",
    "build_credential",
    "credential_payload",
    "network_id",
    "parse_charge_payload",
    "parse_stripe_request",
    "select_stripe_challenge",
]

METHOD = "stripe"
CHARGE = "charge"
SESSION = "session"
SUPPORTED_INTENTS = (CHARGE, SESSION)

_AMOUNT_RE = re.compile(r"[0-9]+\Z")
_CURRENCY_RE = re.compile(r"[a-z]{3}\Z")
_PREFIX = "Invalid stripe challenge request: "


def _js_type(value: object) -> str:
    """The type name a JS validator would report, for messages compatible with the reference."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _invalid(message: str) -> MppParseError:
    return MppParseError(_PREFIX + message)


@frozen_record
class StripeRequest:
    """The parts of a Stripe challenge request a payer needs; `raw` is the whole object."""

    amount: str
    currency: str
    network_id: str
    payment_method_types: tuple[str, ...] = ()
    metadata: Mapping[str, str] = EMPTY_MAPPING
    external_id: str | None = None
    raw: Mapping[str, Any] = EMPTY_MAPPING

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        object.__setattr__(self, "raw", MappingProxyType(dict(self.raw)))

    def check_payable(self) -> None:
        """Refuse requests a careful payer must not pay (mpp §6 "Selection and policy")."""
        if not _AMOUNT_RE.match(self.amount) or int(self.amount) <= 0:
            raise _invalid("amount: expected a positive integer string")
        if not _CURRENCY_RE.match(self.currency):
            raise _invalid("currency: expected a 3-letter lowercase code")
        details = self.raw.get("methodDetails")
        if isinstance(details, dict) and "paymentMethodTypes" in details:
            types = details["paymentMethodTypes"]
            if not isinstance(types, list) or not types:
                raise _invalid("methodDetails.paymentMethodTypes: expected a non-empty array")
        if "externalId" in self.metadata:
            raise _invalid("methodDetails.metadata.externalId: reserved")


OfferCheck = Callable[[Challenge, "StripeRequest"], Exception | None]
"""Judges one offer whose request is valid: None to take it, else the reason to pass it by."""


def select_stripe_challenge(
    challenges: Iterable[Challenge], *, check: OfferCheck | None = None
) -> Challenge:
    """The first stripe charge/session offer, in server order, that a payer can take.

    A server may list several offers (another currency, a stale one, another seller first):
    each is judged in turn; an offer is taken when its request is valid and `check` (for
    example expiry and the approved terms) finds nothing against it. When no offer is
    acceptable, the first offer's reason is raised, so a single offer reports exactly its
    own problem.
    """
    offers = [c for c in challenges if c.method == METHOD and c.intent in SUPPORTED_INTENTS]
    if not offers:
        raise MppParseError(
            "WWW-Authenticate header does not include a stripe charge or session challenge"
        )
    first_reason: Exception | None = None
    for challenge in offers:
        try:
            request = parse_stripe_request(challenge)
        except MppParseError as exc:
            first_reason = first_reason or exc
            continue
        reason = check(challenge, request) if check is not None else None
        if reason is None:
            return challenge
        first_reason = first_reason or reason
    assert first_reason is not None
    raise first_reason


def parse_stripe_request(challenge: Challenge) -> StripeRequest:
    """Validate a Stripe challenge's request with the reference's checks (contract §8.1 step 4)."""
    request = challenge.request_json()
    for name in ("amount", "currency"):
        if name not in request:
            raise _invalid(f"{name}: missing")
        if not isinstance(request[name], str):
            raise _invalid(f"{name}: expected string, received {_js_type(request[name])}")
    details = request.get("methodDetails")
    if details is not None and not isinstance(details, dict):
        raise _invalid("methodDetails: expected object")
    details = details or {}
    found = None
    for label, source in (("methodDetails.networkId", details), ("networkId", request)):
        value = source.get("networkId")
        if value is not None and not isinstance(value, str):
            raise _invalid(f"{label}: expected string, received {_js_type(value)}")
        if value and found is None:
            found = value
    if not found:
        raise _invalid("methodDetails.networkId: missing")
    types = details.get("paymentMethodTypes", request.get("paymentMethodTypes", []))
    metadata = details.get("metadata")
    external_id = request.get("externalId")
    return StripeRequest(
        amount=request["amount"],
        currency=request["currency"],
        network_id=found,
        payment_method_types=tuple(t for t in types if isinstance(t, str))
        if isinstance(types, list)
        else (),
        metadata={k: v for k, v in metadata.items() if isinstance(v, str)}
        if isinstance(metadata, dict)
        else {},
        external_id=external_id if isinstance(external_id, str) else None,
        raw=request,
    )


def network_id(challenge: Challenge) -> str:
    """The seller's network id, what `spend-request create --network-id` needs."""
    return parse_stripe_request(challenge).network_id


def credential_payload(challenge: Challenge, spt: str) -> dict[str, str]:
    """The payload answering `challenge` with the shared payment token `spt`."""
    if challenge.intent == SESSION:
        return {"action": "open", "grantedToken": spt}
    payload = {"spt": spt}
    external_id = parse_stripe_request(challenge).external_id
    if external_id is not None:
        payload["externalId"] = external_id
    return payload


def build_credential(challenge: Challenge, spt: str) -> Credential:
    """A credential echoing `challenge` and carrying `spt` (no `source`, as the reference)."""
    return Credential(challenge=challenge, payload=credential_payload(challenge, spt))


# --- merchant side -----------------------------------------------------------------------


def build_charge_request(
    *,
    amount: int | str,
    currency: str,
    network_id: str,
    payment_method_types: Iterable[str] = ("card",),
    metadata: Mapping[str, str] | None = None,
    external_id: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The `request` object of a Stripe charge challenge (amount in minor units)."""
    amount_text = str(amount)
    if not _AMOUNT_RE.match(amount_text) or int(amount_text) <= 0:
        raise ValueError("amount must be a positive integer in minor units")
    if not _CURRENCY_RE.match(currency):
        raise ValueError("currency must be a 3-letter lowercase code")
    types = list(payment_method_types)
    if not network_id or not types:
        raise ValueError("network_id and payment_method_types are required")
    details: dict[str, Any] = {"networkId": network_id, "paymentMethodTypes": types}
    if metadata:
        if "externalId" in metadata:
            raise ValueError("metadata.externalId is reserved")
        details["metadata"] = dict(metadata)
    request: dict[str, Any] = {"amount": amount_text, "currency": currency}
    request["methodDetails"] = details
    if external_id is not None:
        request["externalId"] = external_id
    if description is not None:
        request["description"] = description
    return request


@frozen_record
class ChargePayload:
    """A decoded charge payload."""

    spt: str
    external_id: str | None = None


def parse_charge_payload(payload: Mapping[str, Any], challenge: Challenge) -> ChargePayload:
    """Validate a charge payload against its challenge (externalId must match, mpp §2.2)."""
    spt = payload.get("spt")
    if not isinstance(spt, str) or not spt:
        raise MppParseError("Payload spt must be a non-empty string.")
    expected = parse_stripe_request(challenge).external_id
    if expected is not None and payload.get("externalId") != expected:
        raise MppParseError("Payload externalId does not match the challenge.")
    return ChargePayload(spt=spt, external_id=expected)
