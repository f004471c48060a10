"""What the agent and the person can do to a spend request, one transaction each.

Each function runs inside the caller's session (the request's ``DbSession`` commits when
the route returns and rolls back when it raises) and follows one pattern: lock the person
where limits are decided, load through the scoped repository, let ``domain/`` decide,
write with compare-and-set on the revision that was loaded. No rule lives here; only the
order of steps.

A change is decided on the revision the caller saw and written only if the request is still
at that revision: the agent's update on the one read in the same transaction, the person's
approval or denial on the one the approval page showed. Whoever loses gets 409, so an
update racing an approval never ends with the agent told "updated" while the person
approved the old amount.

Agents are isolated from each other: what an agent does (``create``, ``update``,
``request_approval``, ``cancel``, ``create_delegated``) names its connection (``grant_id``,
the OAuth grant its token belongs to) and reaches only requests that grant created; any
other id answers :func:`not_found`. The person (``approve``, ``deny``) reaches all of theirs.

Approval issues the credential in the same transaction as the status change, and the
``issued_credentials`` UNIQUE constraint backs the compare-and-set: a request is approved
once and gets exactly one credential, even with many processes racing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ..domain import limits as limit_rules
from ..domain import policies as policy_rules
from ..domain import spend_request as rules
from ..domain.errors import Conflict, InvalidRequest, NotFound, WalletError
from ..domain.limits import LimitSettings
from ..domain.spend_request import (
    CredentialType,
    InvalidTransition,
    SpendRequest,
    SpendRequestChanges,
    SpendRequestDraft,
    Status,
)
from ..issuing.base import FundingCard, Issuer
from ..store import accounts, issued_credentials, merchants, notifications
from ..store import policies as policy_store
from ..store import spend_requests as repository
from ..store.crypto import FieldCipher
from ..store.models.accounts import PaymentMethod
from ..store.models.base import new_id
from ..store.models.spend import IssuedCredential
from . import issuing as outside
from . import policies as policy_service

__all__ = [
    "Issuing",
    "approve",
    "cancel",
    "create",
    "create_delegated",
    "deny",
    "not_found",
    "request_approval",
    "revision",
    "revoke_auto_approved",
    "update",
]

_FINGERPRINT_ATTEMPTS = 8


@dataclass(frozen=True)
class Issuing:
    """What approval needs besides the database: the issuer and the card-secret keys."""

    issuer: Issuer
    cipher: FieldCipher
    secret_key: bytes


def not_found(request_id: str) -> NotFound:
    """The one answer for unknown ids and other people's ids alike."""
    return NotFound(f"No such spend request: '{request_id[:64]}'", extra={"param": "id"})


def _load(
    session: Session, user_id: str, request_id: str, now: datetime, *, grant_id: str | None
) -> SpendRequest:
    """The request, for the person (``grant_id`` None) or for one agent connection."""
    if grant_id is None:
        request = repository.get_for_user(session, user_id, request_id, now=now)
    else:
        request = repository.get_for_agent(session, user_id, grant_id, request_id, now=now)
    if request is None:
        raise not_found(request_id)
    return request


def changed(message: str = "") -> Conflict:
    """409 ``spend_request_changed``: the request is not at the revision the change was
    decided on."""
    return Conflict(
        message or "The spend request changed meanwhile. Retrieve it and try again.",
        code="spend_request_changed",
    )


def _save(
    session: Session, before: SpendRequest, after: SpendRequest, now: datetime
) -> SpendRequest:
    if after is before:
        return after
    saved = repository.save_transition(session, before, after)
    if saved is not None:
        return saved
    # Lost a race: report the state the winner left behind.
    current = _load(session, before.user_id, before.id, now, grant_id=None)
    if current.status is before.status:
        raise changed()
    raise InvalidTransition(
        f"The spend request changed meanwhile; it is now {current.status}.",
        status=current.status,
    )


