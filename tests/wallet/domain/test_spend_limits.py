"""Limits over a snapshot of the person's requests (contract §11.1)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spend_builders import LIFETIME, T0, WINDOW, build_draft, build_request

from link_cli.wallet.domain.limits import (
    DuplicateSpendRequest,
    LimitExceeded,
    LimitSettings,
    check_approve,
    check_create,
    find_duplicate,
)
from link_cli.wallet.domain.spend_request import CredentialType, SpendRequest, Status

NOW = T0 + timedelta(hours=2)
DEFAULTS = LimitSettings()


def past(index: int, *, ago: timedelta, status: Status = Status.SUCCEEDED, **changes: object):
    """A request created ``ago`` before NOW, approved at creation, distinct from the draft."""
    created = NOW - ago
    fields: dict[str, object] = {
        "id": f"lsrq_{index}",
        "status": status,
        "created_at": created,
        "updated_at": created,
        "approval_expires_at": created + WINDOW,
        "expires_at": created + LIFETIME,
        "merchant_name": f"Shop {index}",
    }
    if status in (Status.APPROVED, Status.SUCCEEDED, Status.FAILED, Status.CANCELED):
        fields["approved_at"] = created
        fields["valid_until"] = created + LIFETIME
    fields.update(changes)
    return build_request(**fields)


def refused(draft=None, recent=(), limits=DEFAULTS) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as caught:
        check_create(draft or build_draft(), list(recent), limits, NOW)
    return caught.value


def test_a_first_request_is_allowed() -> None:
    check_create(build_draft(), [], DEFAULTS, NOW)


# -- duplicates -----------------------------------------------------------------------------


def test_duplicate_of_an_active_request_is_refused_with_it() -> None:
    existing = past(
        1,
        ago=timedelta(minutes=1),
        status=Status.PENDING_APPROVAL,
        merchant_name="Widget Shop",
        approval_requested_at=NOW - timedelta(minutes=1),
        approval_expires_at=NOW + timedelta(minutes=9),
    )
    error = refused(recent=[existing])
    assert isinstance(error, DuplicateSpendRequest)
    assert error.existing is existing
    assert (error.status, error.code) == (429, "spend_request_rate_limited")
    assert error.retry_after == 9 * 60
    assert error.headers["Retry-After"] == "540"
    # The id travels in duplicate_spend_request; clients name it in their own sentence.
    assert error.message == "This spend request repeats one that is still active."


def test_only_the_same_grants_request_is_a_duplicate_but_all_count_for_limits() -> None:
    # The duplicate answer shows the existing request: another agent must not receive it.
    existing = past(
        1,
        ago=timedelta(minutes=1),
        status=Status.PENDING_APPROVAL,
        merchant_name="Widget Shop",
        approval_requested_at=NOW - timedelta(minutes=1),
        approval_expires_at=NOW + timedelta(minutes=9),
        grant_id="grt_a",
    )
    with pytest.raises(DuplicateSpendRequest):
        check_create(build_draft(), [existing], DEFAULTS, NOW, grant_id="grt_a")
    check_create(build_draft(), [existing], DEFAULTS, NOW, grant_id="grt_b")
    one_active = dataclasses.replace(DEFAULTS, max_active=1)
    with pytest.raises(LimitExceeded) as caught:
        check_create(build_draft(), [existing], one_active, NOW, grant_id="grt_b")
    assert caught.value.code == "too_many_active_spend_requests"


@pytest.mark.parametrize(
    "difference",
    [
        {"amount": 5001},
        {"currency": "eur"},
        {"merchant_url": "https://other.example"},
        {"merchant_name": "Other Shop"},
        {"context": "x" * 120},
    ],
)
def test_a_request_that_differs_is_not_a_duplicate(difference: dict[str, object]) -> None:
    existing = past(
        1,
        ago=timedelta(minutes=1),
        status=Status.APPROVED,
        **{"merchant_name": "Widget Shop", **difference},
    )
    assert find_duplicate(build_draft(), [existing]) is None


@pytest.mark.parametrize(
    "status",
    [
        Status.DENIED,
        Status.EXPIRED,
        Status.CANCELED,
        Status.SUCCEEDED,
        Status.FAILED,
        Status.REQUIRES_ACTION,
    ],
)
def test_finished_requests_are_not_duplicates(status: Status) -> None:
    existing = past(1, ago=timedelta(minutes=1), status=status, merchant_name="Widget Shop")
    assert find_duplicate(build_draft(), [existing]) is None


def test_spt_duplicates_match_on_network_id() -> None:
    spt = {
        "credential_type": CredentialType.SHARED_PAYMENT_TOKEN,
        "merchant_name": None,
        "merchant_url": None,
        "network_id": "profile_a",
    }
    existing = past(
        1, ago=timedelta(minutes=1), status=Status.CREATED, approval_expires_at=NOW + WINDOW, **spt
    )
    assert find_duplicate(build_draft(**spt), [existing]) is existing
    other = build_draft(**{**spt, "network_id": "profile_b"})
    assert find_duplicate(other, [existing]) is None
    card = build_draft(merchant_name=None, merchant_url=None)
    assert find_duplicate(card, [existing]) is None


# -- creation rate --------------------------------------------------------------------------


def test_hourly_creation_limit() -> None:
    limits = LimitSettings(hourly_creations=3)
    recent = [past(i, ago=timedelta(minutes=10 * (i + 1)), status=Status.DENIED) for i in range(3)]
    error = refused(recent=recent, limits=limits)
    assert (error.code, error.limit) == ("spend_request_rate_limited", "hourly_creations")
    # The oldest of the three was 30 minutes ago: one slot frees in 30 minutes.
    assert error.retry_after == 30 * 60
    check_create(build_draft(), recent[:2], limits, NOW)


def test_requests_older_than_an_hour_do_not_count_hourly() -> None:
    limits = LimitSettings(hourly_creations=1)
    check_create(
        build_draft(), [past(1, ago=timedelta(minutes=61), status=Status.DENIED)], limits, NOW
    )


def test_sixty_day_creation_limit_counts_test_requests() -> None:
    limits = LimitSettings(creations_60d=2)
    recent = [
        past(1, ago=timedelta(days=59), status=Status.DENIED, test=True),
        past(2, ago=timedelta(days=3), status=Status.DENIED),
    ]
    error = refused(recent=recent, limits=limits)
    assert error.limit == "creations_60d"
    assert error.retry_after == 86400
    check_create(build_draft(), recent[1:], limits, NOW)


# -- concurrency ----------------------------------------------------------------------------


def test_active_limit_counts_created_pending_and_approved() -> None:
    limits = LimitSettings(max_active=3)
    recent = [
        past(
            1,
            ago=timedelta(minutes=1),
            status=Status.CREATED,
            approval_expires_at=NOW + timedelta(minutes=9),
        ),
        past(
            2,
            ago=timedelta(minutes=1),
            status=Status.PENDING_APPROVAL,
            approval_expires_at=NOW + timedelta(minutes=4),
        ),
        past(3, ago=timedelta(minutes=1), status=Status.APPROVED),
        past(4, ago=timedelta(minutes=1), status=Status.SUCCEEDED),
    ]
    error = refused(recent=recent, limits=limits)
    assert (error.code, error.limit) == ("too_many_active_spend_requests", "max_active")
    assert error.retry_after == 4 * 60
    check_create(build_draft(), recent[1:], limits, NOW)


def test_approved_limit_applies_when_approving() -> None:
    limits = LimitSettings(max_approved=2)
    approved = [past(i, ago=timedelta(minutes=5), status=Status.APPROVED) for i in range(2)]
    request = past(
        9,
        ago=timedelta(minutes=1),
        status=Status.PENDING_APPROVAL,
        approval_expires_at=NOW + WINDOW,
    )
    with pytest.raises(LimitExceeded) as caught:
        check_approve(request, [*approved, request], limits, NOW)
    assert (caught.value.code, caught.value.limit) == (
        "too_many_approved_spend_requests",
        "max_approved",
    )
    check_approve(request, [approved[0], request], limits, NOW)


def test_the_request_being_approved_is_not_counted_against_itself() -> None:
    limits = LimitSettings(max_approved=1, daily_spend=5000)
    request = past(1, ago=timedelta(minutes=1), status=Status.APPROVED, amount=5000)
    check_approve(request, [request], limits, NOW)


# -- spend ----------------------------------------------------------------------------------


def test_daily_spend_counts_approved_and_succeeded_in_the_last_day() -> None:
    limits = LimitSettings(daily_spend=10000)
    recent = [
        past(1, ago=timedelta(hours=20), status=Status.SUCCEEDED, amount=3000),
        past(2, ago=timedelta(hours=1), status=Status.APPROVED, amount=2500),
        past(3, ago=timedelta(hours=25), status=Status.SUCCEEDED, amount=9000),  # too old
        past(4, ago=timedelta(hours=2), status=Status.CANCELED, amount=9000),
        past(5, ago=timedelta(hours=2), status=Status.FAILED, amount=9000),
        past(6, ago=timedelta(hours=2), status=Status.SUCCEEDED, amount=9000, test=True),
    ]
    check_create(build_draft(amount=4500), recent, limits, NOW)
    error = refused(build_draft(amount=4501), recent, limits)
    assert (error.code, error.limit) == ("spend_limit_exceeded", "daily_spend")
    assert "5500 already approved + 4501 requested > 10000" in error.message
    # Once the 3000 from 20 hours ago leaves the window, 4501 fits.
    assert error.retry_after == 4 * 3600


def test_monthly_spend_uses_a_rolling_thirty_days() -> None:
    limits = LimitSettings(daily_spend=10**9, monthly_spend=20000)
    recent = [
        past(1, ago=timedelta(days=29), status=Status.SUCCEEDED, amount=15000),
        past(2, ago=timedelta(days=31), status=Status.SUCCEEDED, amount=15000),
    ]
    check_create(build_draft(amount=5000), recent, limits, NOW)
    error = refused(build_draft(amount=5001), recent, limits)
    assert error.limit == "monthly_spend"
    assert error.retry_after == 86400


def test_spend_that_can_never_fit_has_no_retry_after() -> None:
    error = refused(build_draft(amount=600), [], LimitSettings(daily_spend=500))
    assert error.retry_after is None
    assert "retry_after" not in error.extra


def test_test_mode_requests_are_never_refused_for_spend() -> None:
    limits = LimitSettings(daily_spend=100, monthly_spend=100)
    recent = [past(1, ago=timedelta(hours=1), status=Status.SUCCEEDED, amount=100)]
    check_create(build_draft(amount=5000, test=True), recent, limits, NOW)
    request = past(
        2,
        ago=timedelta(minutes=1),
        status=Status.PENDING_APPROVAL,
        amount=5000,
        test=True,
        approval_expires_at=NOW + WINDOW,
    )
    check_approve(request, [*recent, request], limits, NOW)


def test_approval_rechecks_spend() -> None:
    limits = LimitSettings(daily_spend=6000)
    spent = past(1, ago=timedelta(hours=1), status=Status.APPROVED, amount=3000)
    request = past(
        2,
        ago=timedelta(minutes=1),
        status=Status.PENDING_APPROVAL,
        amount=3001,
        approval_expires_at=NOW + WINDOW,
    )
    with pytest.raises(LimitExceeded) as caught:
        check_approve(request, [spent, request], limits, NOW)
    assert caught.value.limit == "daily_spend"


def test_limit_error_body_names_the_limit() -> None:
    body = refused(build_draft(amount=600), [], LimitSettings(daily_spend=500)).to_body()
    assert body["error"]["code"] == "spend_limit_exceeded"
    assert body["error"]["limit"] == "daily_spend"


# -- properties -----------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=20000)


@settings(deadline=None)
@given(
    spends=st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=47 * 3600)), max_size=8),
    amount=amounts,
    limit=st.integers(min_value=1, max_value=60000),
)
def test_daily_spend_decision_matches_a_plain_sum(
    spends: list[tuple[int, int]], amount: int, limit: int
) -> None:
    recent = [
        past(i, ago=timedelta(seconds=seconds), status=Status.SUCCEEDED, amount=value)
        for i, (value, seconds) in enumerate(spends)
    ]
    limits = LimitSettings(daily_spend=limit, monthly_spend=10**12)
    in_window = sum(value for value, seconds in spends if seconds < 86400)
    draft = build_draft(amount=amount)
    if in_window + amount <= limit:
        check_create(draft, recent, limits, NOW)
        return
    error = refused(draft, recent, limits)
    assert error.limit == "daily_spend"
    if error.retry_after is not None:
        # Waiting that long really makes room, and one second less does not.
        later = NOW + timedelta(seconds=error.retry_after)
        check_create(draft, recent, limits, later)
        with pytest.raises(LimitExceeded):
            check_create(draft, recent, limits, later - timedelta(seconds=1))
    else:
        assert amount > limit


@settings(deadline=None)
@given(count=st.integers(min_value=0, max_value=12), limit=st.integers(min_value=0, max_value=12))
def test_hourly_creation_decision(count: int, limit: int) -> None:
    recent: list[SpendRequest] = [
        past(i, ago=timedelta(minutes=i + 1), status=Status.DENIED) for i in range(count)
    ]
    limits = LimitSettings(hourly_creations=limit)
    if count < limit:
        check_create(build_draft(), recent, limits, NOW)
    else:
        assert refused(recent=recent, limits=limits).limit == "hourly_creations"
