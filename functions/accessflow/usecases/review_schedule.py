"""Recurring access reviews: each business's schedule, and the daily run that starts the due ones.

"Default quarterly" (docs/decisions.md, 2026-12-01): every business is on the schedule with the
policy's cadence (quarterly unless an Admin changed it), and its first scheduled review is due one
period after it was enrolled — never at once: enrolling (creating the business, re-running
``accessflow bootstrap`` for one that predates the schedule, or any change of its policy)
does not start a campaign by itself. Each scheduled start is anchored on the previous due time, so
the cadence does not drift by the daily run's hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accessflow.domain.errors import Conflict
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.review_schedule import next_review_at
from accessflow.observability import logger
from accessflow.store import repository as store
from accessflow.store import review_schedule as schedules
from accessflow.store.models import ReviewScheduleItem

StartCampaign = Callable[..., Any]


def enrol(business_id: str, policy: BusinessPolicy, *, ctx: store.Context, now: datetime) -> bool:
    """Put a business on the schedule if it is not on it yet (first review one period from now).
    True when this call enrolled it."""
    if schedules.get_schedule(business_id) is not None:
        return False
    try:
        schedules.set_schedule(business_id, cadence=policy.review_cadence,
                               next_at=next_review_at(policy.review_cadence, now), expected=None, ctx=ctx, now=now,
                               reason="enrolled")
    except schedules.ConditionFailed:
        return False  # enrolled concurrently
    return True


def follow_policy(business_id: str, policy: BusinessPolicy, *, ctx: store.Context, now: datetime) -> None:
    """After a policy change: a new cadence takes effect from the last scheduled start (or from now
    if none): monthly after a quarterly review of two months ago is due at the next daily run."""
    current = schedules.get_schedule(business_id)
    if current is not None and current.cadence == policy.review_cadence:
        return
    anchor = (current.last_started_at if current is not None else None) or now
    next_at = next_review_at(policy.review_cadence, anchor)
    schedules.set_schedule(business_id, cadence=policy.review_cadence, next_at=next_at, expected=current,
                           ctx=ctx, now=now, reason="cadence changed")


def view(business_id: str) -> dict[str, Any]:
    """The schedule as admins read it (``enrolled`` false: a business that predates the schedule)."""
    item = schedules.get_schedule(business_id)
    iso = store._iso
    if item is None:
        return {"enrolled": False, "cadence": None, "next_at": None, "last_started_at": None,
                "last_campaign_id": None}
    return {"enrolled": True, "cadence": item.cadence, "next_at": iso(item.next_at),
            "last_started_at": iso(item.last_started_at), "last_campaign_id": item.last_campaign_id}


@dataclass
class RunReport:
    due: int = 0
    started: list[str] = field(default_factory=list)  # business ids
    skipped: list[str] = field(default_factory=list)  # a campaign was already open, or the cadence is off
    failed: list[str] = field(default_factory=list)  # the start failed: left due, the next run tries again
    lost_race: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"due": self.due, "started": self.started, "skipped": self.skipped, "failed": self.failed,
                "lost_race": self.lost_race}


def run_due(now: datetime, *, start: StartCampaign, ctx: store.Context, max_items: int = 500) -> RunReport:
    """Start the campaign of every business whose review is due, and move its next due time.

    Idempotent: the schedule moves in a transaction conditional on the version read, after the
    start. Two runs at once: the campaign use case lets one campaign be OPEN per business (409
    ``review-in-progress`` for the other), and one run moves the schedule. A run that died between
    the start and the move: the next run's start gets the 409 and it moves the schedule then. At most
    ``max_items`` businesses a run, oldest due first; the others the next day."""
    report = RunReport()
    for entry in schedules.due(now, max_items):
        report.due += 1
        b = entry.business_id
        current = schedules.get_schedule(b)
        if current is None or current.next_at is None or schedules.due_sk(current.next_at, b) != entry.sk:
            logger.warning("stale review due entry", extra={"business_id": b})
            continue
        business = store.get_business(b)
        policy = store.policy_of(business) if business is not None else None
        if policy is None or policy.review_cadence == "off":
            _move(report, current, "off", None, ctx, now, None, "cadence off")
            report.skipped.append(b)
            continue
        campaign_id: str | None = None
        try:
            campaign = start(b, started_by="schedule", name=f"Scheduled {policy.review_cadence} access review",
                             duration_days=policy.review_duration_days)
            campaign_id = str(_field(campaign, "campaign_id")) if campaign is not None else None
            report.started.append(b)
        except Conflict as exc:  # review-in-progress: one is open (a manual start, or a run before ours)
            logger.info("scheduled review skipped", extra={"business_id": b, "problem": exc.slug})
            report.skipped.append(b)
        except Exception:  # one business's failure never stops the others'; it stays due for the next run
            logger.exception("scheduled review failed to start", extra={"business_id": b})
            report.failed.append(b)
            continue
        next_at = next_review_at(policy.review_cadence, current.next_at)
        while next_at is not None and next_at <= now:  # after a long outage: no burst of missed periods
            next_at = next_review_at(policy.review_cadence, next_at)
        _move(report, current, policy.review_cadence, next_at, ctx, now,
              schedules.Started(now, campaign_id) if campaign_id else None, "scheduled review")
    return report


def _field(campaign: Any, name: str) -> Any:
    return campaign.get(name) if isinstance(campaign, dict) else getattr(campaign, name, None)


def _move(report: RunReport, current: ReviewScheduleItem, cadence: str, next_at: datetime | None,
          ctx: store.Context, now: datetime, started: schedules.Started | None, reason: str) -> None:
    try:
        schedules.set_schedule(current.business_id, cadence=cadence, next_at=next_at, expected=current, ctx=ctx,
                               now=now, started=started, reason=reason)
    except schedules.ConditionFailed:
        report.lost_race += 1  # another run moved it