def _payment_method(
    session: Session, user_id: str, method_id: str | None, now: datetime
) -> PaymentMethod:
    """The person's chosen card, or their default one; refuse unknown or expired cards."""
    if method_id is None:
        methods = accounts.list_payment_methods(session, user_id)
        if not methods:
            raise InvalidRequest(
                "There is no card in this wallet yet; the person must add one first.",
                code="payment_method_required",
                extra={"param": "payment_details"},
            )
        method = methods[0]
    else:
        found = accounts.get_payment_method(session, user_id, method_id)
        if found is None:
            raise InvalidRequest(
                f"No such payment method: '{method_id[:64]}'",
                code="resource_missing",
                extra={"param": "payment_details"},
            )
        method = found
    if (method.exp_year, method.exp_month) < (now.year, now.month):
        raise InvalidRequest(
            f"The card ending in {method.last4} has expired and cannot fund spend requests.",
            code="payment_method_ineligible",
            status=422,
            extra={"param": "payment_details"},
        )
    return method


def _check_redeemable_here(
    session: Session,
    credential_type: CredentialType,
    network_id: str | None,
    *,
    test: bool,
    elsewhere: bool,
) -> None:
    """Refuse a shared payment token no merchant at this wallet could ever redeem (unless
    the issuer's tokens are redeemed at the issuer, by any seller)."""
    if credential_type is not CredentialType.SHARED_PAYMENT_TOKEN or not network_id:
        return
    if elsewhere:
        return
    if merchants.network_id_registered(session, network_id, livemode=not test):
        return
    mode = "test" if test else "live"
    raise InvalidRequest(
        f"No {mode}-mode merchant with network id '{network_id[:64]}' settles at this "
        "wallet, so a shared payment token for it could never be redeemed. Check the "
        "network id (`mpp decode` reads it from the seller's 402 challenge).",
        code="resource_missing",
        extra={"param": "network_id"},
    )


def create(
    session: Session,
    *,
    user_id: str,
    grant_id: str,
    draft: SpendRequestDraft,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing | None = None,
    spt_redeemed_elsewhere: bool = False,
) -> SpendRequest:
    """A new request of the agent connection ``grant_id``, pending approval at once when the
    draft asks for it, or approved at once when one of the person's spending policies covers
    it (with ``issuing``); refused when a policy's deny-list names the merchant."""
    method = _payment_method(session, user_id, draft.payment_method_id, now)
    elsewhere = spt_redeemed_elsewhere or (
        issuing is not None and issuing.issuer.spt_redeemed_elsewhere
    )
    _check_redeemable_here(
        session, draft.credential_type, draft.network_id, test=draft.test, elsewhere=elsewhere
    )
    draft = _resolve_merchant_account(session, draft)
    repository.lock_person(session, user_id)
    recent = repository.recent_for_user(session, user_id, now=now)
    limit_rules.check_create(draft, recent, limits, now, grant_id=grant_id)
    request = rules.new_spend_request(
        draft,
        id=new_id("lsrq"),
        user_id=user_id,
        payment_method_id=method.id,
        now=now,
        approval_window=timedelta(seconds=limits.approval_window_seconds),
        lifetime=timedelta(seconds=limits.credential_validity_seconds),
        grant_id=grant_id,
    )
    decision = policy_service.decide_for(session, request, now)
    if decision is not None and decision.outcome is policy_rules.Outcome.DENY:
        raise policy_rules.denied_error(decision)
    if draft.request_approval:
        request = rules.request_approval(
            request, now=now, approval_window=timedelta(seconds=limits.approval_window_seconds)
        )
        if issuing is not None and decision is not None:
            approved = _auto_approve(
                session, request, decision, now=now, limits=limits, issuing=issuing,
                stored=False, recent=recent,
            )  # fmt: skip
            if approved is not None:
                return approved
    repository.insert_request(session, request)
    if request.status is Status.PENDING_APPROVAL:
        notifications.enqueue(session, user_id=user_id, spend_request_id=request.id, now=now)
    return request


