"""The recurring review schedule on the stack's table, with a stand-in for the campaign use case
(the e2e test drives the real one): enrolment, due entries found by key, idempotent runs, cadence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import Conflict
from accessflow.domain.review_schedule import add_months
from accessflow.store import repository as store
from accessflow.store import review_schedule as schedules
from accessflow.usecases import review_schedule
from accessflow.usecases.invitations import change_policy
from tests.world import World, make_world

CTX = store.Context(actor="system:review-schedule")


class Campaigns:
    """Starts "campaigns" with the real use case's one-OPEN rule (409 for a second one)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.open: set[str] = set()

    def __call__(self, business_id: str, **kwargs: Any) -> dict[str, Any]:
        if business_id in self.open:
            raise Conflict("Another access review of this business is open.")
        self.open.add(business_id)
        self.started.append((business_id, kwargs))
        return {"campaign_id": f"c-{len(self.started)}"}

    def of(self, business_id: str) -> list[dict[str, Any]]:
        return [kw for b, kw in self.started if b == business_id]


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    for schedule in stack.schedules.values():  # these tests run the schedule themselves
        schedule.enabled = False
    return make_world(stack, accounts=1)


def test_a_new_business_is_due_one_quarter_after_creation(world: World) -> None:
    item = schedules.get_schedule(world.business_id)
    assert item is not None and item.cadence == "quarterly"
    assert item.next_at is not None
    assert abs(item.next_at - add_months(item.updated_at, 3)) < timedelta(seconds=1)
    assert world.business_id not in {e.business_id for e in schedules.due(utcnow(), 1000)}


def test_due_business_starts_once_even_if_the_run_fires_twice(world: World) -> None:
    item = schedules.get_schedule(world.business_id)
    assert item is not None and item.next_at is not None
    when = item.next_at + timedelta(minutes=5)
    campaigns = Campaigns()
    first = review_schedule.run_due(when, start=campaigns, ctx=CTX)
    second = review_schedule.run_due(when + timedelta(minutes=1), start=campaigns, ctx=CTX)
    assert world.business_id in first.started and world.business_id not in second.started
    assert campaigns.of(world.business_id) == [{"started_by": "schedule", "name": "Scheduled quarterly access review",
                                                "duration_days": 14}]
    moved = schedules.get_schedule(world.business_id)
    assert moved is not None and moved.next_at == add_months(item.next_at, 3)  # anchored on the due time
    assert moved.last_campaign_id == "c-1"
    # the next quarter: the campaign is still open (a manual one, say) → skipped, moved on, not started
    nxt = moved.next_at + timedelta(hours=1)
    third = review_schedule.run_due(nxt, start=campaigns, ctx=CTX)
    assert world.business_id in third.skipped and len(campaigns.of(world.business_id)) == 1
    after = schedules.get_schedule(world.business_id)
    assert after is not None and after.next_at == add_months(moved.next_at, 3)
    entries = [e for e in schedules.due(after.next_at + timedelta(days=1), 1000) if e.business_id == world.business_id]
    assert len(entries) == 1  # the old due entries are gone, only the next one is left


def test_a_run_that_died_after_the_start_is_finished_by_the_next(world: World) -> None:
    item = schedules.get_schedule(world.business_id)
    assert item is not None and item.next_at is not None
    campaigns = Campaigns()
    campaigns.open.add(world.business_id)  # the dead run's campaign
    report = review_schedule.run_due(item.next_at, start=campaigns, ctx=CTX)
    assert world.business_id in report.skipped and campaigns.started == []
    moved = schedules.get_schedule(world.business_id)
    assert moved is not None and moved.next_at is not None and moved.next_at > item.next_at


def test_one_business_failing_to_start_neither_stops_the_others_nor_loses_its_turn(stack: Any) -> None:
    broken, fine = make_world(stack, accounts=1), make_world(stack, accounts=1)
    due_at = max(i.next_at for w in (broken, fine) if (i := schedules.get_schedule(w.business_id)) and i.next_at)
    campaigns = Campaigns()

    def start(business_id: str, **kwargs: Any) -> dict[str, Any]:
        if business_id == broken.business_id:
            raise RuntimeError("state machine unavailable")
        return campaigns(business_id, **kwargs)

    report = review_schedule.run_due(due_at, start=start, ctx=CTX)
    assert broken.business_id in report.failed and fine.business_id in report.started
    retry = review_schedule.run_due(due_at + timedelta(days=1), start=campaigns, ctx=CTX)
    assert broken.business_id in retry.started and fine.business_id not in retry.started


def test_cadence_change_reanchors_and_off_stops(stack: Any) -> None:
    w = make_world(stack, accounts=1)
    ctx = store.Context(actor="operator")
    policy = change_policy(w.business_id, {"review_cadence": "monthly"}, ctx=ctx, now=utcnow())
    review_schedule.follow_policy(w.business_id, policy, ctx=ctx, now=utcnow())
    item = schedules.get_schedule(w.business_id)
    assert item is not None and item.cadence == "monthly" and item.next_at is not None
    assert item.next_at - utcnow() < timedelta(days=32)
    policy = change_policy(w.business_id, {"review_cadence": "off"}, ctx=ctx, now=utcnow())
    review_schedule.follow_policy(w.business_id, policy, ctx=ctx, now=utcnow())
    off = schedules.get_schedule(w.business_id)
    assert off is not None and off.next_at is None
    campaigns = Campaigns()
    review_schedule.run_due(utcnow() + timedelta(days=800), start=campaigns, ctx=CTX)
    assert campaigns.of(w.business_id) == []
    scheduled = [e.after for e in store.audit_trail(w.business_id, action="review.scheduled")[0]]
    assert [a["cadence"] for a in scheduled] == ["quarterly", "monthly", "off"]  # enrolment, then each change


def test_rerunning_bootstrap_enrols_a_business_that_predates_the_schedule(stack: Any) -> None:
    from accessflow.store.models import ReviewDueItem, ReviewScheduleItem
    from accessflow.usecases.business import bootstrap

    w = make_world(stack, accounts=1)
    item = schedules.get_schedule(w.business_id)
    assert item is not None and item.next_at is not None
    ReviewDueItem(pk=schedules.DUE_PK, sk=schedules.due_sk(item.next_at, w.business_id)).delete()
    ReviewScheduleItem(pk=f"BIZ#{w.business_id}", sk=schedules.SCHEDULE_SK).delete()  # as before this feature
    business = store.get_business(w.business_id)
    assert business is not None
    report = bootstrap(w.business_id, business.name, [("acct-1", "Account acct-1", "tiktok")], w.admin.email,
                       "First Admin", now=utcnow())
    assert report.changes == [f"scheduled recurring access reviews of {w.business_id}"]
    assert schedules.get_schedule(w.business_id) is not None
    again = bootstrap(w.business_id, business.name, [("acct-1", "Account acct-1", "tiktok")], w.admin.email,
                      "First Admin", now=utcnow())
    assert again.changes == []
