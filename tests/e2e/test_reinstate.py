"""Reinstating a removed member (issue 11, acceptance 3), end to end: offboarded on day 0, reinstated
on day 30 (the stack's clock advanced) through the normal onboarding — the same person accepts with
the same verified e-mail, the Admin grant is confirmed by another Admin — and refused on day 91, or
when an account of the receipt was retired since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.people import members, onboard, wait_sent
from tests.world import World, eventually, invitation_link_token, make_world

pytestmark = pytest.mark.slow


def offboard(world: World, api: Any, member_id: str) -> dict[str, Any]:
    r = api.post(f"/businesses/{world.business_id}/members/{member_id}/offboard", token=world.admin.token,
                 json={"reason": "contract ended"})
    assert r.status_code == 202, r.text

    def done() -> dict[str, Any] | None:
        r = api.get(f"/businesses/{world.business_id}/members/{member_id}/offboarding", token=world.admin.token)
        return r.json() if r.status_code == 200 and r.json()["status"] == "COMPLETED" else None

    body: dict[str, Any] = eventually(done, timeout=60, what="the offboarding completes")
    return body


def grants_of(world: World, api: Any, member_id: str) -> tuple[str, dict[str, str]]:
    m = next(m for m in members(world, api) if m["member_id"] == member_id)
    return m["status"], {g["account_id"]: g["role"] for g in m["grants"]}


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_reinstated_within_90_days_with_the_same_grants_refused_after(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=3)
    b = world.business_id
    roles = {"acct-1": "Editor", "acct-2": "Admin"}
    back = onboard(world, api, "back@example.com", roles)
    late = onboard(world, api, "late@example.com", {"acct-1": "Analyst"})
    moved = onboard(world, api, "moved@example.com", {"acct-3": "Moderator"})

    # day 0: offboarded; the receipt says until when reinstatement is possible
    offboarding = offboard(world, api, back)
    until = parse(offboarding["receipt"]["reinstatable_until"])
    assert until == parse(offboarding["receipt"]["completed_at"]) + timedelta(days=90)
    assert offboarding["reinstatable_until"] == offboarding["receipt"]["reinstatable_until"]
    assert offboarding["reinstatement"]["available"] is True
    offboard(world, api, late)
    offboard(world, api, moved)
    assert grants_of(world, api, back) == ("REMOVED", {})

    # day 30: reinstated, through the normal onboarding
    stack.advance(timedelta(days=30), coalesce=True)
    mails_before = len([m for m in stack.outbox if "back@example.com" in m.to and "/accept?token=" in (m.text or "")])
    r = api.post(f"/businesses/{b}/members/{back}/reinstate", token=world.admin.token)
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert {g["account_id"]: g["role"] for g in invitation["grants"]} == roles
    assert invitation["member_id"] == back
    again = api.post(f"/businesses/{b}/members/{back}/reinstate", token=world.admin.token)
    assert again.status_code == 201 and again.json()["invitation_id"] == invitation["invitation_id"], again.text
    wait_sent(world, api, invitation["invitation_id"])
    assert grants_of(world, api, back) == ("INVITED", {})  # nothing is given back before acceptance

    person = world.person("back@example.com")
    link = invitation_link_token(stack, "back@example.com", after=mails_before)
    r = api.post("/invitations/accept", token=person.token, json={"token": link})
    assert r.status_code == 200, r.text
    assert r.json()["needs_confirmation"] is True  # an Admin grant: another Admin confirms, as usual
    stack.wait_for_state(invitation["execution_arn"], "AwaitConfirmation")
    r = api.post(f"/businesses/{b}/invitations/{invitation['invitation_id']}/confirm", token=world.admin.token,
                 json={})
    assert r.status_code == 200, r.text
    assert stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    assert grants_of(world, api, back) == ("ACTIVE", roles)

    # the business changed: an account of the receipt was retired since
    r = api.post(f"/businesses/{b}/accounts/acct-3/retire", token=world.admin.token, json={"reason": "closed"})
    assert r.status_code == 200, r.text
    r = api.post(f"/businesses/{b}/members/{moved}/reinstate", token=world.admin.token)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/reinstatement-unavailable")
    assert problem["reason"] == "business-changed" and problem["accounts"] == ["acct-3"]
    assert "normal invitation" in problem["detail"]

    # day 91: too late, a normal invitation is needed
    stack.advance(timedelta(days=61), coalesce=True)
    r = api.post(f"/businesses/{b}/members/{late}/reinstate", token=world.admin.token)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/reinstatement-unavailable") and problem["reason"] == "expired"
    assert "normal invitation" in problem["detail"] and problem["next_step"] == "send a normal invitation"
    assert grants_of(world, api, late) == ("REMOVED", {})
    r = api.get(f"/businesses/{b}/members/{late}/offboarding", token=world.admin.token)
    assert r.json()["reinstatement"]["available"] is False and r.json()["reinstatement"]["reason"] == "expired"
