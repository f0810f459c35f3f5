"""SCIM provisioning end to end, through SCIM only (plus what the people themselves do: the invitee
accepts the e-mailed link, an Admin confirms an Admin grant): Okta's and Entra ID's sequences, the
business's SCIM tokens, retried writes, and refused input that changes nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from tests.e2e.people import audit, members
from tests.e2e.scim_client import ERROR, GROUP, Scim, bundle, new_token, user_body
from tests.world import World, eventually, invitation_link_token, mails_to, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=3)


@pytest.fixture(scope="module")
def okta(world: World, api: Any) -> Scim:
    return Scim(api, world.business_id, new_token(world, api, "okta")["token"])


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


def _invitations(world: World, api: Any, email: str) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token)
    assert r.status_code == 200, r.text
    return [i for i in r.json()["invitations"] if i["email"] == email]


def _member(world: World, api: Any, email: str) -> dict[str, Any]:
    return next(m for m in members(world, api) if m["email"] == email)


def _accept(world: World, api: Any, email: str, *, after: int = 0) -> dict[str, Any]:
    """The invitee opens the e-mailed link and accepts with their own verified login."""
    invitation = eventually(lambda: [i for i in _invitations(world, api, email) if i["status"] == "PENDING"
                                     and i["delivery"] == "SENT"], what=f"invitation to {email}")[0]
    link = invitation_link_token(world.stack, email, after=after)
    r = api.post("/invitations/accept", token=world.person(email).token, json={"token": link})
    assert r.status_code == 200, r.text
    return dict(invitation)


def _offboarding(world: World, api: Any, member_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        r = api.get(f"/businesses/{world.business_id}/members/{member_id}/offboarding", token=world.admin.token)
        return r.json() if r.status_code == 200 and r.json()["status"] == "COMPLETED" else None
    return eventually(done, timeout=30, what="offboarding receipt")  # type: ignore[no-any-return]


def _scim_entries(world: World, api: Any, actor: str) -> list[dict[str, Any]]:
    return [e for e in audit(world, api) if e["actor"] == actor]


# --- tokens ------------------------------------------------------------------------------------------


def test_tokens_are_shown_once_stored_as_hashes_and_accepted_only_for_their_business(
        stack: Any, api: Any, world: World) -> None:
    from accessflow.store import scim as scim_store

    created = new_token(world, api, "jumpcloud")
    token = created["token"]
    assert created["scim_base_url"].endswith(f"/scim/v2/businesses/{world.business_id}")
    assert len(token.split("_", 2)[2]) >= 43  # 32 random bytes, URL-safe
    listed = api.get(f"/businesses/{world.business_id}/scim-tokens", token=world.admin.token).json()["tokens"]
    mine = [t for t in listed if t["token_id"] == created["token_id"]]
    assert mine and "token" not in mine[0] and token not in json.dumps(listed)
    item = scim_store.get_token(world.business_id, created["token_id"])
    assert item is not None and item.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(item.attribute_values, default=str)

    scim = Scim(api, world.business_id, token)
    assert scim.get("/ServiceProviderConfig").status_code == 200
    other = make_world(stack, accounts=1)
    assert Scim(api, other.business_id, token).get("/Users").status_code == 401  # another business's URL
    r = scim.get("/Users", token=world.admin.token)  # a user's JWT is not a SCIM token
    assert r.status_code == 401 and r.json()["schemas"] == [ERROR]
    assert api.get(f"/businesses/{world.business_id}/members", token=token).status_code == 401  # nowhere else

    r = api.post(f"/businesses/{world.business_id}/scim-tokens/{created['token_id']}/rotate", token=world.admin.token)
    assert r.status_code == 200, r.text
    rotated = r.json()["token"]
    assert rotated != token
    assert scim.get("/Users").status_code == 401
    assert scim.get("/Users", token=rotated).status_code == 200
    r = api.delete(f"/businesses/{world.business_id}/scim-tokens/{created['token_id']}", token=world.admin.token)
    assert r.status_code == 200 and r.json()["status"] == "REVOKED"
    assert scim.get("/Users", token=rotated).status_code == 401
    actions = [e["action"] for e in audit(world, api) if e["subject"] == created["token_id"]]
    assert actions == ["scim.token.created", "scim.token.rotated", "scim.token.revoked"]


# --- Okta ----------------------------------------------------------------------------------------------


def test_okta_sequence_onboards_through_the_invitation_and_offboards_on_deactivation(
        stack: Any, api: Any, world: World, okta: Scim) -> None:
    email = _email("okta")
    marketing = bundle(world, api, f"Marketing {uuid.uuid4().hex[:6]}",
                       [{"account_id": "acct-1", "role": "Editor"}, {"account_id": "acct-2", "role": "Analyst"}])
    # Okta: is the person there? -> create them -> push the group membership
    r = okta.get("/Users", params={"filter": f'userName eq "{email.upper()}"'})
    assert r.status_code == 200 and r.json()["totalResults"] == 0
    assert r.headers["content-type"].startswith("application/scim+json")
    r = okta.post("/Users", user_body(email, external_id="00u-okta-1", employee="E-100"))
    assert r.status_code == 201, r.text
    user = r.json()
    assert r.headers["location"].endswith(f"/Users/{user['id']}") and user["active"] is True
    assert okta.get("/Users", params={"filter": f'userName eq "{email.upper()}"'}).json()["totalResults"] == 1
    r = okta.get("/Groups", params={"filter": f'displayName eq "{marketing["display_name"]}"'})
    assert [g["id"] for g in r.json()["Resources"]] == [marketing["group_id"]]
    r = okta.patch(f"/Groups/{marketing['group_id']}", [
        {"op": "add", "path": "members", "value": [{"value": user["id"], "display": email}]}])
    assert r.status_code == 200, r.text
    push_request = r.headers["x-request-id"]

    invitation = _accept(world, api, email)
    assert invitation["source"] == "scim" and invitation["requested_by"] == "scim:okta"
    assert sorted((g["account_id"], g["role"]) for g in invitation["grants"]) == [
        ("acct-1", "Editor"), ("acct-2", "Analyst")]
    assert stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    member = _member(world, api, email)
    assert member["status"] == "ACTIVE" and member["employee_id"] == "E-100"
    assert {(g["account_id"], g["role"]) for g in member["grants"]} == {("acct-1", "Editor"), ("acct-2", "Analyst")}
    assert len(mails_to(stack, email)) == 1

    # later: the person leaves; Okta deactivates them
    r = okta.patch(f"/Users/{user['id']}", [{"op": "replace", "value": {"active": False}}])
    assert r.status_code == 200 and r.json()["active"] is False
    deactivation_request = r.headers["x-request-id"]
    receipt = _offboarding(world, api, member["member_id"])
    assert receipt["reason"] == "scim" and receipt["source"] == "scim" and receipt["requested_by"] == "okta"
    assert sorted(g["account_id"] for g in receipt["receipt"]["grants_revoked"]) == ["acct-1", "acct-2"]
    assert _member(world, api, email)["status"] == "REMOVED"
    assert okta.get(f"/Users/{user['id']}").json()["active"] is False

    trail = [e for e in audit(world, api) if e["actor"] == "scim:okta"]
    by_request = {(e["action"], e["request_id"]) for e in trail}
    assert ("scim.group.updated", push_request) in by_request
    assert ("invitation.created", push_request) in by_request
    assert ("scim.user.updated", deactivation_request) in by_request
    assert ("offboarding.requested", deactivation_request) in by_request
    revoked = [e["subject"] for e in audit(world, api)
               if e["action"] == "grant.revoked" and e["member_id"] == member["member_id"]
               and e["actor"] == "scim:okta"]
    assert sorted(revoked) == ["acct-1", "acct-2"]

    # re-activation: a fresh onboarding for their bundles (a new invitation, a new acceptance)
    r = okta.patch(f"/Users/{user['id']}", [{"op": "replace", "path": "active", "value": True}])
    assert r.status_code == 200 and r.json()["active"] is True
    again = _accept(world, api, email, after=1)
    assert again["invitation_id"] != invitation["invitation_id"]
    assert stack.wait_execution(again["execution_arn"])["status"] == "SUCCEEDED"
    assert _member(world, api, email)["status"] == "ACTIVE"
    assert len(mails_to(stack, email)) == 2


# --- Entra ID --------------------------------------------------------------------------------------------


def test_entra_sequence_with_its_patch_forms_four_eyes_and_group_removal(
        stack: Any, api: Any, world: World) -> None:
    b = world.business_id
    entra = Scim(api, b, new_token(world, api, "entra")["token"])
    email = _email("entra")
    admins = bundle(world, api, f"Ads admins {uuid.uuid4().hex[:6]}", [{"account_id": "acct-3", "role": "Admin"}])
    editors = bundle(world, api, f"Ads editors {uuid.uuid4().hex[:6]}", [{"account_id": "acct-1", "role": "Editor"}])
    # Entra matches on externalId (the objectId), creates, then fixes attributes with its PATCH forms
    object_id = str(uuid.uuid4())
    r = entra.get("/Users", params={"filter": f'externalId eq "{object_id}"'})
    assert r.json()["totalResults"] == 0
    r = entra.post("/Users", user_body(email, external_id=object_id, active=False))
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    r = entra.patch(f"/Users/{user_id}", [
        {"op": "Replace", "path": "displayName", "value": "Entra Person"},
        {"op": "Replace", "path": "active", "value": "True"}])
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True and r.json()["displayName"] == "Entra Person"
    found = entra.get("/Users", params={"filter": f'externalId eq "{object_id}"'}).json()["Resources"]
    assert [u["id"] for u in found] == [user_id]
    add = [{"op": "Add", "path": "members", "value": [{"value": user_id}]}]
    r = entra.patch(f"/Groups/{admins['group_id']}", add)
    assert r.status_code == 200, r.text

    invitation = _accept(world, api, email)
    assert invitation["needs_confirmation"] is True  # an Admin grant waits for a second Admin
    stack.wait_for_state(invitation["execution_arn"], "AwaitConfirmation")
    assert _member(world, api, email)["grants"] == []
    r = api.post(f"/businesses/{b}/invitations/{invitation['invitation_id']}/confirm", token=world.admin.token, json={})
    assert r.status_code == 200, r.text
    assert stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    member = _member(world, api, email)
    assert [(g["account_id"], g["role"]) for g in member["grants"]] == [("acct-3", "Admin")]

    # a second group: an additive invitation for what they lack
    r = entra.patch(f"/Groups/{editors['group_id']}", add)
    assert r.status_code == 200, r.text
    second = _accept(world, api, email, after=1)
    assert stack.wait_execution(second["execution_arn"])["status"] == "SUCCEEDED"
    # an Admin also gives them a direct role on acct-2: no group gave it, no group takes it away
    r = api.put(f"/businesses/{b}/members/{member['member_id']}/grants/acct-2", token=world.admin.token,
                json={"role": "Moderator"})
    assert r.status_code == 200, r.text
    grants = {g["account_id"]: g["role"] for g in _member(world, api, email)["grants"]}
    assert grants == {"acct-1": "Editor", "acct-2": "Moderator", "acct-3": "Admin"}

    # Entra removes the member from the editors group (its Remove form carries the value)
    r = entra.patch(f"/Groups/{editors['group_id']}", [
        {"op": "Remove", "path": "members", "value": [{"value": user_id}]}])
    assert r.status_code == 200, r.text
    assert "members" not in r.json()
    grants = {g["account_id"]: g["role"] for g in _member(world, api, email)["grants"]}
    assert grants == {"acct-2": "Moderator", "acct-3": "Admin"}

    # deactivation with Entra's string boolean
    r = entra.patch(f"/Users/{user_id}", [{"op": "Replace", "path": "active", "value": "False"}])
    assert r.status_code == 200 and r.json()["active"] is False
    receipt = _offboarding(world, api, member["member_id"])
    assert receipt["reason"] == "scim" and receipt["requested_by"] == "entra"
    assert sorted(g["account_id"] for g in receipt["receipt"]["grants_revoked"]) == ["acct-2", "acct-3"]
    assert receipt["receipt"]["orphaned_accounts"] == []  # the first Admin still holds acct-3
    actions = [e["action"] for e in _scim_entries(world, api, "scim:entra")
               if e["member_id"] == member["member_id"]]
    for expected in ("scim.user.created", "scim.user.updated", "invitation.created", "grant.removed",
                     "offboarding.requested"):
        assert expected in actions, (expected, actions)
    assert len(mails_to(stack, email)) == 2


# --- retries ----------------------------------------------------------------------------------------------


def test_each_write_delivered_three_times_has_the_effect_of_one(stack: Any, api: Any, world: World) -> None:
    b = world.business_id
    scim = Scim(api, b, new_token(world, api, "retry")["token"])
    email = _email("retry")
    group = bundle(world, api, f"Retry {uuid.uuid4().hex[:6]}", [{"account_id": "acct-2", "role": "Analyst"}])

    def entries() -> list[dict[str, Any]]:
        return _scim_entries(world, api, "scim:retry")

    statuses = [scim.post("/Users", user_body(email)).status_code for _ in range(3)]
    assert statuses == [201, 409, 409]
    user_id = scim.get("/Users", params={"filter": f'userName eq "{email}"'}).json()["Resources"][0]["id"]
    assert [e["action"] for e in entries()] == ["scim.user.created"]

    add = [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    assert [scim.patch(f"/Groups/{group['group_id']}", add).status_code for _ in range(3)] == [200, 200, 200]
    invitation = _accept(world, api, email)
    assert stack.wait_execution(invitation["execution_arn"])["status"] == "SUCCEEDED"
    assert len([e for e in stack.executions("OnboardingStateMachine")
                if invitation["invitation_id"] in e["executionArn"]]) == 1
    assert len(_invitations(world, api, email)) == 1 and len(mails_to(stack, email)) == 1
    assert [e["action"] for e in entries()].count("scim.group.updated") == 1
    assert [e["action"] for e in entries()].count("invitation.created") == 1

    off = [{"op": "replace", "path": "active", "value": False}]
    assert [scim.patch(f"/Users/{user_id}", off).status_code for _ in range(3)] == [200, 200, 200]
    member_id = _member(world, api, email)["member_id"]
    receipt = _offboarding(world, api, member_id)
    assert len([e for e in stack.executions("OffboardingStateMachine")
                if receipt["offboarding_id"] in e["executionArn"]]) == 1
    actions = [e["action"] for e in entries()]
    assert actions.count("scim.user.updated") == 1 and actions.count("offboarding.requested") == 1

    put = user_body(email, given="Renamed", active=False)
    assert [scim.put(f"/Users/{user_id}", put).status_code for _ in range(3)] == [200, 200, 200]
    assert [e["action"] for e in entries()].count("scim.user.updated") == 2
    assert [scim.delete(f"/Users/{user_id}").status_code for _ in range(3)] == [204, 404, 404]
    assert [e["action"] for e in entries()].count("scim.user.deleted") == 1
    assert scim.get(f"/Users/{user_id}").status_code == 404
    assert len(mails_to(stack, email)) == 1


# --- refused input ----------------------------------------------------------------------------------------


def test_bad_input_answers_its_scim_error_and_changes_nothing(stack: Any, api: Any, world: World) -> None:
    b = world.business_id
    created = new_token(world, api, "strict")
    scim = Scim(api, b, created["token"])
    email = _email("strict")
    r = scim.post("/Users", user_body(email, external_id="ext-strict"))
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    group = bundle(world, api, f"Strict {uuid.uuid4().hex[:6]}", [{"account_id": "acct-1", "role": "Analyst"}])
    r = scim.patch(f"/Groups/{group['group_id']}", [{"op": "add", "path": "members", "value": [{"value": user_id}]}])
    assert r.status_code == 200
    _accept(world, api, email)
    eventually(lambda: _member(world, api, email)["status"] == "ACTIVE", what="activation")
    revoked = new_token(world, api, "revoked")
    assert api.delete(f"/businesses/{b}/scim-tokens/{revoked['token_id']}", token=world.admin.token).status_code == 200
    other = make_world(stack, accounts=1)
    other_token = new_token(other, api, "other")["token"]

    def snapshot() -> Any:
        users = scim.get("/Users", params={"count": "100"}).json()
        groups = scim.get("/Groups").json()
        executions = len(stack.executions("OnboardingStateMachine")) + len(stack.executions("OffboardingStateMachine"))
        return audit(world, api), members(world, api), users, groups, executions, len(stack.outbox)

    before = snapshot()
    cases: list[tuple[str, Any, int, str | None]] = [
        ("malformed JSON", lambda: scim.call("POST", "/Users", raw="{not json"), 400, "invalidSyntax"),
        ("unknown attribute", lambda: scim.post("/Users", user_body(_email("x")) | {"nickName": "x"}), 400,
         "invalidSyntax"),
        ("unknown PATCH path", lambda: scim.patch(f"/Users/{user_id}", [
            {"op": "replace", "path": "favouriteColour", "value": "red"}]), 400, "invalidPath"),
        ("remove without a path", lambda: scim.patch(f"/Users/{user_id}", [{"op": "remove"}]), 400, "noTarget"),
        ("userName not an e-mail", lambda: scim.post("/Users", user_body(_email("y")) | {"userName": "bob"}), 400,
         "invalidValue"),
        ("taken userName", lambda: scim.post("/Users", user_body(email.upper())), 409, "uniqueness"),
        ("taken externalId", lambda: scim.post("/Users", user_body(_email("z"), external_id="ext-strict")), 409,
         "uniqueness"),
        ("userName of a member", lambda: scim.patch(f"/Users/{user_id}", [
            {"op": "replace", "path": "userName", "value": _email("moved")}]), 400, "mutability"),
        ("invalid filter", lambda: scim.get("/Users", params={"filter": 'userName eq'}), 400, "invalidFilter"),
        ("unsupported filter", lambda: scim.get("/Users", params={"filter": 'title co "x"'}), 400, "invalidFilter"),
        ("oversized count", lambda: scim.get("/Users", params={"count": "5000"}), 400, "tooMany"),
        ("unknown group member", lambda: scim.patch(f"/Groups/{group['group_id']}", [
            {"op": "add", "path": "members", "value": [{"value": "nobody"}]}]), 400, "invalidValue"),
        ("wrong token", lambda: scim.get("/Users", token="scim_" + "0" * 32 + "_" + "x" * 43), 401, None),
        ("revoked token", lambda: scim.get("/Users", token=revoked["token"]), 401, None),
        ("another business's token", lambda: scim.post("/Users", user_body(_email("w")), token=other_token), 401,
         None),
        ("no token", lambda: api.get(f"{scim.base}/Users"), 401, None),
        ("unknown user", lambda: scim.patch("/Users/nobody", [{"op": "replace", "path": "active", "value": False}]),
         404, None),
    ]
    for what, send, status, scim_type in cases:
        r = send()
        assert r.status_code == status, (what, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/scim+json"), (what, r.headers)
        body = r.json()
        assert body["schemas"] == [ERROR] and body["status"] == str(status), (what, body)
        assert body.get("scimType") == scim_type, (what, body)
    # a multi-operation PATCH whose last operation fails applies none of them
    r = scim.patch(f"/Users/{user_id}", [{"op": "replace", "path": "active", "value": False},
                                         {"op": "replace", "path": "nope", "value": 1}])
    assert r.status_code == 400 and r.json()["scimType"] == "invalidPath"
    stack.wait_idle()
    assert snapshot() == before


# --- bundles as Admins define them --------------------------------------------------------------------------


def test_changing_a_bundles_grants_reaches_its_members_and_needs_admin_of_those_accounts(
        stack: Any, api: Any, world: World) -> None:
    from tests.e2e.people import onboard

    b = world.business_id
    scim = Scim(api, b, new_token(world, api, "hr-idp")["token"])
    email = _email("bundle")
    group = bundle(world, api, f"Support {uuid.uuid4().hex[:6]}", [{"account_id": "acct-1", "role": "Analyst"}])
    user_id = scim.post("/Users", user_body(email)).json()["id"]
    add = [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    assert scim.patch(f"/Groups/{group['group_id']}", add).status_code == 200
    first = _accept(world, api, email)
    assert stack.wait_execution(first["execution_arn"])["status"] == "SUCCEEDED"

    # an Admin of acct-1 only may not make the bundle grant on acct-2 (no escalation through a group)
    lead = f"lead-{uuid.uuid4().hex[:6]}@example.com"
    onboard(world, api, lead, {"acct-1": "Admin"})
    r = api.put(f"/businesses/{b}/bundles/{group['group_id']}/grants", token=world.people[lead].token,
                json={"grants": [{"account_id": "acct-2", "role": "Editor"}]})
    assert r.status_code == 403 and "acct-2" in r.json()["detail"]
    r = api.post(f"/businesses/{b}/bundles", token=world.people[lead].token,
                 json={"display_name": "Escalate", "grants": [{"account_id": "acct-2", "role": "Admin"}]})
    assert r.status_code == 403

    r = api.put(f"/businesses/{b}/bundles/{group['group_id']}/grants", token=world.admin.token,
                json={"grants": [{"account_id": "acct-2", "role": "Editor"}]})
    assert r.status_code == 200, r.text
    assert r.json()["grants"] == [{"account_id": "acct-2", "role": "Editor"}]
    assert _member(world, api, email)["grants"] == []  # acct-1 came only from this bundle
    second = _accept(world, api, email, after=1)  # acct-2 is proposed: an invitation, accepted as usual
    assert second["grants"] == [{"account_id": "acct-2", "role": "Editor"}]
    assert stack.wait_execution(second["execution_arn"])["status"] == "SUCCEEDED"
    assert [(g["account_id"], g["role"]) for g in _member(world, api, email)["grants"]] == [("acct-2", "Editor")]
    changes = [e for e in audit(world, api)
               if e["action"] == "bundle.grants_changed" and e["subject"] == group["group_id"]]
    assert len(changes) == 1 and changes[0]["actor"].startswith("member:")


def test_a_large_membership_change_lands_whole_in_several_audited_transactions(api: Any, world: World) -> None:
    scim = Scim(api, world.business_id, new_token(world, api, "bulk-idp")["token"])
    ids = [scim.post("/Users", user_body(_email("many"))).json()["id"] for _ in range(45)]
    r = scim.post("/Groups", {"schemas": [GROUP], "displayName": f"Everyone {uuid.uuid4().hex[:6]}",
                              "members": [{"value": i} for i in ids]})
    assert r.status_code == 201, r.text
    group = r.json()
    assert sorted(m["value"] for m in group["members"]) == sorted(ids)
    entries = [e for e in audit(world, api) if e["subject"] == group["id"]]
    assert [e["action"] for e in entries] == ["scim.group.created", "scim.group.updated"]
    assert sorted(entries[0]["after"]["members_added"] + entries[1]["after"]["members_added"]) == sorted(ids)
    r = scim.put(f"/Groups/{group['id']}", {"schemas": [GROUP], "displayName": group["displayName"],
                                            "members": [{"value": ids[0]}]})
    assert r.status_code == 200 and [m["value"] for m in r.json()["members"]] == [ids[0]]
    assert scim.get(f"/Users/{ids[1]}").json().get("groups") is None
    assert [g["value"] for g in scim.get(f"/Users/{ids[0]}").json()["groups"]] == [group["id"]]


def test_leaving_the_group_before_accepting_withdraws_the_invitation(stack: Any, api: Any, world: World) -> None:
    scim = Scim(api, world.business_id, new_token(world, api, "late-idp")["token"])
    email = _email("undecided")
    group = bundle(world, api, f"Drafts {uuid.uuid4().hex[:6]}", [{"account_id": "acct-2", "role": "Editor"}])
    user_id = scim.post("/Users", user_body(email)).json()["id"]
    members_path = f"/Groups/{group['group_id']}"
    join = [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    assert scim.patch(members_path, join).status_code == 200
    first = eventually(lambda: [i for i in _invitations(world, api, email) if i["delivery"] == "SENT"],
                       what="first invitation")[0]
    link = invitation_link_token(stack, email)
    r = scim.patch(members_path, [{"op": "remove", "path": f'members[value eq "{user_id}"]'}])
    assert r.status_code == 200, r.text
    assert stack.wait_execution(first["execution_arn"])["status"] == "SUCCEEDED"  # ended on its Revoked branch
    assert [i["status"] for i in _invitations(world, api, email)] == ["REVOKED"]
    r = api.post("/invitations/accept", token=world.person(email).token, json={"token": link})
    assert r.status_code == 410, r.text  # the link died with the membership
    # back in the group: a new invitation (the first one stays revoked)
    assert scim.patch(members_path, join).status_code == 200
    second = _accept(world, api, email, after=1)
    assert second["invitation_id"] != first["invitation_id"]
    assert stack.wait_execution(second["execution_arn"])["status"] == "SUCCEEDED"
    assert [(g["account_id"], g["role"]) for g in _member(world, api, email)["grants"]] == [("acct-2", "Editor")]


def test_groups_joined_while_the_invitation_is_pending_follow_once_it_is_accepted(
        stack: Any, api: Any, world: World) -> None:
    scim = Scim(api, world.business_id, new_token(world, api, "busy-idp")["token"])
    email = _email("busy")
    first_group = bundle(world, api, f"Social {uuid.uuid4().hex[:6]}", [{"account_id": "acct-1", "role": "Editor"}])
    second_group = bundle(world, api, f"Ads {uuid.uuid4().hex[:6]}", [{"account_id": "acct-2", "role": "Analyst"}])
    user_id = scim.post("/Users", user_body(email)).json()["id"]
    join = [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    assert scim.patch(f"/Groups/{first_group['group_id']}", join).status_code == 200
    eventually(lambda: [i for i in _invitations(world, api, email) if i["delivery"] == "SENT"], what="invitation")
    assert scim.patch(f"/Groups/{second_group['group_id']}", join).status_code == 200
    assert len(_invitations(world, api, email)) == 1  # one invitation at a time
    first = _accept(world, api, email)
    assert stack.wait_execution(first["execution_arn"])["status"] == "SUCCEEDED"
    # member.activated -> what the second group gives is proposed, as an invitation of its own
    second = _accept(world, api, email, after=1)
    assert second["grants"] == [{"account_id": "acct-2", "role": "Analyst"}]
    assert second["requested_by"] == "scim:busy-idp"
    assert stack.wait_execution(second["execution_arn"])["status"] == "SUCCEEDED"
    grants = sorted((g["account_id"], g["role"]) for g in _member(world, api, email)["grants"])
    assert grants == [("acct-1", "Editor"), ("acct-2", "Analyst")]
    stack.wait_idle()
    assert len(_invitations(world, api, email)) == 2 and len(mails_to(stack, email)) == 2
