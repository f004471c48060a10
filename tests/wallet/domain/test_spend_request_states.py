"""The spend-request state machine: every verb from every status, expiry, and properties."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spend_builders import LIFETIME, T0, WINDOW, build_request

from link_cli.wallet.domain import spend_request as sr
from link_cli.wallet.domain.errors import WalletError
from link_cli.wallet.domain.spend_request import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    InvalidTransition,
    SpendRequest,
    SpendRequestChanges,
    Status,
)

NOW = T0 + timedelta(minutes=1)
AUTO_RESUME = {
    "requires_action": {
        "next_action": {
            "type": "three_d_secure",
            "resolution": "auto_resume",
            "display_message": "Complete 3-D Secure",
            "action_url": None,
        }
    }
}
PAYMENT = {"outcome": "success", "amount": 5000, "currency": "usd"}

VERBS: dict[str, Callable[[SpendRequest, object], SpendRequest]] = {
    "request_approval": lambda r, now: sr.request_approval(r, now=now, approval_window=WINDOW),
    "approve": lambda r, now: sr.approve(r, now=now),
    "deny": lambda r, now: sr.deny(r, now=now),
    "expire": lambda r, now: sr.expire(r, now=now),
    "cancel": lambda r, now: sr.cancel(r, now=now),
    "succeed": lambda r, now: sr.succeed(r, now=now, payment_status_details=PAYMENT),
    "fail": lambda r, now: sr.fail(r, now=now, payment_status_details=PAYMENT),
    "require_action": lambda r, now: sr.require_action(
        r, now=now, next_action=AUTO_RESUME["requires_action"]["next_action"]
    ),
    "resume": lambda r, now: sr.resume(r, now=now),
}


def in_status(status: Status) -> SpendRequest:
    """A request that plausibly reached ``status`` by T0 + 1 min (not yet due)."""
    changes: dict[str, object] = {"status": status}
    if status is Status.PENDING_APPROVAL:
        changes["approval_requested_at"] = T0
    if status in (Status.APPROVED, Status.REQUIRES_ACTION, Status.SUCCEEDED, Status.FAILED):
        changes["approved_at"] = T0
        changes["valid_until"] = T0 + LIFETIME
    if status is Status.REQUIRES_ACTION:
        changes["status_details"] = AUTO_RESUME
    return build_request(**changes)


def when_verb_applies(verb: str, status: Status) -> object:
    """``expire`` needs the deadline to have passed; every other verb runs before it."""
    if verb == "expire":
        return T0 + LIFETIME + timedelta(seconds=1)
    return NOW


ALL_PAIRS = [(verb, status) for verb in TRANSITIONS for status in Status]


def test_verbs_match_the_table() -> None:
    assert set(VERBS) == set(TRANSITIONS)


def test_terminal_statuses_accept_no_verb() -> None:
    for status in TERMINAL_STATUSES:
        assert all(status not in table for table in TRANSITIONS.values())


@pytest.mark.parametrize(("verb", "status"), ALL_PAIRS)
def test_each_verb_from_each_status(verb: str, status: Status) -> None:
    request = in_status(status)
    now = when_verb_applies(verb, status)
    target = TRANSITIONS[verb].get(status)
    if target is None:
        with pytest.raises(InvalidTransition) as caught:
            VERBS[verb](request, now)
        assert caught.value.status == 409
        assert caught.value.code == "spend_request_invalid_state"
        assert str(status) in caught.value.message
    else:
        moved = VERBS[verb](request, now)
        assert moved.status is target
        if moved is not request:
            assert moved.updated_at == now


def test_invalid_transition_is_a_wallet_error_with_the_contract_body() -> None:
    with pytest.raises(WalletError) as caught:
        sr.deny(in_status(Status.APPROVED), now=NOW)
    body = caught.value.to_body()
    assert body["error"]["code"] == "spend_request_invalid_state"
    assert body["error"]["spend_request_status"] == "approved"
    assert "Cannot deny" in body["error"]["message"]


def test_request_approval_starts_a_fresh_window() -> None:
    later = T0 + timedelta(minutes=7)
    pending = sr.request_approval(build_request(), now=later, approval_window=WINDOW)
    assert pending.status is Status.PENDING_APPROVAL
    assert pending.approval_requested_at == later
    assert pending.approval_expires_at == later + WINDOW
    assert sr.deadline(pending) == later + WINDOW


def test_request_approval_again_while_pending_changes_nothing() -> None:
    pending = sr.request_approval(build_request(), now=NOW, approval_window=WINDOW)
    again = sr.request_approval(pending, now=NOW + timedelta(minutes=5), approval_window=WINDOW)
    assert again == pending


def test_approval_window_never_outlives_the_request() -> None:
    near_end = T0 + LIFETIME - timedelta(minutes=3)
    request = build_request(approval_expires_at=T0 + LIFETIME)
    pending = sr.request_approval(request, now=near_end, approval_window=WINDOW)
    assert pending.approval_expires_at == T0 + LIFETIME


def test_created_request_expires_ten_minutes_after_creation() -> None:
    request = build_request()
    assert sr.deadline(request) == T0 + WINDOW
    assert sr.expire_if_due(request, now=T0 + WINDOW - timedelta(seconds=1)) is request
    expired = sr.expire_if_due(request, now=T0 + WINDOW)
    assert expired.status is Status.EXPIRED
    assert expired.updated_at == T0 + WINDOW


def test_pending_request_expires_when_its_window_passes() -> None:
    asked = T0 + timedelta(minutes=8)
    pending = sr.request_approval(build_request(), now=asked, approval_window=WINDOW)
    # Still pending after the creation-based window would have passed...
    assert sr.expire_if_due(pending, now=T0 + WINDOW + timedelta(minutes=1)) is pending
    # ...and expired once its own window has.
    assert sr.expire_if_due(pending, now=asked + WINDOW).status is Status.EXPIRED


def test_approved_request_expires_at_valid_until() -> None:
    approved = sr.approve(build_request(), now=NOW)
    assert approved.valid_until == T0 + LIFETIME
    assert approved.approved_at == NOW
    assert sr.expire_if_due(approved, now=T0 + LIFETIME - timedelta(seconds=1)) is approved
    assert sr.expire_if_due(approved, now=T0 + LIFETIME).status is Status.EXPIRED


def test_terminal_requests_never_expire() -> None:
    denied = in_status(Status.DENIED)
    assert sr.deadline(denied) is None
    assert sr.expire_if_due(denied, now=T0 + timedelta(days=365)) is denied


@pytest.mark.parametrize("verb", [v for v in TRANSITIONS if v != "expire"])
def test_no_verb_works_once_the_deadline_passed(verb: str) -> None:
    status = next(iter(TRANSITIONS[verb]))
    request = in_status(status)
    late = T0 + LIFETIME + timedelta(seconds=1)
    with pytest.raises(InvalidTransition) as caught:
        VERBS[verb](request, late)
    assert "expired" in caught.value.message
    assert caught.value.extra["spend_request_status"] == "expired"


def test_expire_before_the_deadline_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="before its deadline"):
        sr.expire(build_request(), now=NOW)


def test_resume_is_refused_for_actions_that_do_not_resume() -> None:
    manual = {
        "requires_action": {
            "next_action": {
                "type": "add_payment_method",
                "resolution": "create_new_spend_request",
                "display_message": "Add a card",
                "action_url": "https://wallet.example/cards",
            }
        }
    }
    request = in_status(Status.REQUIRES_ACTION)
    with pytest.raises(InvalidTransition, match="create a new spend request"):
        sr.resume(dataclasses.replace(request, status_details=manual), now=NOW)
    with pytest.raises(InvalidTransition):
        sr.resume(dataclasses.replace(request, approved_at=None), now=NOW)


def test_resume_clears_the_required_action() -> None:
    resumed = sr.resume(in_status(Status.REQUIRES_ACTION), now=NOW)
    assert resumed.status is Status.APPROVED
    assert resumed.status_details is None


def test_require_action_records_the_next_action_and_failure_code() -> None:
    next_action = {"type": "re_authorize", "resolution": "create_new_spend_request"}
    moved = sr.require_action(
        in_status(Status.APPROVED), now=NOW, next_action=next_action, failure_code="expired_card"
    )
    assert moved.status_details == {
        "requires_action": {"next_action": next_action, "failure_code": "expired_card"}
    }


def test_succeed_keeps_the_payment_details() -> None:
    done = sr.succeed(in_status(Status.APPROVED), now=NOW, payment_status_details=PAYMENT)
    assert done.status is Status.SUCCEEDED
    assert done.payment_status_details == PAYMENT


# -- update ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.CREATED, Status.PENDING_APPROVAL])
def test_update_before_the_decision_changes_only_the_given_fields(status: Status) -> None:
    request = in_status(status)
    changed = sr.update(request, SpendRequestChanges(amount=4200, currency="eur"), now=NOW)
    assert (changed.amount, changed.currency, changed.updated_at) == (4200, "eur", NOW)
    assert changed.merchant_url == request.merchant_url
    assert changed.status is status


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in (Status.CREATED, Status.PENDING_APPROVAL)]
)
def test_update_after_the_decision_is_a_conflict(status: Status) -> None:
    with pytest.raises(InvalidTransition, match="Cannot update"):
        sr.update(in_status(status), SpendRequestChanges(amount=1), now=NOW)


def test_update_of_an_expired_request_is_a_conflict() -> None:
    with pytest.raises(InvalidTransition, match="expired"):
        sr.update(build_request(), SpendRequestChanges(amount=1), now=T0 + WINDOW)


def test_update_refuses_fields_of_the_other_credential_type() -> None:
    spt = build_request(
        credential_type=sr.CredentialType.SHARED_PAYMENT_TOKEN,
        merchant_name=None,
        merchant_url=None,
        network_id="profile_seller",
    )
    with pytest.raises(WalletError) as caught:
        sr.update(spt, SpendRequestChanges(merchant_url="https://x.example"), now=NOW)
    assert (caught.value.code, caught.value.extra["param"]) == (
        "parameter_not_allowed",
        "merchant_url",
    )
    assert sr.update(spt, SpendRequestChanges(network_id="profile_b"), now=NOW).network_id == (
        "profile_b"
    )
    with pytest.raises(WalletError) as caught:
        sr.update(build_request(), SpendRequestChanges(network_id="profile_b"), now=NOW)
    assert caught.value.extra["param"] == "profile_id"


def test_new_spend_request_starts_created_with_its_deadlines() -> None:
    from spend_builders import build_draft

    request = sr.new_spend_request(
        build_draft(test=True),
        id="lsrq_1",
        user_id="usr_1",
        payment_method_id="csmrpd_1",
        now=T0,
        approval_window=WINDOW,
        lifetime=LIFETIME,
    )
    assert request.status is Status.CREATED
    assert (request.approval_expires_at, request.expires_at) == (T0 + WINDOW, T0 + LIFETIME)
    assert request.test is True
    assert request.valid_until is None


# -- properties -----------------------------------------------------------------------------


steps = st.lists(
    st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.integers(min_value=0, max_value=4 * 3600)),
    max_size=12,
)


@settings(deadline=None)
@given(steps=steps)
def test_random_walks_respect_the_table(steps: list[tuple[str, int]]) -> None:
    request = build_request()
    now = T0
    for verb, wait in steps:
        now = now + timedelta(seconds=wait)
        before = sr.expire_if_due(request, now=now)
        try:
            after = VERBS[verb](before, now)
        except InvalidTransition:
            after = before
        else:
            assert after.status is TRANSITIONS[verb][before.status]
        if before.is_terminal:
            assert after == before
        if after.status is Status.APPROVED:
            assert after.valid_until == after.expires_at == T0 + LIFETIME
            assert after.approved_at is not None and after.approved_at <= now
        deadline = sr.deadline(after)
        assert deadline is None or deadline <= T0 + LIFETIME
        request = after


@settings(deadline=None)
@given(
    status=st.sampled_from(sorted(TERMINAL_STATUSES)),
    verb=st.sampled_from(sorted(TRANSITIONS)),
    seconds=st.integers(min_value=0, max_value=10**8),
)
def test_terminal_states_are_final(status: Status, verb: str, seconds: int) -> None:
    request = in_status(status)
    now = T0 + timedelta(seconds=seconds)
    assert sr.expire_if_due(request, now=now) is request
    with pytest.raises(InvalidTransition):
        VERBS[verb](request, now)


@settings(deadline=None)
@given(seconds=st.integers(min_value=0, max_value=2 * 86400))
def test_lazy_expiry_is_idempotent(seconds: int) -> None:
    now = T0 + timedelta(seconds=seconds)
    for status in Status:
        once = sr.expire_if_due(in_status(status), now=now)
        assert sr.expire_if_due(once, now=now) == once


def test_a_link_pay_token_is_valid_30_minutes_or_until_the_request_expires() -> None:
    lpt = build_request(execution_method="link_pay_token", merchant_account_id="acct_1")
    approved = sr.approve(lpt, now=T0 + timedelta(minutes=1))
    assert approved.valid_until == T0 + timedelta(minutes=31)
    assert sr.is_due(approved, T0 + timedelta(minutes=31))
    late = dataclasses.replace(lpt, expires_at=T0 + timedelta(minutes=9))
    assert sr.approve(late, now=T0 + timedelta(minutes=1)).valid_until == late.expires_at
    # A plain card keeps the request's whole lifetime.
    assert sr.approve(build_request(), now=T0).valid_until == T0 + LIFETIME


def test_a_link_pay_token_request_keeps_its_merchant_url() -> None:
    lpt = build_request(execution_method="link_pay_token", merchant_account_id="acct_1")
    with pytest.raises(WalletError) as caught:
        sr.update(lpt, sr.SpendRequestChanges(merchant_url="https://else.example"), now=T0)
    assert caught.value.code == "parameter_not_allowed"
