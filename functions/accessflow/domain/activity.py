"""Last activity of members (access reviews), as pure functions; the idle rule is ``domain/review.is_idle``.

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