def _resolve_merchant_account(session: Session, draft: SpendRequestDraft) -> SpendRequestDraft:
    """A Link Pay Token request takes the merchant's name and site from its registration
    (contract §11.4); an account no live merchant here has is refused now, as its token
    could never be redeemed."""
    if draft.merchant_account_id is None:
        return draft
    merchant = merchants.get_merchant(session, draft.merchant_account_id)
    if merchant is None or not merchant.livemode:
        shown = draft.merchant_account_id[:64]
        reason = (
            "it is a test-mode merchant, and Link Pay Tokens are live only"
            if merchant is not None
            else "no merchant with this account id is registered at this wallet"
        )
        raise InvalidRequest(
            f"Cannot pay merchant account '{shown}' with a Link Pay Token: {reason}. "
            "Use the data-stripe-merchant-account value of the merchant's checkout.",
            code="merchant_account_unknown",
            extra={"param": "merchant_account_id"},
        )
    return dataclasses.replace(draft, merchant_name=merchant.name, merchant_url=merchant.site)


def create_delegated(
    session: Session,
    *,
    user_id: str,
    grant_id: str,
    draft: SpendRequestDraft,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing,
) -> tuple[SpendRequest, IssuedCredential]:
    """Create and approve in one go, on the person's standing permission (contract §11.3)."""
    if draft.execution_method is not None:
        raise InvalidRequest(
            "approve cannot be used when execution_method is link_pay_token; use "
            "request_approval instead.",
            code="parameter_not_allowed",
            extra={"param": "execution_method"},
        )
    if draft.approval_details is None:
        raise InvalidRequest(
            "approval_details is required to create a pre-approved spend request.",
            code="parameter_missing",
            extra={"param": "approval_details"},
        )
    # The official client also sends request_approval: true here; approval happens below.
    plain = dataclasses.replace(draft, request_approval=False)
    # No ``issuing`` for create: policies must not approve it first; approval is below.
    request = create(
        session,
        user_id=user_id,
        grant_id=grant_id,
        draft=plain,
        now=now,
        limits=limits,
        spt_redeemed_elsewhere=issuing.issuer.spt_redeemed_elsewhere,
    )
    return _approve_loaded(session, request, now=now, limits=limits, issuing=issuing)


def update(
    session: Session,
    *,
    user_id: str,
    grant_id: str,
    request_id: str,
    changes: SpendRequestChanges,
    now: datetime,
    issuing: Issuing | None = None,
) -> SpendRequest:
    """Apply the agent's changes while the person has not decided yet."""
    request = _load(session, user_id, request_id, now, grant_id=grant_id)
    if changes.payment_method_id is not None:
        _payment_method(session, user_id, changes.payment_method_id, now)
    if changes.network_id is not None:
        _check_redeemable_here(
            session,
            request.credential_type,
            changes.network_id,
            test=request.test,
            elsewhere=issuing is not None and issuing.issuer.spt_redeemed_elsewhere,
        )
    updated = rules.update(request, changes, now=now)
    if (updated.merchant_url, updated.network_id) != (request.merchant_url, request.network_id):
        decision = policy_service.decide_for(session, updated, now)
        if decision is not None and decision.outcome is policy_rules.Outcome.DENY:
            raise policy_rules.denied_error(decision)
    return _save(session, request, updated, now)


def request_approval(
    session: Session,
    *,
    user_id: str,
    grant_id: str,
    request_id: str,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing | None = None,
) -> SpendRequest:
    """Ask the person (idempotent while pending), or approve at once when one of their
    spending policies covers the request (with ``issuing``)."""
    has_policies = issuing is not None and policy_store.count_policies(session, user_id) > 0
    if has_policies:
        repository.lock_person(session, user_id)  # budgets are decided below
    request = _load(session, user_id, request_id, now, grant_id=grant_id)
    pending = rules.request_approval(
        request, now=now, approval_window=timedelta(seconds=limits.approval_window_seconds)
    )
    if has_policies and request.status is Status.CREATED:
        assert issuing is not None
        decision = policy_service.decide_for(session, pending, now)
        if decision is not None and decision.outcome is policy_rules.Outcome.DENY:
            raise policy_rules.denied_error(decision)
        if decision is not None:
            # Approved from the pending state, so the request keeps its approval link.
            approved = _auto_approve(
                session, pending, decision, now=now, limits=limits, issuing=issuing,
                stored=True, before=request,
            )  # fmt: skip
            if approved is not None:
                return approved
    saved = _save(session, request, pending, now)
    if request.status is not Status.PENDING_APPROVAL and saved.status is Status.PENDING_APPROVAL:
        # Same transaction as the move: the notification commits with it or not at all.
        notifications.enqueue(session, user_id=user_id, spend_request_id=saved.id, now=now)
    return saved


