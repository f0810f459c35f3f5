"""When a business's next recurring access review is due, as a pure function of its cadence."""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Literal

Cadence = Literal["off", "monthly", "quarterly", "semiannual", "annual"]
CADENCE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def add_months(when: datetime, months: int) -> datetime:
    """Calendar months later, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def next_review_at(cadence: str, after: datetime) -> datetime | None:
    """One period after ``after`` (the enrolment, or the start of the last scheduled campaign);
    ``None`` when the cadence is ``off``. Never ``after`` itself: enrolling a business, or changing
    its cadence, never starts a review at once (an Admin who wants one now starts it now)."""
    months = CADENCE_MONTHS.get(cadence)
    return add_months(after, months) if months else None
