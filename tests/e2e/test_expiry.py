"""Invitation expiry end to end on the local stack: the scheduled sweep, the reminder, resend, revoke,
re-issue and the business's invitation lifetime, driven through the HTTP API and the stack's clock.

Tests in this module share one stack whose clock only moves forward; each test makes its own
invitations, so the order of the tests does not matter for what they assert.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accessflow.adapters.clock import utcnow
from tests.world import World, eventually, execution_for, invitation_link_token, mails_to, make_world, states_entered

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack)


def set_lifetime(api: Any, world: World, days: int) -> None:
    response = api.patch(f"/businesses/{world.business_id}/policy", token=world.admin.token,
                         json={"invitation_lifetime_days": days})
    assert response.status_code == 200, response.text
    assert response.json()["invitation_lifetime_days"] == days


def invite(stack: Any, api: Any, world: World, email: str) -> tuple[str, str]:
    before = len([m for m in stack.outbox if email in m.to and "/accept?token=" in (m.text or "")])
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": email, "display_name": email.split("@")[0],
                             "grants": [{"account_id": "acct-1", "role": "Editor"}]})
    assert created.status_code == 201, created.text
    invitation_id = created.json()["invitation_id"]
    token = invitation_link_token(stack, email, after=before)
    # the execution now waits on its task token (registered with the e-mail's send)
    stack.wait_for_state(execution_for(stack, invitation_id), "SendInvitation")
    return invitation_id, token


def invitation(api: Any, world: World, invitation_id: str) -> dict[str, Any]:
    response = api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}", token=world.admin.token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def accept(api: Any, world: World, email: str, token: str) -> Any:
    return api.post("/invitations/accept", json={"token": token}, token=world.person(email).token)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return dict(response.json())


def sweeps(fired: list[str]) -> int:
    """How many of the schedules fired by ``stack.advance`` were the sweep's."""
    return sum(1 for logical_id in fired if logical_id.startswith("SweepFunction"))


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_policy_lifetime_is_validated_and_admin_only(api: Any, world: World) -> None:
    path = f"/businesses/{world.business_id}/policy"
    for bad in (0, 31, "seven"):
        body = problem(api.patch(path, token=world.admin.token, json={"invitation_lifetime_days": bad}), 400)
        assert "invitation_lifetime_days" in body["detail"]
    assert api.get(path, token=world.admin.token).json()["invitation_lifetime_days"] == 7
    stranger = world.person("stranger@example.com")
    problem(api.patch(path, token=stranger.token, json={"invitation_lifetime_days": 3}), 404)


def test_sweep_expires_a_due_invitation(stack: Any, api: Any, world: World) -> None:
    """Acceptance 1: made due by the business's 1-day lifetime and the stack's clock, expired by one
    sweep run; the execution ends on its Expired branch; the inviter is told how to re-issue; the old
    link then gives 410."""
    set_lifetime(api, world, 1)
    invitation_id, token = invite(stack, api, world, "carol@example.com")
    execution = execution_for(stack, invitation_id)

    fired = stack.advance(timedelta(days=1, minutes=15), coalesce=True)  # the 15-minute schedule fires once
    assert sweeps(fired) == 1

    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    entered = states_entered(stack, execution)
    assert "NotifyExpired" in entered and entered[-1] == "Expired" and "ExpireOnTimeout" not in entered
    assert invitation(api, world, invitation_id)["status"] == "EXPIRED"

    notices = eventually(lambda: [m for m in mails_to(stack, world.admin.email) if "expired" in m.subject],
                         what="the inviter's expiry e-mail")
    assert len(notices) == 1 and f"reissue {world.business_id} {invitation_id}" in notices[0].text
    assert [e["detail"]["invitation_id"] for e in stack.events
            if e["detail-type"] == "invitation.expired"].count(invitation_id) == 1

    body = problem(accept(api, world, "carol@example.com", token), 410)
    assert "expired" in body["detail"]

    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"action": "invitation.expired", "limit": 500}).json()["entries"]
    assert [(e["subject"], e["actor"]) for e in trail if e["subject"] == invitation_id] == [
        (invitation_id, "system:sweep")]

    # A second run (or a run overlapping the first) finds nothing to do and notifies nobody again.
    assert stack.invoke("SweepFunction", {})["expired"] == 0
    assert len([m for m in mails_to(stack, world.admin.email) if "expired" in m.subject]) == 1

    # Re-issue: one call, a new invitation with the same grants; its link works.
    before = len(mails_to(stack, "carol@example.com"))
    reissued = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/reissue",
                        token=world.admin.token)
    assert reissued.status_code == 201, reissued.text
    assert reissued.json()["grants"] == [{"account_id": "acct-1", "role": "Editor"}]
    again = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/reissue", token=world.admin.token)
    assert again.json()["invitation_id"] == reissued.json()["invitation_id"]  # same call, same effect
    new_token = invitation_link_token(stack, "carol@example.com", after=before)
    stack.wait_for_state(execution_for(stack, reissued.json()["invitation_id"]), "SendInvitation")
    assert accept(api, world, "carol@example.com", new_token).status_code == 200
    problem(api.post(f"/businesses/{world.business_id}/invitations/{reissued.json()['invitation_id']}/reissue",
                     token=world.admin.token), 409)
    set_lifetime(api, world, 7)


