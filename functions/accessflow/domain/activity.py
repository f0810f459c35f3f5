"""Last activity and the idle rule of access reviews, as pure functions.

A member's last activity is their last authenticated call to the admin API of that business (or the
acceptance of their invitation, their first one). It is recorded at most once an hour per member per
business (:data:`WRITE_INTERVAL`): a reviewer needs "active this quarter or not", not the minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: the recorded time may lag the true last call by up to this much: the price of ≤ 1 write an hour
WRITE_INTERVAL = timedelta(hours=1)


def needs_write(recorded: datetime | None, now: datetime) -> bool:
    """Whether this call should write its time: only when nothing was recorded in the last hour."""
    return recorded is None or recorded <= now - WRITE_INTERVAL


def is_idle(last_activity_at: datetime | None, *, now: datetime, idle_after_days: int,
            member_since: datetime | None = None) -> bool:
    """Idle: no activity for longer than ``idle_after_days``. A member with no recorded activity is
    measured from when they joined (``member_since``), so a newcomer is not flagged on day one; with
    neither date known there is nothing to judge by, and nobody is flagged on a guess."""
    reference = last_activity_at or member_since
    if reference is None:
        return False
    return now - reference > timedelta(days=idle_after_days)
