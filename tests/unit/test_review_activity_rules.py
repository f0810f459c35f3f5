"""The hourly activity write, the review policy fields and the recurring review dates (pure); the idle
rule itself is tested with the review rules (tests/unit/test_review_rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from accessflow.domain.activity import needs_write
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.review_schedule import add_months, next_review_at

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_activity_is_written_at_most_once_an_hour() -> None:
    assert needs_write(None, NOW)
    assert not needs_write(NOW - timedelta(minutes=59), NOW)
    assert needs_write(NOW - timedelta(hours=1), NOW)


def test_policy_defaults_and_bounds() -> None:
    policy = BusinessPolicy()
    assert (policy.review_idle_after_days, policy.review_cadence, policy.review_duration_days) == (90, "quarterly", 14)
    for bad in ({"review_idle_after_days": 0}, {"review_cadence": "weekly"}, {"review_duration_days": 91}):
        with pytest.raises(ValidationError):
            BusinessPolicy.model_validate(bad)


@pytest.mark.parametrize(("cadence", "expected"), [
    ("monthly", datetime(2027, 1, 1, 12, 0, tzinfo=UTC)),
    ("quarterly", datetime(2027, 3, 1, 12, 0, tzinfo=UTC)),
    ("semiannual", datetime(2027, 6, 1, 12, 0, tzinfo=UTC)),
    ("annual", datetime(2027, 12, 1, 12, 0, tzinfo=UTC)),
    ("off", None),
])
def test_next_review_is_one_period_later(cadence: str, expected: datetime | None) -> None:
    assert next_review_at(cadence, NOW) == expected


def test_month_ends_are_clamped() -> None:
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 8, 31, tzinfo=UTC), 6) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)
