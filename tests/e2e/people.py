"""Populating a business with members in given roles, through the HTTP API only: an Admin invites
(Analyst on the accounts, confirmed automatically), the invitee accepts the e-mailed link with their
own login, then the Admin sets the roles the test needs."""

from __future__ import annotations

import time
from typing import Any

from tests.world import Person, World, invitation_link_token


def onboard(world: World, api: Any, email: str, roles: dict[str, str], *, by: Person | None = None) -> str:
    """An ACTIVE member holding exactly ``roles`` ({account_id: role}; empty: a member with no grant
    left); returns the member id. Confirms the role as ``by`` when the business wants confirmation."""
    admin = by or world.admin
    b = world.business_id
    grants = [{"account_id": a, "role": "Analyst"} for a in sorted(roles)] or [
        {"account_id": world.accounts[0], "role": "Analyst"}]
    r = api.post(f"/businesses/{b}/invitations", token=admin.token,
                 json={"email": email, "display_name": email.split("@")[0], "grants": grants})
    assert r.status_code == 201, r.text
    invitation = r.json()
    wait_sent(world, api, invitation["invitation_id"], by=admin)
    person = world.person(email)
    link = invitation_link_token(world.stack, email)
    r = api.post("/invitations/accept", token=person.token, json={"token": link})
    assert r.status_code == 200, r.text
    if r.json()["needs_confirmation"]:
        world.stack.wait_for_state(invitation["execution_arn"], "AwaitConfirmation")
        r = api.post(f"/businesses/{b}/invitations/{invitation['invitation_id']}/confirm", token=admin.token, json={})
        assert r.status_code == 200, r.text
    assert world.stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    member_id: str = invitation["member_id"]
    for account, role in roles.items():
        if role != "Analyst":
            set_role(world, api, member_id, account, role, by=admin)
    if not roles:
        r = api.delete(f"/businesses/{b}/members/{member_id}/grants/{world.accounts[0]}", token=admin.token)
        assert r.status_code == 200, r.text
    return member_id


def set_role(world: World, api: Any, member_id: str, account: str, role: str, *, by: Person | None = None) -> Any:
    r = api.put(f"/businesses/{world.business_id}/members/{member_id}/grants/{account}",
                token=(by or world.admin).token, json={"role": role})
    assert r.status_code == 200, r.text
    return r.json()


def members(world: World, api: Any, token: str | None = None) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/members", token=token or world.admin.token)
    assert r.status_code == 200, r.text
    return list(r.json()["members"])


def audit(world: World, api: Any) -> list[dict[str, Any]]:
    """The whole audit trail, every page."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        r = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token, params=params)
        assert r.status_code == 200, r.text
        entries += r.json()["entries"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return entries


def admin_member_id(world: World, api: Any) -> str:
    return next(m["member_id"] for m in members(world, api) if m["email"] == world.admin.email)


def wait_sent(world: World, api: Any, invitation_id: str, *, by: Person | None = None, timeout: float = 30) -> None:
    """Until the onboarding execution has e-mailed the invitation (it runs asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}", token=(by or world.admin).token)
        assert r.status_code == 200, r.text
        if r.json()["delivery"] in ("SENT", "FAILED"):
            return
        assert time.monotonic() < deadline, f"invitation {invitation_id} not sent: {r.json()}"
        time.sleep(0.05)
