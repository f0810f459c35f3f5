"""When the one reminder goes out (pure rule, no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accessflow.domain import rules
from accessflow.domain.policy import BusinessPolicy

SENT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_reminder_a_day_before_expiry() -> None:
    policy = BusinessPolicy(invitation_lifetime_days=7)
    expires = rules.expiry_for(SENT, policy)
    assert rules.reminder_at(SENT, expires, policy) == expires - timedelta(hours=24)


def test_short_lifetime_is_reminded_half_way_not_at_once() -> None:
    policy = BusinessPolicy(invitation_lifetime_days=1)
    expires = rules.expiry_for(SENT, policy)
    assert rules.reminder_at(SENT, expires, policy) == SENT + timedelta(hours=12)
