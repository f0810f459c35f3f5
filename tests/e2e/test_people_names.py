"""People by name and e-mail, not by internal ids: the audit trail's actors as they were at the time
(HTTP requests, the workflows acting for someone, HR and the sweep), who invited and confirmed in the
member list and the access review (JSON and CSV), and the resend limits on an invitation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.people import audit, members, onboard, set_role, wait_sent
from tests.world import World, eventually, invitation_link_token, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


def _entries(world: World, api: Any, action: str, member_id: str | None = None) -> list[dict[str, Any]]:
    return [e for e in audit(world, api)
            if e["action"] == action and (member_id is None or e["member_id"] == member_id)]


def test_audit_names_every_kind_of_actor(world: World, api: Any) -> None:
    b = world.business_id
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": "xavier@example.com", "display_name": "Xavier X",
        "grants": [{"account_id": "acct-1", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    inv = r.json()
    wait_sent(world, api, inv["invitation_id"])
    xavier = world.stack.mint_token("xavier@example.com", name="Xavier from the IdP")
    link = invitation_link_token(world.stack, "xavier@example.com")
    r = api.post("/invitations/accept", token=xavier, json={"token": link})
    assert r.status_code == 200, r.text
    world.stack.wait_execution(inv["execution_arn"])
    m = inv["member_id"]

    def who(action: str) -> tuple[str, str | None, str | None]:
        entry = _entries(world, api, action, m)[-1]
        return entry["actor"], entry["actor_email"], entry["actor_name"]

    assert who("invitation.created")[1:] == (world.admin.email, "First Admin")
    assert who("invitation.created")[0].startswith("member:")
    assert who("invitation.sent") == ("system:onboarding", None, "system:onboarding")
    assert who("invitation.accepted")[1:] == ("xavier@example.com", "Xavier from the IdP")
    assert who("invitation.confirmed") == ("system:auto-confirm", None, "system:auto-confirm")

    set_role(world, api, m, "acct-1", "Editor")
    assert who("grant.changed")[1:] == (world.admin.email, "First Admin")

    # the offboarding workflow's own entries (stamped with its execution) name the admin who asked
    r = api.post(f"/businesses/{b}/members/{m}/offboard", token=world.admin.token, json={"reason": "left"})
    assert r.status_code == 202, r.text
    eventually(lambda: api.get(f"/businesses/{b}/members/{m}/offboarding", token=world.admin.token)
               .json()["status"] != "IN_PROGRESS", timeout=30, what="the offboarding")
    by_workflow = [e for e in audit(world, api) if e["member_id"] == m and e["execution_arn"]
                   and e["action"].startswith(("offboarding.", "grant.", "member."))]
    assert by_workflow and {(e["actor_email"], e["actor_name"]) for e in by_workflow} == {
        (world.admin.email, "First Admin")}

    # HR: the joiner's records name the HR source
    world.hr_joiner("hr-joiner@example.com", [{"account_id": "acct-2", "role": "Editor"}])
    created = eventually(lambda: [e for e in _entries(world, api, "invitation.created")
                                  if e["after"]["email"] == "hr-joiner@example.com"], what="the HR invitation")
    assert (created[0]["actor"], created[0]["actor_email"], created[0]["actor_name"]) == (
        "hr:workday", None, "hr:workday")


def test_members_and_review_name_who_invited_and_confirmed(world: World, api: Any) -> None:
    b = world.business_id
    second = onboard(world, api, "second@example.com", {"acct-1": "Admin", "acct-2": "Admin"})
    del second
    r = api.post(f"/businesses/{b}/invitations", token=world.people["second@example.com"].token, json={
        "email": "yara@example.com", "display_name": "Yara Y",
        "grants": [{"account_id": "acct-1", "role": "Admin"}]})
    assert r.status_code == 201, r.text
    inv = r.json()
    wait_sent(world, api, inv["invitation_id"], by=world.people["second@example.com"])
    yara = world.person("yara@example.com")
    assert api.post("/invitations/accept", token=yara.token,
                    json={"token": invitation_link_token(world.stack, yara.email)}).status_code == 200
    world.stack.wait_for_state(inv["execution_arn"], "AwaitConfirmation")
    assert api.post(f"/businesses/{b}/invitations/{inv['invitation_id']}/confirm", token=world.admin.token,
                    json={}).status_code == 200
    world.stack.wait_execution(inv["execution_arn"])

    entry = next(x for x in members(world, api) if x["email"] == "yara@example.com")
    assert entry["status"] == "ACTIVE"
    assert (entry["invited_by_email"], entry["invited_by_name"]) == ("second@example.com", "second")
    grant = entry["grants"][0]
    assert (grant["invited_by_email"], grant["invited_by_name"]) == ("second@example.com", "second")
    assert (grant["confirmed_by_email"], grant["confirmed_by_name"]) == (world.admin.email, "First Admin")
    first = next(x for x in members(world, api) if x["email"] == world.admin.email)
    assert first["grants"][0]["confirmed_by_name"] == "operator"  # bootstrapped

    review = api.get(f"/businesses/{b}/access-review", token=world.admin.token).json()
    row = next(x for x in review["rows"] if x["email"] == "yara@example.com")
    assert (row["invited_by"], row["invited_by_name"], row["invited_by_email"]) == (
        "second@example.com", "second", "second@example.com")
    assert (row["confirmed_by_name"], row["confirmed_by_email"]) == ("First Admin", world.admin.email)
    assert (row["last_change_by_name"], row["last_change_by_email"]) == ("First Admin", world.admin.email)
    text = api.get(f"/businesses/{b}/access-review", token=world.admin.token, params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {k: v for k, v in row.items() if k not in ("member_id",)} | {"member_id": row["member_id"]} == {
        k: (v or None) for k, v in next(x for x in rows if x["email"] == "yara@example.com").items()}


def test_invitation_view_shows_resend_limits(world: World, api: Any) -> None:
    b = world.business_id
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": "zed@example.com", "display_name": "Zed",
        "grants": [{"account_id": "acct-2", "role": "Analyst"}]})
    inv = r.json()
    wait_sent(world, api, inv["invitation_id"])
    view = api.get(f"/businesses/{b}/invitations/{inv['invitation_id']}", token=world.admin.token).json()
    assert view["sends_left"] == 4 and view["send_count"] == 1
    assert (view["inviter_email"], view["inviter_name"]) == (world.admin.email, "First Admin")
    sent = view["last_sent_at"]
    assert view["resend_available_at"] > sent  # a minute after the send
    early = api.post(f"/businesses/{b}/invitations/{inv['invitation_id']}/resend", token=world.admin.token)
    assert early.status_code == 429
    world.stack.advance(timedelta(seconds=61))
    resent = api.post(f"/businesses/{b}/invitations/{inv['invitation_id']}/resend", token=world.admin.token).json()
    assert resent["sends_left"] == 3 and resent["resend_available_at"] > resent["last_sent_at"]
    listed = api.get(f"/businesses/{b}/invitations", token=world.admin.token).json()["invitations"]
    assert next(i for i in listed if i["invitation_id"] == inv["invitation_id"])["sends_left"] == 3
    revoked = api.post(f"/businesses/{b}/invitations/{inv['invitation_id']}/revoke", token=world.admin.token,
                       json={}).json()
    assert revoked["status"] == "REVOKED" and revoked["resend_available_at"] is None
    assert (revoked["decided_by_email"], revoked["decided_by_name"]) == (world.admin.email, "First Admin")


def test_the_sweep_is_named(world: World, api: Any) -> None:
    r = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token, json={
        "email": "late@example.com", "display_name": "Late",
        "grants": [{"account_id": "acct-2", "role": "Analyst"}]})
    inv = r.json()
    wait_sent(world, api, inv["invitation_id"])
    world.stack.advance(timedelta(days=8))
    expired = eventually(lambda: _entries(world, api, "invitation.expired", inv["member_id"]), timeout=30,
                         what="the expiry")
    assert expired[-1]["actor_name"] in ("system:sweep", "system:timeout") and expired[-1]["actor_email"] is None