def cancel(
    session: Session, *, user_id: str, grant_id: str, request_id: str, now: datetime
) -> SpendRequest:
    """The agent withdraws the request; an issued credential stops working with it."""
    request = _load(session, user_id, request_id, now, grant_id=grant_id)
    canceled = rules.cancel(request, now=now)
    return _save(session, request, canceled, now)


def deny(
    session: Session,
    *,
    user_id: str,
    request_id: str,
    now: datetime,
    seen_revision: int | None,
) -> SpendRequest:
    """The person declines the request as the approval page showed it (``seen_revision``;
    None when the form carried none, refused while the request is still open)."""
    request = _load_as_seen(session, user_id, request_id, now, seen_revision)
    denied = rules.deny(request, now=now)
    return _save_as_seen(session, request, denied, now)


def approve(
    session: Session,
    *,
    user_id: str,
    request_id: str,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing,
    seen_revision: int | None,
    terms: outside.TermsConsent | None = None,
) -> tuple[SpendRequest, IssuedCredential]:
    """The person approves the request as the approval page showed it (``seen_revision``,
    from :func:`revision`; None when the form carried none, refused while the request is
    still open); the credential is issued in the same transaction, and so is their
    acceptance of the card program's terms (``terms``) when the issuer needs it."""
    repository.lock_person(session, user_id)
    request = _load_as_seen(session, user_id, request_id, now, seen_revision)
    if (
        terms is not None
        and request.status in rules.TRANSITIONS["approve"]
        and outside.needs_terms(session, issuing.issuer, request)
    ):
        outside.accept_terms(session, user_id, terms, now)
    return _approve_loaded(session, request, now=now, limits=limits, issuing=issuing, as_seen=True)


def revision(request: SpendRequest) -> str:
    """The token the approval page carries: the request's revision."""
    return str(request.revision)


_CHANGED_SINCE_SHOWN = "This spend request changed after the page was shown. Review it again."


def _load_as_seen(
    session: Session, user_id: str, request_id: str, now: datetime, seen_revision: int | None
) -> SpendRequest:
    request = _load(session, user_id, request_id, now, grant_id=None)
    if request.status not in rules.TRANSITIONS["approve"]:
        return request  # already decided or expired: the verb refuses it, with its status
    if seen_revision is None:
        raise InvalidRequest(
            "This form is out of date or incomplete. Review the request and decide again.",
            code="parameter_missing",
            extra={"param": "revision"},
        )
    if request.revision != seen_revision:
        raise changed(_CHANGED_SINCE_SHOWN)
    return request


def _save_as_seen(
    session: Session, before: SpendRequest, after: SpendRequest, now: datetime
) -> SpendRequest:
    try:
        return _save(session, before, after, now)
    except Conflict as error:
        if error.code == "spend_request_changed":
            raise changed(_CHANGED_SINCE_SHOWN) from None
        raise


def _approve_loaded(
    session: Session,
    request: SpendRequest,
    *,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing,
    as_seen: bool = False,
) -> tuple[SpendRequest, IssuedCredential]:
    recent = repository.recent_for_user(session, request.user_id, now=now)
    limit_rules.check_approve(request, recent, limits, now)
    approved = rules.approve(request, now=now)
    if outside.needs_terms(session, issuing.issuer, request):
        raise outside.terms_required_error()
    save = _save_as_seen if as_seen else _save
    approved = save(session, request, approved, now)
    return approved, _issue(session, approved, now=now, issuing=issuing)


