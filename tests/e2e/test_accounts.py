"""Accounts through the HTTP API (list, add, rename, retire with its refusals) and ``GET /me``
across businesses, on the stack built from template.yaml."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.people import audit, members, onboard, wait_sent
from tests.world import World, eventually, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


def _accounts(world: World, api: Any, token: str | None = None) -> dict[str, dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/accounts", token=token or world.admin.token)
    assert r.status_code == 200, r.text
    return {a["account_id"]: a for a in r.json()["accounts"]}


def _add(world: World, api: Any, account_id: str, name: str = "TikTok @acme", platform: str = "tiktok",
         token: str | None = None) -> Any:
    return api.post(f"/businesses/{world.business_id}/accounts", token=token or world.admin.token,
                    json={"account_id": account_id, "display_name": name, "platform": platform})


def test_list_shows_names_platforms_status_admins_and_my_role(world: World, api: Any) -> None:
    listed = _accounts(world, api)
    assert set(listed) == {"acct-1", "acct-2"}
    assert listed["acct-1"] | {"created_at": None} == {
        "account_id": "acct-1", "display_name": "Account acct-1", "platform": "tiktok", "status": "ACTIVE",
        "admin_count": 1, "your_role": "Admin", "created_at": None, "retired_at": None}


def test_add_makes_the_adder_its_admin_and_audits_it(world: World, api: Any) -> None:
    r = _add(world, api, "ig-main", "Instagram @acme.social", "instagram")
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/businesses/{world.business_id}/accounts/ig-main"
    assert r.json()["your_role"] == "Admin" and r.json()["admin_count"] == 1 and r.json()["status"] == "ACTIVE"
    admin = next(m for m in members(world, api) if m["email"] == world.admin.email)
    assert {"account_id": "ig-main", "role": "Admin"} in [{k: g[k] for k in ("account_id", "role")}
                                                          for g in admin["grants"]]
    entry = [e for e in audit(world, api) if e["action"] == "account.added"][-1]
    assert entry["subject"] == "ig-main" and entry["request_id"] == r.headers["x-request-id"]
    assert entry["after"]["display_name"] == "Instagram @acme.social" and entry["after"]["platform"] == "instagram"
    assert (entry["actor_email"], entry["actor_name"]) == (world.admin.email, "First Admin")

    again = _add(world, api, "ig-main", "Other")
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    for bad in ({"account_id": "a b", "display_name": "x", "platform": "tiktok"},
                {"account_id": "ok-1", "display_name": "", "platform": "tiktok"},
                {"account_id": "ok-1", "display_name": "x", "platform": "TikTok!"}):
        r = api.post(f"/businesses/{world.business_id}/accounts", token=world.admin.token, json=bad)
        assert r.status_code == 400, (bad, r.text)
    assert "ok-1" not in _accounts(world, api)


def test_rename_audits_before_and_after_and_a_same_name_writes_nothing(world: World, api: Any) -> None:
    assert _add(world, api, "tt-rename", "TikTok @old").status_code == 201
    path = f"/businesses/{world.business_id}/accounts/tt-rename"
    r = api.patch(path, token=world.admin.token, json={"display_name": "TikTok @new"})
    assert r.status_code == 200 and r.json()["display_name"] == "TikTok @new", r.text
    assert _accounts(world, api)["tt-rename"]["display_name"] == "TikTok @new"
    entries = [e for e in audit(world, api) if e["action"] == "account.renamed"]
    assert entries[-1]["before"] == {"display_name": "TikTok @old"} and entries[-1]["after"] == {
        "display_name": "TikTok @new"}
    before = len(audit(world, api))
    assert api.patch(path, token=world.admin.token, json={"display_name": "TikTok @new"}).status_code == 200
    assert len(audit(world, api)) == before
    missing = api.patch(f"/businesses/{world.business_id}/accounts/acct-1", token=world.admin.token, json={})
    assert missing.status_code == 400


def test_retire_is_refused_while_in_use_then_done_and_the_account_is_closed(world: World, api: Any) -> None:
    b = world.business_id
    assert _add(world, api, "old-ads", "Meta Ads \u2013 Old", "meta-ads").status_code == 201
    holder = onboard(world, api, f"holder-{uuid.uuid4().hex[:6]}@example.com", {"old-ads": "Editor"})
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": "pending-old@example.com", "display_name": "Pending", "grants": [
            {"account_id": "old-ads", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    invitation = r.json()
    wait_sent(world, api, invitation["invitation_id"])
    trail = audit(world, api)

    refused = api.post(f"/businesses/{b}/accounts/old-ads/retire", token=world.admin.token, json={})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/account-in-use")
    assert [g["member_id"] for g in problem["grants"]] == [holder]
    assert [i["invitation_id"] for i in problem["invitations"]] == [invitation["invitation_id"]]
    assert "pending-old@example.com" in problem["detail"]
    assert audit(world, api) == trail and _accounts(world, api)["old-ads"]["status"] == "ACTIVE"

    assert api.post(f"/businesses/{b}/invitations/{invitation['invitation_id']}/revoke", token=world.admin.token,
                    json={}).status_code == 200
    world.stack.wait_execution(invitation["execution_arn"])
    assert api.delete(f"/businesses/{b}/members/{holder}/grants/old-ads", token=world.admin.token).status_code == 200

    r = api.post(f"/businesses/{b}/accounts/old-ads/retire", token=world.admin.token, json={"reason": "closed"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "RETIRED" and r.json()["admin_count"] == 0 and r.json()["retired_at"]
    entry = [e for e in audit(world, api) if e["action"] == "account.retired"][-1]
    assert entry["reason"] == "closed" and entry["after"]["status"] == "RETIRED"
    admin = next(m for m in members(world, api) if m["email"] == world.admin.email)
    assert "old-ads" not in [g["account_id"] for g in admin["grants"]]
    listed = api.get(f"/businesses/{b}/accounts", token=world.admin.token, params={"status": "RETIRED"}).json()
    assert [a["account_id"] for a in listed["accounts"]] == ["old-ads"]

    # closed: nobody manages it any more, an HR joiner naming it is rejected with the reason, and it
    # cannot be renamed or added again
    assert api.patch(f"/businesses/{b}/accounts/old-ads", token=world.admin.token,
                     json={"display_name": "x"}).status_code == 403
    assert _add(world, api, "old-ads", "Again").status_code == 409
    invite = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": "late-joiner@example.com", "display_name": "Late",
        "grants": [{"account_id": "old-ads", "role": "Editor"}, {"account_id": "acct-1", "role": "Editor"}]})
    assert invite.status_code == 409 and invite.json()["type"].endswith("/account-retired"), invite.text
    assert invite.json()["accounts"] == ["old-ads"]
    world.hr_joiner("joiner-old@example.com", [{"account_id": "old-ads", "role": "Editor"}])
    rejected = eventually(lambda: [e for e in audit(world, api) if e["action"] == "onboarding.rejected"
                                   and "retired" in (e["reason"] or "")], what="the rejection")
    assert rejected[-1]["actor_name"] == "hr:workday"
    assert not [m for m in members(world, api) if m["email"] == "joiner-old@example.com"]


def test_retire_by_a_non_admin_of_the_account_is_refused(world: World, api: Any) -> None:
    assert _add(world, api, "kept", "Kept").status_code == 201
    email = f"ed-{uuid.uuid4().hex[:6]}@example.com"
    onboard(world, api, email, {"acct-1": "Admin", "kept": "Editor"})
    r = api.post(f"/businesses/{world.business_id}/accounts/kept/retire", token=world.people[email].token, json={})
    assert r.status_code == 403 and r.json()["accounts"] == ["kept"]
    assert _accounts(world, api)["kept"]["status"] == "ACTIVE"


def test_me_lists_active_memberships_across_businesses(stack: Any, api: Any) -> None:
    email = f"multi-{uuid.uuid4().hex[:6]}@example.com"
    first = make_world(stack, accounts=2, admin_email=email)  # bootstrapped Admin, never called it
    second = make_world(stack, accounts=2)
    onboard(second, api, email, {"acct-2": "Editor"})  # invited, accepted with their login: ACTIVE
    third = make_world(stack, accounts=1)
    r = api.post(f"/businesses/{third.business_id}/invitations", token=third.admin.token, json={
        "email": email, "display_name": "Multi", "grants": [{"account_id": "acct-1", "role": "Analyst"}]})
    assert r.status_code == 201  # only invited there: not listed

    token = stack.mint_token(email, name="Multi Person")
    me = api.get("/me", token=token)
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["email"], body["name"], body["email_verified"]) == (email, "Multi Person", True)
    listed = {b["business_id"]: b for b in body["businesses"]}
    assert set(listed) == {first.business_id, second.business_id}
    assert listed[first.business_id]["name"] == f"Business {first.business_id}"
    assert listed[first.business_id]["is_admin"] is True
    assert [(r["account_id"], r["role"], r["display_name"]) for r in listed[first.business_id]["roles"]] == [
        ("acct-1", "Admin", "Account acct-1"), ("acct-2", "Admin", "Account acct-2")]
    assert [(r["account_id"], r["role"]) for r in listed[second.business_id]["roles"]] == [("acct-2", "Editor")]
    assert listed[second.business_id]["is_admin"] is False
    # each listed membership is one the business's routes answer (the first call links the login)
    mine = members(first, api, token=token)
    assert listed[first.business_id]["member_id"] == next(m["member_id"] for m in mine if m["email"] == email)

    # an unverified e-mail finds only the memberships already linked to this login
    unverified = api.get("/me", token=stack.mint_token(email, email_verified=False)).json()
    assert {b["business_id"] for b in unverified["businesses"]} == {first.business_id, second.business_id}
    # another login with the same e-mail: those memberships are linked to the first login
    other = api.get("/me", token=stack.mint_token(email, sub=f"other-{uuid.uuid4().hex}")).json()
    assert other["businesses"] == []
    stranger = api.get("/me", token=stack.mint_token("nobody-at-all@example.com")).json()
    assert stranger["businesses"] == [] and stranger["name"] is None


def test_me_shows_a_bootstrapped_admin_before_any_call(stack: Any, api: Any) -> None:
    email = f"fresh-{uuid.uuid4().hex[:6]}@example.com"
    world = make_world(stack, accounts=1, admin_email=email)
    body = api.get("/me", token=stack.mint_token(email)).json()
    assert [b["business_id"] for b in body["businesses"]] == [world.business_id]
    assert body["name"] == "First Admin"
    assert api.get("/me", token=stack.mint_token(email, email_verified=False)).json()["businesses"] == []


def test_a_retirement_loses_to_an_invitation_that_landed_after_its_checks(world: World, api: Any) -> None:
    """The race the account's version closes: the retirement found the account empty, then an
    invitation naming it was written before the retirement's own write."""
    from accessflow.adapters.clock import utcnow
    from accessflow.store import accounts as account_store
    from accessflow.store import repository as store
    from accessflow.store.members import get_grant

    b = world.business_id
    assert _add(world, api, "racy", "Racy").status_code == 201
    checked = store.get_account(b, "racy")  # what the retirement read when it found the account empty
    assert checked is not None
    admin_id = next(m["member_id"] for m in members(world, api) if m["email"] == world.admin.email)
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token, json={
        "email": "racer@example.com", "display_name": "Racer", "grants": [{"account_id": "racy", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    with pytest.raises(store.ConditionFailed):
        account_store.retire_account(checked, own_grant=get_grant(b, admin_id, "racy"),
                                     ctx=store.Context(actor="system:test"), now=utcnow())
    assert _accounts(world, api)["racy"]["status"] == "ACTIVE"
    wait_sent(world, api, r.json()["invitation_id"])
