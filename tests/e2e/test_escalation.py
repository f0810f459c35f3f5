"""Privilege escalation attempts, through the HTTP API: each is refused with its problem and changes
nothing (members, grants and the audit trail read the same before and after)."""

from __future__ import annotations

from typing import Any

import pytest

from accessflow.domain.policy import BusinessPolicy
from tests.e2e.people import admin_member_id, audit, members, onboard, set_role
from tests.world import World, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> World:
    w = make_world(stack, accounts=2, policy=BusinessPolicy(max_admins_per_account=3))
    w.people["editor"] = w.person("editor@example.com")
    w.people["admin-a"] = w.person("admin-a@example.com")
    onboard(w, api, "editor@example.com", {"acct-1": "Editor", "acct-2": "Editor"})
    onboard(w, api, "admin-a@example.com", {"acct-1": "Admin"})
    return w


def snapshot(world: World, api: Any) -> tuple[Any, Any]:
    return members(world, api), audit(world, api)


def assert_problem(r: Any, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + slug), r.json()


def test_editor_cannot_invite_anyone(world: World, api: Any) -> None:
    before = snapshot(world, api)
    for role in ("Analyst", "Editor", "Admin"):
        r = api.post(f"/businesses/{world.business_id}/invitations", token=world.people["editor"].token,
                     json={"email": f"friend-{role}@example.com", "display_name": "Friend",
                           "grants": [{"account_id": "acct-1", "role": role}]})
        assert_problem(r, 403, "forbidden")
    assert snapshot(world, api) == before
    assert not [m for m in world.stack.outbox if "friend-" in " ".join(m.to)]


def test_editor_cannot_promote_themselves(world: World, api: Any) -> None:
    before = snapshot(world, api)
    editor_id = next(m["member_id"] for m in before[0] if m["email"] == "editor@example.com")
    r = api.put(f"/businesses/{world.business_id}/members/{editor_id}/grants/acct-1",
                token=world.people["editor"].token, json={"role": "Admin"})
    assert_problem(r, 403, "forbidden")
    assert snapshot(world, api) == before


def test_admin_of_a_cannot_grant_on_b(world: World, api: Any) -> None:
    before = snapshot(world, api)
    token = world.people["admin-a"].token
    editor_id = next(m["member_id"] for m in before[0] if m["email"] == "editor@example.com")
    b = world.business_id
    refusals = [
        api.post(f"/businesses/{b}/invitations", token=token, json={
            "email": "x@example.com", "display_name": "X", "grants": [{"account_id": "acct-2", "role": "Analyst"}]}),
        api.post(f"/businesses/{b}/invitations", token=token, json={
            "email": "y@example.com", "display_name": "Y", "grants": [
                {"account_id": "acct-1", "role": "Analyst"}, {"account_id": "acct-2", "role": "Analyst"}]}),
        api.put(f"/businesses/{b}/members/{editor_id}/grants/acct-2", token=token, json={"role": "Admin"}),
        api.delete(f"/businesses/{b}/members/{editor_id}/grants/acct-2", token=token),
    ]
    for r in refusals:
        assert_problem(r, 403, "forbidden")
        assert r.json()["accounts"] == ["acct-2"]
    assert snapshot(world, api) == before


def test_a_fourth_admin_is_refused(world: World, api: Any) -> None:
    third = onboard(world, api, "third-admin@example.com", {"acct-1": "Admin"})  # admins on acct-1: 3
    assert third
    before = snapshot(world, api)
    editor_id = next(m["member_id"] for m in before[0] if m["email"] == "editor@example.com")
    r = api.put(f"/businesses/{world.business_id}/members/{editor_id}/grants/acct-1",
                token=world.admin.token, json={"role": "Admin"})
    assert_problem(r, 409, "admin-limit")
    assert snapshot(world, api) == before


def test_demoting_or_removing_the_last_admin_is_refused(world: World, api: Any) -> None:
    """acct-2 has a single Admin: the first one. Neither they nor anyone else can demote or remove it."""
    first = admin_member_id(world, api)
    before = snapshot(world, api)
    b = world.business_id
    for r in (
        api.put(f"/businesses/{b}/members/{first}/grants/acct-2", token=world.admin.token, json={"role": "Editor"}),
        api.delete(f"/businesses/{b}/members/{first}/grants/acct-2", token=world.admin.token),
    ):
        assert_problem(r, 409, "last-admin")
    assert snapshot(world, api) == before


def test_demoting_an_admin_who_is_not_the_last_works(world: World, api: Any) -> None:
    """The counterpart: with other Admins left, the same demotion goes through, with one audit entry."""
    third = next(m["member_id"] for m in members(world, api) if m["email"] == "third-admin@example.com")
    entries = len(audit(world, api))
    view = set_role(world, api, third, "acct-1", "Editor")
    assert view["changed"] and view["grants"][0]["role"] == "Editor"
    trail = audit(world, api)
    assert len(trail) == entries + 1
    assert trail[-1]["action"] == "grant.changed"
    assert trail[-1]["before"] == {"account_id": "acct-1", "role": "Admin"}
    assert trail[-1]["after"] == {"account_id": "acct-1", "role": "Editor"}