def _auto_approve(
    session: Session,
    request: SpendRequest,
    decision: policy_rules.Decision,
    *,
    now: datetime,
    limits: LimitSettings,
    issuing: Issuing,
    stored: bool,
    recent: Sequence[SpendRequest] | None = None,
    before: SpendRequest | None = None,
) -> SpendRequest | None:
    """Approve on a policy's decision, in this transaction (the caller holds
    ``lock_person``): the request's state, its credential and the budget it uses commit
    together. None when the policy does not approve, or the wallet's global limits (which
    apply on top) refuse: then the person is asked as usual."""
    if decision.outcome is not policy_rules.Outcome.APPROVE:
        return None
    if recent is None:
        recent = repository.recent_for_user(session, request.user_id, now=now)
    try:
        limit_rules.check_approve(request, recent, limits, now)
    except WalletError:
        return None
    if outside.needs_terms(session, issuing.issuer, request):
        return None  # the person accepts the card program's terms on the approval page
    details = policy_rules.policy_approval_details(decision, user_id=request.user_id, now=now)
    approved = dataclasses.replace(rules.approve(request, now=now), approval_details=details)
    if stored:
        approved = _save(session, before or request, approved, now)
    else:
        repository.insert_request(session, approved)
    _issue(session, approved, now=now, issuing=issuing)
    assert decision.policy_id is not None
    summary = policy_rules.summary_text(decision, policy_service.facts_of(approved))
    policy_store.record_approval(
        session,
        user_id=approved.user_id,
        spend_request_id=approved.id,
        policy_id=decision.policy_id,
        grant_id=approved.grant_id,
        now=now,
        summary=summary,
    )
    if policy_store.preferences(session, approved.user_id)[1]:
        notifications.enqueue(
            session,
            user_id=approved.user_id,
            spend_request_id=approved.id,
            now=now,
            event=notifications.AUTO_APPROVED_EVENT,
            summary=summary,
        )
    return approved


def revoke_auto_approved(
    session: Session, *, user_id: str, request_id: str, now: datetime
) -> SpendRequest:
    """The person withdraws a credential a policy approved, before it is redeemed: the
    request is canceled (the credential stops working) and its budget is given back."""
    request = _load(session, user_id, request_id, now, grant_id=None)
    if request.id not in policy_store.approval_summaries(session, [request.id]):
        raise not_found(request_id)
    canceled = rules.cancel(request, now=now)
    return _save(session, request, canceled, now)


def _funding(session: Session, request: SpendRequest, now: datetime) -> FundingCard:
    method = _payment_method(session, request.user_id, request.payment_method_id, now)
    return FundingCard(
        id=method.id,
        brand=method.brand,
        last4=method.last4,
        billing_address=accounts.billing_address(method),
        stripe_payment_method=method.stripe_payment_method,
    )


def _issue(
    session: Session, request: SpendRequest, *, now: datetime, issuing: Issuing
) -> IssuedCredential:
    issuer = issuing.issuer
    if request.is_link_pay_token:
        lpt = issuer.issue_link_pay_token(request, now)
        return issued_credentials.insert_lpt(
            session, request=request, lpt=lpt, issuer=issuer.name, now=now
        )
    if request.credential_type is CredentialType.SHARED_PAYMENT_TOKEN:
        paying = _funding(session, request, now) if issuer.remote else None
        spt = issuer.issue_spt(request, now, paying)
        return issued_credentials.insert_spt(
            session, request=request, spt=spt, issuer=issuer.name, now=now
        )
    funding = _funding(session, request, now)
    holder = outside.holder_for(session, request.user_id) if issuer.remote else None
    for _ in range(_FINGERPRINT_ATTEMPTS):
        card = issuer.issue_card(request, funding, now, holder)
        if card.number is None:
            # An outside issuer's card: its number stays there until the agent asks.
            outside.remember_holder(session, holder, card, issuer.name, now)
            return issued_credentials.insert_card(
                session,
                request=request,
                card=card,
                issuer=issuer.name,
                cipher=issuing.cipher,
                fingerprint=None,
                now=now,
            )
        fingerprint = issued_credentials.card_fingerprint(issuing.secret_key, card.number)
        if not issued_credentials.fingerprint_taken(session, fingerprint):
            return issued_credentials.insert_card(
                session,
                request=request,
                card=card,
                issuer=issuer.name,
                cipher=issuing.cipher,
                fingerprint=fingerprint,
                now=now,
            )
    raise Conflict(
        "Could not allocate a unique virtual card number; try approving again.",
        code="card_number_unavailable",
    )
