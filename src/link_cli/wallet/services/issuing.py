"""Use cases of an outside issuer (Stripe Issuing): the card's holder, its number on demand,
real-time authorization decisions, webhook events, and stopping cards whose request ended.

Every decision is taken in one transaction on the card's row (locked on PostgreSQL; SQLite
serialises writers), and the one-time switch is ``issued_credentials.consume`` (an UPDATE
that succeeds for exactly one caller), so two processes answering two authorizations of one
card approve at most one. Webhook events are applied once: their ids are stored in the same
transaction as their effect.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..domain import issuing_authorization as rules
from ..domain import spend_request as spend_rules
from ..domain.errors import InvalidRequest
from ..domain.sites import registrable_domain
from ..domain.spend_request import SpendRequest, Status
from ..issuing.base import (
    Holder,
    IssuedCard,
    Issuer,
    IssuerRejected,
    IssuerUnavailable,
    TermsAcceptance,
)
from ..store import issued_credentials
from ..store import issuing as store
from ..store.crypto import FieldCipher
from ..store.engine import Database
from ..store.models.base import new_id
from ..store.models.issuing import IssuingAuthorization
from ..store.models.spend import IssuedCredential
from ..store.spend_requests import save_transition

__all__ = [
    "TERMS_USER_AGENT_MAX",
    "CardStopper",
    "TermsConsent",
    "accept_terms",
    "handle_event",
    "holder_for",
    "needs_terms",
    "remember_holder",
    "reveal_outside_card",
    "stop_finished_cards",
    "terms_acceptance",
    "terms_pending",
    "terms_required_error",
]

log = logging.getLogger("link_wallet.issuing")

REALTIME = "issuing_authorization.request"
SPT_USED = "shared_payment.issued_token.used"
SPT_DEACTIVATED = "shared_payment.issued_token.deactivated"


TERMS_USER_AGENT_MAX = 255


@dataclasses.dataclass(frozen=True, slots=True)
class TermsConsent:
    """The person ticked "I accept the Authorized User Terms" on the approval page, from
    ``address`` with the browser ``user_agent`` (both as received, sanitised on record)."""

    address: str
    user_agent: str | None


def needs_terms(session: Session, issuer: Issuer, request: SpendRequest) -> bool:
    """Whether approving ``request`` first needs the person to accept the card program's
    Authorized User Terms: the issuer asks for them, it is a card, and they have not yet."""
    if not issuer.user_terms_url or request.credential_type is not spend_rules.CredentialType.CARD:
        return False
    if request.is_link_pay_token:
        return False
    return terms_pending(session, request.user_id)


def terms_pending(session: Session, user_id: str) -> bool:
    """The person has not accepted the card program's terms yet."""
    user = store.get_user(session, user_id)
    return user is not None and user.issuing_terms_accepted_at is None


def terms_required_error() -> InvalidRequest:
    """Approval elsewhere than the page, before the person accepted the terms: the card
    issuer would refuse the card, so none is asked for."""
    return InvalidRequest(
        "Before their first card, the person must accept the Authorized User Terms of the "
        "bank that issues the cards: tick the box on the wallet's approval page of this "
        "request and approve it there (once; later requests need no box).",
        code="issuing_terms_required",
    )


def accept_terms(session: Session, user_id: str, consent: TermsConsent, now: datetime) -> None:
    """Record the acceptance (the first one stands), as :func:`terms_acceptance` cleans it."""
    terms = terms_acceptance(consent, now)
    store.record_terms_acceptance(
        session, user_id, accepted_at=now, ip=terms.ip, user_agent=terms.user_agent
    )


def terms_acceptance(consent: TermsConsent, now: datetime) -> TermsAcceptance:
    """What is kept of a consent: a valid IP address or none, and the user agent without
    control characters, cut to :data:`TERMS_USER_AGENT_MAX`."""
    try:
        ip: str | None = str(ipaddress.ip_address(consent.address.strip()))
    except ValueError:
        ip = None
    agent = None
    if consent.user_agent:
        printable = "".join(
            " " if unicodedata.category(c)[0] == "C" else c for c in consent.user_agent
        )
        agent = " ".join(printable.split())[:TERMS_USER_AGENT_MAX].strip() or None
    return TermsAcceptance(accepted_at=now, ip=ip, user_agent=agent)