def test_resend_rotates_the_link_and_is_rate_limited(stack: Any, api: Any, world: World) -> None:
    """Acceptance 3 (resend): old link dead, new link works; within a minute and the sixth send → 429."""
    invitation_id, first = invite(stack, api, world, "dave@example.com")
    path = f"/businesses/{world.business_id}/invitations/{invitation_id}/resend"

    too_soon = api.post(path, token=world.admin.token)
    problem(too_soon, 429)
    assert 1 <= int(too_soon.headers["Retry-After"]) <= 60

    tokens = [first]
    for send in range(2, 6):
        stack.advance(timedelta(seconds=61))
        before = len(mails_to(stack, "dave@example.com"))
        resent = api.post(path, token=world.admin.token)
        assert resent.status_code == 200, resent.text
        assert resent.json()["send_count"] == send
        assert parse(resent.json()["expires_at"]) - utcnow() > timedelta(days=7) - timedelta(minutes=1)
        tokens.append(invitation_link_token(stack, "dave@example.com", after=before))
    assert len(set(tokens)) == 5

    stack.advance(timedelta(seconds=61))
    sixth = api.post(path, token=world.admin.token)
    assert problem(sixth, 429)["detail"].startswith("This invitation was already sent 5 times")
    assert int(sixth.headers["Retry-After"]) > 0

    for old in tokens[:-1]:
        assert accept(api, world, "dave@example.com", old).status_code in (404, 410)
    assert accept(api, world, "dave@example.com", tokens[-1]).status_code == 200
    execution = execution_for(stack, invitation_id)
    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    assert states_entered(stack, execution)[-1] == "Activated"


def test_revoke_kills_the_link_and_ends_the_execution(stack: Any, api: Any, world: World) -> None:
    """Acceptance 3 (revoke)."""
    invitation_id, token = invite(stack, api, world, "erin@example.com")
    path = f"/businesses/{world.business_id}/invitations/{invitation_id}/revoke"
    revoked = api.post(path, token=world.admin.token, json={"reason": "wrong address"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "REVOKED"

    execution = execution_for(stack, invitation_id)
    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    assert states_entered(stack, execution)[-1] == "Revoked"
    assert any(e["detail-type"] == "invitation.revoked" and e["detail"]["invitation_id"] == invitation_id
               for e in stack.events)

    assert problem(accept(api, world, "erin@example.com", token), 410)["reason"] == "revoked"
    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"action": "invitation.revoked", "limit": 500}).json()["entries"]
    assert [e["reason"] for e in trail if e["subject"] == invitation_id] == ["wrong address"]
    assert problem(api.post(path, token=world.admin.token), 409)["current_status"] == "REVOKED"
    problem(api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/resend",
                     token=world.admin.token), 409)


def test_reminder_is_sent_once_however_many_sweeps_run(stack: Any, api: Any, world: World) -> None:
    """Acceptance 5: every scheduled run over two days, plus eight runs at once, send one reminder."""
    set_lifetime(api, world, 2)
    invitation_id, token = invite(stack, api, world, "fred@example.com")
    reminders = lambda: [m for m in mails_to(stack, "fred@example.com") if m.subject.startswith("Reminder")]  # noqa: E731

    fired = stack.advance(timedelta(hours=23))  # not yet within the last 24 hours
    assert sweeps(fired) >= 90 and reminders() == []

    # Now due: eight runs at once (the schedule held back so that they are the ones to find it).
    schedule = next(s for s in stack.schedules.values() if s.logical_id.startswith("SweepFunction"))
    schedule.enabled = False
    stack.advance(timedelta(hours=1, minutes=15))
    with ThreadPoolExecutor(8) as pool:
        reports = list(pool.map(lambda _: stack.invoke("SweepFunction", {}), range(8)))
    schedule.enabled = True
    assert sum(r["reminded"] for r in reports) == 1

    fired = stack.advance(timedelta(hours=20))  # then every scheduled run until just before expiry
    assert sweeps(fired) >= 80

    assert len(reminders()) == 1
    assert "expires at" in reminders()[0].text and "/accept?token=" not in reminders()[0].text
    assert invitation(api, world, invitation_id)["status"] == "PENDING"
    assert accept(api, world, "fred@example.com", token).status_code == 200  # the original link still works
    set_lifetime(api, world, 7)


def test_sweep_expires_an_invitation_to_an_active_member_who_stays_active(
    stack: Any, api: Any, world: World,
) -> None:
    """An ACTIVE member invited to one more account lets it expire: the sweep (which reads only its
    index entry, then writes conditionally) expires the invitation and leaves the member ACTIVE with
    the grant they held; an INVITED member of the same sweep becomes NEVER_JOINED."""
    from tests.e2e.people import members, onboard, wait_sent

    member_id = onboard(world, api, "dora@example.com", {"acct-1": "Analyst"})
    set_lifetime(api, world, 1)
    more = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                    json={"email": "dora@example.com", "display_name": "Dora",
                          "grants": [{"account_id": "acct-2", "role": "Analyst"}]})
    assert more.status_code == 201, more.text
    assert more.json()["member_id"] == member_id
    newcomer, _ = invite(stack, api, world, "ed@example.com")
    wait_sent(world, api, more.json()["invitation_id"])
    stack.wait_for_state(execution_for(stack, more.json()["invitation_id"]), "SendInvitation")

    fired = stack.advance(timedelta(days=1, minutes=15), coalesce=True)
    assert sweeps(fired) == 1
    for invitation_id in (more.json()["invitation_id"], newcomer):
        assert stack.wait_execution(execution_for(stack, invitation_id))["status"] == "SUCCEEDED"
        assert invitation(api, world, invitation_id)["status"] == "EXPIRED"
    by_email = {m["email"]: m for m in members(world, api)}
    assert by_email["dora@example.com"]["status"] == "ACTIVE"
    assert [(g["account_id"], g["role"]) for g in by_email["dora@example.com"]["grants"]] == [("acct-1", "Analyst")]
    assert by_email["ed@example.com"]["status"] == "NEVER_JOINED"
    set_lifetime(api, world, 7)
