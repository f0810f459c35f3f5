"""Recurring access reviews and the idle flag, end to end on the stack: the daily schedule starts a
business's campaign once its quarter has passed (exactly one, however often it fires), and a review
item shows a member whose last activity is older than the policy's window as idle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from accessflow.store import review_schedule as schedules
from tests.e2e.people import onboard
from tests.world import World, make_world


def campaigns(world: World, api: Any) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/reviews", token=world.admin.token)
    assert r.status_code == 200, r.text
    return list(r.json()["campaigns"])


def test_the_schedule_starts_exactly_one_campaign_when_the_quarter_is_due(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=2)
    onboard(world, api, "quarterly@example.com", {"acct-1": "Editor"})
    item = schedules.get_schedule(world.business_id)
    assert item is not None and item.cadence == "quarterly" and item.next_at is not None  # the default

    stack.advance(item.next_at - stack.clock.now() - timedelta(days=2), coalesce=True)
    assert campaigns(world, api) == []  # two days before: nothing yet

    fired = stack.advance(timedelta(days=3), coalesce=True)
    assert "ReviewScheduleFunctionDaily" in fired
    stack.wait_idle()
    started = campaigns(world, api)
    assert [(c["started_by"], c["status"]) for c in started] == [("schedule", "OPEN")]
    assert started[0]["deadline"] > started[0]["started_at"]

    stack.run_schedule("ReviewScheduleFunctionDaily")  # fired again (a retry, a second delivery)
    stack.wait_idle()
    assert [c["campaign_id"] for c in campaigns(world, api)] == [started[0]["campaign_id"]]
    r = api.get(f"/businesses/{world.business_id}/review-schedule", token=world.admin.token)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["cadence"] == "quarterly" and shown["last_campaign_id"] == started[0]["campaign_id"]
    assert shown["next_at"] > started[0]["started_at"]
    moved = schedules.get_schedule(world.business_id)
    assert moved is not None and moved.next_at is not None and moved.next_at > stack.clock.now() + timedelta(days=80)


def test_a_member_idle_longer_than_the_window_is_flagged_on_the_review_item(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=2)
    b = world.business_id
    r = api.patch(f"/businesses/{b}/policy", token=world.admin.token, json={"review_idle_after_days": 30})
    assert r.status_code == 200 and r.json()["review_idle_after_days"] == 30, r.text
    quiet = onboard(world, api, "quiet@example.com", {"acct-1": "Editor"})  # accepting: their last activity
    busy = onboard(world, api, "busy@example.com", {"acct-2": "Analyst"})

    stack.advance(timedelta(days=31), coalesce=True)
    r = api.get(f"/businesses/{b}/members", token=world.people["busy@example.com"].token)  # busy calls the API
    assert r.status_code in (200, 403), r.text  # a non-admin is refused, but the call is authenticated: recorded
    r = api.post(f"/businesses/{b}/reviews", token=world.admin.token, json={"name": "Idle check"})
    assert r.status_code == 201, r.text
    campaign = r.json()
    r = api.get(f"/businesses/{b}/reviews/{campaign['campaign_id']}/items", token=world.admin.token)
    assert r.status_code == 200, r.text
    items = {i["member_id"]: i for i in r.json()["items"]}
    assert items[quiet]["idle"] is True and items[quiet]["last_activity_at"] is not None
    assert items[busy]["idle"] is False
    assert items[busy]["last_activity_at"] > items[quiet]["last_activity_at"]
