"""The leaver guard's limit and window, and when a removed member can be reinstated (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accessflow.domain.leavers import (
    AccountState,
    ReinstatementUnavailable,
    check_reinstatable,
    guard_limit,
    reinstatable_until,
    window_open,
)
from accessflow.domain.policy import BusinessPolicy

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("members", "limit"), [(40, 10), (10, 10), (50, 10), (51, 10), (55, 11), (200, 40),
                                                (1000, 200)])
def test_the_limit_is_the_larger_of_the_count_and_the_percentage(members: int, limit: int) -> None:
    assert guard_limit(BusinessPolicy(), members) == limit


def test_a_percentage_of_zero_leaves_the_count() -> None:
    assert guard_limit(BusinessPolicy(leaver_guard_count=3, leaver_guard_percent=0), 1000) == 3


def test_the_window_lasts_its_minutes_from_its_start() -> None:
    policy = BusinessPolicy(leaver_guard_window_minutes=60)
    assert window_open(NOW, NOW + timedelta(minutes=59, seconds=59), policy)
    assert not window_open(NOW, NOW + timedelta(minutes=60), policy)
    assert not window_open(None, NOW, policy)


def _check(*, status: str = "REMOVED", until: datetime | None = None, now: datetime = NOW,
           grants: list[dict[str, str]] | None = None, accounts: list[AccountState] | None = None) -> None:
    check_reinstatable(member_status=status, offboarding_status="COMPLETED",
                       until=until or reinstatable_until(NOW, BusinessPolicy()),
                       grants=[{"account_id": "a", "role": "Editor"}] if grants is None else grants,
                       accounts=accounts or [AccountState("a", True, False)], now=now)


def test_reinstatable_for_90_days_by_default() -> None:
    assert reinstatable_until(NOW, BusinessPolicy()) == NOW + timedelta(days=90)
    _check(now=NOW + timedelta(days=30))
    _check(now=NOW + timedelta(days=90))
    with pytest.raises(ReinstatementUnavailable) as refused:
        _check(now=NOW + timedelta(days=91))
    assert refused.value.extensions["reason"] == "expired" and refused.value.status == 409
    assert "normal invitation" in refused.value.detail


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"status": "ACTIVE"}, "not-removed"),
    ({"grants": []}, "nothing-to-reinstate"),
    ({"accounts": [AccountState("a", True, True)]}, "business-changed"),
    ({"accounts": [AccountState("a", False, False)]}, "business-changed"),
])
def test_refusals_say_why(kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(ReinstatementUnavailable) as refused:
        _check(**kwargs)  # type: ignore[arg-type]
    assert refused.value.extensions["reason"] == reason
    assert refused.value.problem()["type"].endswith("/reinstatement-unavailable")
