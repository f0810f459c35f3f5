"""Store: each business's recurring access review and the due entries the daily run queries.

Two items move together in one transaction with their audit entry: the business's schedule
(``BIZ#{b}`` / ``REVIEWSCHEDULE``: cadence, next due time, last scheduled start) and its due entry
(``REVIEWDUE`` / ``{due iso}#{b}``). The daily run reads the due entries with one key query on that
partition (``sk <= now``): the businesses whose review is due and nothing else, never a Scan. The
schedule's write is conditional on the version it read, so two runs at once move it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from accessflow.store.models import ReviewDueItem, ReviewScheduleItem
from accessflow.store.repository import AuditDraft, ConditionFailed, Context, Tx, biz_pk

DUE_PK = "REVIEWDUE"
SCHEDULE_SK = "REVIEWSCHEDULE"

__all__ = ["ConditionFailed", "Started", "due", "due_sk", "get_schedule", "set_schedule"]


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def due_sk(when: datetime, business_id: str) -> str:
    return f"{_stamp(when)}#{business_id}"


def get_schedule(business_id: str) -> ReviewScheduleItem | None:
    try:
        return ReviewScheduleItem.get(biz_pk(business_id), SCHEDULE_SK, consistent_read=True)
    except DoesNotExist:
        return None


def due(now: datetime, limit: int) -> list[ReviewDueItem]:
    """The due entries (due time ≤ ``now``), oldest first, at most ``limit``."""
    return list(ReviewDueItem.query(DUE_PK, ReviewDueItem.sk <= f"{_stamp(now)}~", limit=limit,
                                    consistent_read=True))


@dataclass(frozen=True)
class Started:
    at: datetime
    campaign_id: str | None


def set_schedule(business_id: str, *, cadence: str, next_at: datetime | None, expected: ReviewScheduleItem | None,
                 ctx: Context, now: datetime, started: Started | None = None, reason: str | None = None) -> None:
    """Replace the schedule (and move its due entry) if it is still the one read (``expected``;
    ``None``: there was none). :class:`ConditionFailed` when another writer moved it first."""
    b = business_id
    tx = Tx(b, ctx, now)
    old_at = expected.next_at if expected is not None else None
    if old_at is not None and old_at != next_at:
        tx.delete("due-old", ReviewDueItem(pk=DUE_PK, sk=due_sk(old_at, b)))
    if next_at is not None and next_at != old_at:
        tx.save("due", ReviewDueItem(pk=DUE_PK, sk=due_sk(next_at, b), business_id=b, due_at=next_at))
    item = ReviewScheduleItem(
        pk=biz_pk(b), sk=SCHEDULE_SK, business_id=b, cadence=cadence, next_at=next_at, updated_at=now,
        last_started_at=started.at if started else (expected.last_started_at if expected else None),
        last_campaign_id=started.campaign_id if started else (expected.last_campaign_id if expected else None),
    )
    condition = (ReviewScheduleItem.pk.does_not_exist() if expected is None
                 else ReviewScheduleItem.updated_at == expected.updated_at)
    tx.save("schedule", item, condition=condition)
    before = ({"cadence": expected.cadence, "next_at": _iso(expected.next_at)} if expected is not None else None)
    after = {"cadence": cadence, "next_at": _iso(next_at)}
    if started is not None:
        after["started_campaign_id"] = started.campaign_id
    tx.audit(AuditDraft("review.scheduled", subject=b, before=before, after=after, reason=reason))
    tx.commit()


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