def holder_for(session: Session, user_id: str) -> Holder | None:
    """The person as an issuer's cardholder, with what the issuer already knows."""
    user = store.get_user(session, user_id)
    if user is None:
        return None
    known = store.get_cardholder(session, user_id)
    terms = None
    if user.issuing_terms_accepted_at is not None:
        terms = TermsAcceptance(
            accepted_at=user.issuing_terms_accepted_at,
            ip=user.issuing_terms_ip,
            user_agent=user.issuing_terms_user_agent,
        )
    return Holder(
        user_id=user.id,
        email=user.email,
        name=user.name,
        phone=user.phone,
        cardholder_id=known.cardholder_id if known else None,
        synced_profile=known.profile_fingerprint if known else None,
        terms=terms,
    )


def remember_holder(
    session: Session, before: Holder | None, card: IssuedCard, issuer: str, now: datetime
) -> None:
    """Keep the cardholder id and the profile the issuer now has."""
    after = card.holder
    if after is None or after.cardholder_id is None or after.synced_profile is None:
        return
    if before is not None and before == after:
        return
    store.save_cardholder(
        session,
        user_id=after.user_id,
        issuer=issuer,
        cardholder_id=after.cardholder_id,
        profile_fingerprint=after.synced_profile,
        now=now,
    )


def reveal_outside_card(
    database: Database, credential: IssuedCredential, issuer: Issuer, cipher: FieldCipher
) -> issued_credentials.RevealedCard | None:
    """Number and CVC of an outside issuer's card, fetched (``expand``) the first time the
    agent retrieves it and kept encrypted; None for a card whose secrets are already kept."""
    if credential.issuer_ref is None or credential.card_number_encrypted is not None:
        return None
    secrets = issuer.reveal_card(credential.issuer_ref)
    with database.write_scope() as session:
        store.store_card_secrets(
            session,
            credential.id,
            cipher.encrypt(credential.id, "card_number", secrets.number),
            cipher.encrypt(credential.id, "card_cvc", secrets.cvc),
        )
    return issued_credentials.RevealedCard(number=secrets.number, cvc=secrets.cvc)


# -- webhooks -------------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _ref(value: Any) -> str | None:
    """An id field that may come expanded (``{"id": …}``) or as a string."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _ask(authorization: dict[str, Any]) -> rules.AuthorizationAsk:
    pending = authorization.get("pending_request")
    source = pending if isinstance(pending, dict) else authorization
    merchant = authorization.get("merchant_data")
    merchant = merchant if isinstance(merchant, dict) else {}
    return rules.AuthorizationAsk(
        amount=_int(source.get("amount")),
        currency=_text(source.get("currency"), 3) or "",
        merchant_name=_text(merchant.get("name"), 255),
        merchant_url=_text(merchant.get("url"), 2048),
    )


def handle_event(session: Session, event: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Apply one verified event; for a real-time authorization request, the answer
    (``{"approved": …}``). A redelivered event changes nothing."""
    kind = event["type"]
    obj = event["data"]["object"]
    if kind == REALTIME:
        # Idempotent by the authorization's id (a repeated request gets the recorded
        # answer), so the event id is not stored: fewer round trips inside the 2 s budget.
        decision = decide_realtime(session, obj, now)
        return {"approved": decision.approved}
    if not store.record_event(session, event["id"], kind, now):
        return None
    if kind == "issuing_authorization.created":
        _authorization_reported(session, obj, now)
    elif kind == "issuing_transaction.created":
        _transaction_created(session, obj, now)
    elif kind in (SPT_USED, SPT_DEACTIVATED):
        _token_event(session, kind, obj, now)
    return None


def _token_event(session: Session, kind: str, token: dict[str, Any], now: datetime) -> None:
    """A Stripe-issued shared payment token was used (``used``, or ``deactivated`` because
    ``consumed``): the request ``succeeded`` with what was captured. Deactivated for another
    reason (``expired``, ``revoked``, ``resolved``) while the request could still pay: it
    ``failed`` with that reason. Any order of the two events ends the same."""
    row, request = _load(session, _ref(token.get("id")), now)
    if row is None or request is None or row.kind != issued_credentials.KIND_SPT:
        return
    reason = _text(token.get("deactivated_reason"), 30)
    usage = token.get("usage_details")
    captured = usage.get("amount_captured") if isinstance(usage, dict) else None
    captured = captured if isinstance(captured, dict) else {}
    amount = _int(captured.get("value"))
    currency = (_text(captured.get("currency"), 3) or request.currency).lower()
    used = kind == SPT_USED or reason == "consumed" or amount > 0
    if not used:
        if reason is None:
            return
        row.issuer_state = store.CANCELED  # nothing left to revoke
        if request.status is Status.APPROVED and row.consumed_at is None:
            _fail_token(session, request, currency, f"token_{reason}", now)
        return
    issued_credentials.consume(session, row.id, now)
    if request.status is not Status.APPROVED:
        if request.status is not Status.SUCCEEDED:
            log.warning("issuing: token of %s spend request %s used", request.status, request.id)
        return
    details = {
        "outcome": "success",
        "amount": amount or row.max_amount,
        "currency": currency,
        "created": int(now.timestamp()),
    }
    moved = dataclasses.replace(
        spend_rules.succeed(request, now=now, payment_status_details=details),
        link_transaction_id=new_id("lnktxn", 24),
    )
    save_transition(session, request, moved)


