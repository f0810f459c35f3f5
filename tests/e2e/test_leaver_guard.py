"""The blast-radius guard on leavers (issue 11, acceptance 4), end to end on the local stack: HR leaver
events through the bus and the intake, the real offboarding state machine, the Admins' e-mail
through the template's notify function, decisions through the HTTP API."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from tests.e2e.people import wait_sent
from tests.world import World, eventually, invitation_link_token, make_world

pytestmark = pytest.mark.slow


def seed_members(world: World, count: int) -> list[dict[str, str]]:
    """``count`` ACTIVE members holding Editor on acct-1, written through the store (setup only)."""
    from accessflow.domain.model import Grant, MemberStatus
    from accessflow.domain.roles import Role
    from accessflow.store import repository as store
    from accessflow.store.models import GrantItem, LookupItem, MemberItem

    b, now = world.business_id, utcnow()
    people = [{"member_id": uuid.uuid4().hex, "email": f"staff-{i:02d}-{uuid.uuid4().hex[:4]}@example.com"}
              for i in range(count)]
    with MemberItem.batch_write() as batch:
        for p in people:
            batch.save(MemberItem(pk=store.biz_pk(b), sk=f"MEMBER#{p['member_id']}", business_id=b,
                                  member_id=p["member_id"], email=p["email"], display_name=p["email"].split("@")[0],
                                  status=MemberStatus.ACTIVE.value, created_at=now, updated_at=now))
    with LookupItem.batch_write() as batch:
        for p in people:
            batch.save(LookupItem(pk=store.biz_pk(b), sk=store.email_sk(p["email"]), member_id=p["member_id"]))
    with GrantItem.batch_write() as batch:
        for p in people:
            batch.save(store._grant_item(b, p["member_id"], Grant(account_id="acct-1", role=Role.EDITOR), now,
                                         invited_by="seed", confirmed_by="seed", invitation_id=None))
    return people


def leaver(world: World, member_id: str, **extra: Any) -> None:
    world.stack.put_event("member.offboarding.requested", {
        "business_id": world.business_id, "member_id": member_id, "reason": "restructuring",
        "requested_by": "workday", "idempotency_key": uuid.uuid4().hex, **extra}, source="hr.workday")
    world.stack.wait_idle()


def status_of(world: World, member_id: str) -> str | None:
    from accessflow.store import offboarding as off_store

    item = off_store.get_offboarding(world.business_id, member_id)
    return item.status if item else None


def member(world: World, api: Any, member_id: str) -> dict[str, Any]:
    r = api.get(f"/businesses/{world.business_id}/members", token=world.admin.token)
    assert r.status_code == 200, r.text
    return next(m for m in r.json()["members"] if m["member_id"] == member_id)


def settled(world: World, member_ids: list[str]) -> None:
    """Every given offboarding finished (COMPLETED): the executions run asynchronously."""
    eventually(lambda: all(status_of(world, m) == "COMPLETED" for m in member_ids), timeout=90,
               what="the released offboardings complete")


def held_mails(world: World) -> list[Any]:
    return [m for m in world.stack.outbox if world.admin.email in m.to and "held for review" in m.subject]


def held_events(world: World) -> list[dict[str, Any]]:
    return [e for e in world.stack.events if e["detail-type"] == "offboarding.held"
            and e["detail"].get("business_id") == world.business_id]


def test_a_burst_of_leavers_is_held_for_an_admin(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=2)
    people = seed_members(world, 39)  # 40 members with the first Admin: 20% is 8, so the limit is 10
    b = world.business_id
    burst = people[:15]

    # 15 HR leaver events at once (within the window): exactly 10 proceed, whatever the interleaving
    threads = [threading.Thread(target=leaver, args=(world, p["member_id"])) for p in burst]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = {p["member_id"]: status_of(world, p["member_id"]) for p in burst}
    held = [m for m, s in statuses.items() if s == "HELD"]
    proceeding = [m for m, s in statuses.items() if s != "HELD"]
    assert len(held) == 5 and len(proceeding) == 10, statuses
    settled(world, proceeding)

    r = api.get(f"/businesses/{b}/offboardings", token=world.admin.token, params={"status": "HELD"})
    assert r.status_code == 200, r.text
    listed = r.json()["offboardings"]
    assert sorted(o["member_id"] for o in listed) == sorted(held)
    assert {o["reason"] for o in listed} == {"restructuring"} and {o["source"] for o in listed} == {"hr"}

    # held: grants untouched, member still ACTIVE
    for m in held:
        view = member(world, api, m)
        assert view["status"] == "ACTIVE" and [g["role"] for g in view["grants"]] == ["Editor"]

    # the Admins are told once for the burst: one event, one e-mail
    eventually(lambda: len(held_mails(world)) == 1, what="the Admins' e-mail")
    assert len(held_events(world)) == 1
    assert f"/console#/{b}/held" in held_mails(world)[0]["text"]

    # a held member's pending invitation is frozen: it cannot be accepted while held
    frozen = held[0]
    email = next(p["email"] for p in people if p["member_id"] == frozen)
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": email, "display_name": "Staff", "grants": [{"account_id": "acct-2", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    wait_sent(world, api, r.json()["invitation_id"])
    link = invitation_link_token(stack, email)
    person = world.person(email)
    r = api.post("/invitations/accept", token=person.token, json={"token": link})
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/offboarding-held")

    # cancel one (with a reason): it keeps its grants, the member stays ACTIVE, audited
    r = api.post(f"/businesses/{b}/members/{frozen}/offboarding/cancel", token=world.admin.token, json={})
    assert r.status_code == 422 or r.status_code == 400, r.text  # a reason is required
    r = api.post(f"/businesses/{b}/members/{frozen}/offboarding/cancel", token=world.admin.token,
                 json={"reason": "HR feed error: still employed"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CANCELLED" and r.json()["decision_reason"] == "HR feed error: still employed"
    view = member(world, api, frozen)
    assert view["status"] == "ACTIVE" and [g["role"] for g in view["grants"]] == ["Editor"]
    r = api.get(f"/businesses/{b}/audit", token=world.admin.token, params={"member_id": frozen, "limit": 50})
    actions = [e["action"] for e in r.json()["entries"]]
    assert "offboarding.held" in actions and "offboarding.cancelled" in actions
    assert "grant.revoked" not in actions
    # ...and its invitation thaws: the person can accept it now
    r = api.post("/invitations/accept", token=person.token, json={"token": link})
    assert r.status_code == 200, r.text

    # release one alone: it proceeds
    single = held[1]
    r = api.post(f"/businesses/{b}/members/{single}/offboarding/release", token=world.admin.token, json={})
    assert r.status_code == 202, r.text
    settled(world, [single])
    assert member(world, api, single)["status"] == "REMOVED"
    r = api.post(f"/businesses/{b}/members/{single}/offboarding/release", token=world.admin.token, json={})
    assert r.status_code == 409 and r.json()["type"].endswith("/offboarding-not-held"), r.text

    # an immediate (for-cause) leaver bypasses the guard though the window is full
    urgent = people[20]["member_id"]
    leaver(world, urgent, immediate=True)
    assert status_of(world, urgent) != "HELD"
    settled(world, [urgent])

    # another ordinary leaver in the same window is held, without another e-mail or event
    late = people[21]["member_id"]
    leaver(world, late)
    assert status_of(world, late) == "HELD"
    assert len(held_events(world)) == 1 and len(held_mails(world)) == 1

    # release all: every remaining held offboarding proceeds
    remaining = [*held[2:], late]
    r = api.post(f"/businesses/{b}/offboardings/release", token=world.admin.token, json={"reason": "confirmed"})
    assert r.status_code == 200, r.text
    assert sorted(o["member_id"] for o in r.json()["released"]) == sorted(remaining)
    settled(world, remaining)
    assert all(member(world, api, m)["status"] == "REMOVED" for m in remaining)
    r = api.get(f"/businesses/{b}/offboardings", token=world.admin.token)
    assert r.json()["offboardings"] == []

    # an Admin's own offboarding is never held, even in a full window
    admin_target = people[22]["member_id"]
    r = api.post(f"/businesses/{b}/members/{admin_target}/offboard", token=world.admin.token,
                 json={"reason": "left"})
    assert r.status_code == 202 and r.json()["status"] == "IN_PROGRESS", r.text
    settled(world, [admin_target])


def test_scim_deactivations_are_guarded_too(stack: Any, api: Any) -> None:
    """An IdP deprovisioning many people at once is the blast radius the guard exists for."""
    from tests.e2e.scim_client import Scim, new_token, user_body

    world = make_world(stack, accounts=2)
    b = world.business_id
    r = api.patch(f"/businesses/{b}/policy", token=world.admin.token,
                  json={"leaver_guard_count": 1, "leaver_guard_percent": 0})
    assert r.status_code == 200, r.text
    people = seed_members(world, 2)
    idp = Scim(api, b, new_token(world, api, "okta")["token"])
    users = []
    for p in people:
        r = idp.post("/Users", user_body(p["email"]))
        assert r.status_code == 201, r.text
        users.append(r.json()["id"])
    for user_id in users:
        r = idp.patch(f"/Users/{user_id}", [{"op": "replace", "value": {"active": False}}])
        assert r.status_code == 200, r.text
    first, second = (p["member_id"] for p in people)
    assert status_of(world, first) in ("IN_PROGRESS", "COMPLETED") and status_of(world, second) == "HELD"
    [event] = held_events(world)
    assert event["detail"]["source"] == "scim" and event["detail"]["first_member_id"] == second
    settled(world, [first])
    assert member(world, api, second)["status"] == "ACTIVE"

    # an Admin's own offboarding of the held member releases it (an Admin's decision is never held)
    r = api.post(f"/businesses/{b}/members/{second}/offboard", token=world.admin.token, json={"reason": "confirmed"})
    assert r.status_code == 202 and r.json()["status"] == "IN_PROGRESS", r.text
    settled(world, [second])
    r = api.get(f"/businesses/{b}/audit", token=world.admin.token, params={"member_id": second, "limit": 50})
    assert "offboarding.released" in [e["action"] for e in r.json()["entries"]]