def _fail_token(
    session: Session, request: SpendRequest, currency: str, reason: str, now: datetime
) -> None:
    if spend_rules.is_due(request, now):
        return
    details = {
        "outcome": "failure",
        "amount": 0,
        "currency": currency,
        "created": int(now.timestamp()),
        "code": "token_deactivated",
        "decline_code": reason,
    }
    save_transition(
        session, request, spend_rules.fail(request, now=now, payment_status_details=details)
    )


def _load(
    session: Session, card_ref: str | None, now: datetime
) -> tuple[IssuedCredential | None, SpendRequest | None]:
    row = store.find_card_by_ref(session, card_ref) if card_ref else None
    return row, issued_credentials.spend_request_of(session, row, now)


def decide_realtime(
    session: Session, authorization: dict[str, Any], now: datetime
) -> IssuingAuthorization:
    """The decision on ``authorization`` (taken once; a repeated request gets it again)."""
    auth_id = _ref(authorization.get("id")) or ""
    # The card row first: locked (PostgreSQL), it serialises every decision on this card, so
    # the look-up below sees any decision another process took on the same authorization.
    row, request = _load(session, _ref(authorization.get("card")), now)
    earlier = store.get_decision(session, auth_id)
    if earlier is not None:
        return earlier
    ask = _ask(authorization)
    merchant_ok = request is not None and rules.merchant_matches(
        approved_name=request.merchant_name,
        approved_url=request.merchant_url,
        descriptor_name=ask.merchant_name,
        descriptor_url=ask.merchant_url,
        registrable_domain=registrable_domain,
    )
    card_used = row is None or row.consumed_at is not None
    decision = rules.decide(
        request,
        ask,
        card_used=card_used,
        merchant_ok=merchant_ok,
        now=now,
    )
    if (
        decision.approved
        and row is not None
        and not issued_credentials.consume(session, row.id, now)
    ):
        decision = rules.Decision(False, "credential_already_used", "The card was already used.")
    record = IssuingAuthorization(
        id=auth_id[:255],
        issuer_card=(_ref(authorization.get("card")) or "")[:255],
        credential_id=row.id if row else None,
        spend_request_id=request.id if request else None,
        approved=decision.approved,
        reason=decision.reason,
        amount=ask.amount,
        currency=ask.currency,
        merchant_name=ask.merchant_name,
        merchant_url=ask.merchant_url,
        source="realtime",
        decided_at=now,
    )
    if row is not None:
        session.add(record)
        session.flush()
    elif not store.record_decision(session, record):
        # Unknown card, so no lock: another process recorded this authorization first.
        return store.get_decision(session, auth_id) or record
    if not decision.approved and request is not None and row is not None and not card_used:
        # A card already used (its payment awaiting capture) is never failed by a later try.
        _fail(session, request, ask, decision.reason, now)
    log.info(
        "issuing: authorization %s %s (%s)",
        auth_id[:40],
        "approved" if decision.approved else "declined",
        decision.reason,
    )
    return record


def _fail(
    session: Session, request: SpendRequest, ask: rules.AuthorizationAsk, reason: str, now: datetime
) -> None:
    """A declined payment fails the approved request; the agent sees why."""
    if request.status is not Status.APPROVED or spend_rules.is_due(request, now):
        return
    details = {
        "outcome": "failure",
        "amount": ask.amount,
        "currency": ask.currency.lower(),
        "created": int(now.timestamp()),
        "code": "card_declined",
        "decline_code": reason,
    }
    save_transition(
        session, request, spend_rules.fail(request, now=now, payment_status_details=details)
    )


def _authorization_reported(session: Session, authorization: dict[str, Any], now: datetime) -> None:
    """``issuing_authorization.created``: what the issuer decided, also when our real-time
    answer did not count (spending controls, a timeout) or never was asked."""
    auth_id = _ref(authorization.get("id"))
    if auth_id is None:
        return
    approved = authorization.get("approved") is True
    history = authorization.get("request_history")
    last = history[-1] if isinstance(history, list) and history else {}
    reason = _text(last.get("reason") if isinstance(last, dict) else None, 60)
    reason = reason or ("issuer_approved" if approved else "issuer_declined")
    earlier = store.get_decision(session, auth_id)
    if earlier is not None:
        if earlier.approved and not approved:
            # We said yes, Stripe still declined (e.g. the Issuing balance ran short): the
            # payment failed, and the agent learns why.
            earlier.approved, earlier.reason, earlier.source = False, reason, "event"
            _, request = _load(session, earlier.issuer_card, now)
            if request is not None:
                _fail(session, request, _ask(authorization), reason, now)
        return
    row, request = _load(session, _ref(authorization.get("card")), now)
    ask = _ask(authorization)
    store.record_decision(
        session,
        IssuingAuthorization(
            id=auth_id[:255],
            issuer_card=(_ref(authorization.get("card")) or "")[:255],
            credential_id=row.id if row else None,
            spend_request_id=request.id if request else None,
            approved=approved,
            reason=reason,
            amount=_int(authorization.get("amount")) or ask.amount,
            currency=ask.currency,
            merchant_name=ask.merchant_name,
            merchant_url=ask.merchant_url,
            source="event",
            decided_at=now,
        ),
    )
    if row is None or request is None:
        return
    if approved:
        issued_credentials.consume(session, row.id, now)
    elif row.consumed_at is None:
        _fail(session, request, ask, reason, now)


def _transaction_created(session: Session, transaction: dict[str, Any], now: datetime) -> None:
    """``issuing_transaction.created``: a capture makes the request ``succeeded``, whenever it
    arrives relative to the authorization's own events."""
    if transaction.get("type") != "capture":
        return
    row, request = _load(session, _ref(transaction.get("card")), now)
    if row is None or request is None:
        return
    issued_credentials.consume(session, row.id, now)
    if request.status is not Status.APPROVED:
        if request.status is not Status.SUCCEEDED:
            log.warning(
                "issuing: capture on card of %s spend request %s", request.status, request.id
            )
        return
    amount = abs(_int(transaction.get("amount")))
    details = {
        "outcome": "success",
        "amount": amount,
        "currency": (_text(transaction.get("currency"), 3) or request.currency).lower(),
        "created": int(now.timestamp()),
    }
    moved = dataclasses.replace(
        spend_rules.succeed(request, now=now, payment_status_details=details),
        link_transaction_id=new_id("lnktxn", 24),
    )
    save_transition(session, request, moved)


# -- stopping cards -------------------------------------------------------------------------


def stop_finished_cards(database: Database, issuer: Issuer, now: datetime) -> int:
    """Cancel at the issuer every card (revoke every token) whose request can no longer pay
    (canceled, expired, failed, succeeded); returns how many were stopped. The issuer calls happen outside
    any transaction; a failure leaves the card for the next round."""
    with database.read_scope() as session:
        pending = store.cards_to_stop(session, now)
    stopped = 0
    for credential_id, ref, kind in pending:
        try:
            if kind == issued_credentials.KIND_SPT:
                issuer.revoke_spt(ref)
            else:
                issuer.cancel_card(ref)
        except (IssuerUnavailable, IssuerRejected) as exc:
            log.warning("issuing: card %s not canceled yet: %s", credential_id, exc.code)
            continue
        with database.write_scope() as session:
            store.mark_stopped(session, credential_id)
        stopped += 1
    return stopped


class CardStopper:
    """A thread that runs :func:`stop_finished_cards` every ``interval`` seconds and when
    :meth:`wake` is called (a cancel or a decline just happened)."""

    def __init__(
        self, database: Database, issuer: Issuer, now: Callable[[], datetime], interval: float
    ) -> None:
        self._database = database
        self._issuer = issuer
        self._now = now
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # Parse the public suffix list now, not during the first 2-second authorization.
        registrable_domain("warm-up.example")
        self._thread = threading.Thread(target=self._run, name="issuing-stopper", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stop_finished_cards(self._database, self._issuer, self._now())
            except Exception:
                log.exception("issuing: stopping finished cards failed")
            self._wake.wait(self._interval)
            self._wake.clear()
