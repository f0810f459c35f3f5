"""Onboarding end to end on the local stack: only the bus and the HTTP API are driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accessflow.usecases.onboarding import invitation_id_for
from tests.world import World, eventually, execution_for, invitation_link_token, mails_to, make_world, states_entered

EDITOR_TWO = [{"account_id": "acct-1", "role": "Editor"}, {"account_id": "acct-2", "role": "Editor"}]


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack)


def audit(api: Any, world: World, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


def test_hr_joiner_to_active_grants(stack: Any, api: Any, world: World) -> None:
    detail = world.hr_joiner("ann@example.com", EDITOR_TWO, name="Ann Lee")
    invitation_id = invitation_id_for(world.business_id, detail["idempotency_key"])
    execution = execution_for(stack, invitation_id)
    stack.wait_for_state(execution, "SendInvitation")

    token = invitation_link_token(stack, "ann@example.com")
    mail = mails_to(stack, "ann@example.com")[-1]
    assert mail.path.exists() and mail.path.suffix == ".eml"
    assert token not in json.dumps(stack.client("dynamodb").get_item(
        TableName=stack.tables["AccessFlowTable"],
        Key={"pk": {"S": f"BIZ#{world.business_id}"}, "sk": {"S": f"INV#{invitation_id}"}})["Item"])

    # Opening the link (a mail scanner) does not consume it.
    page = api.get("/accept", params={"token": token})
    assert page.status_code == 200 and "<th scope=\"row\">Account acct-1</th>" in page.text and "Editor" in page.text

    ann = world.person("ann@example.com")
    accepted = api.post("/invitations/accept", json={"token": token}, token=ann.token)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "ACCEPTED"

    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    assert states_entered(stack, execution)[-1] == "Activated"
    invitation = api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}", token=world.admin.token)
    assert invitation.json()["status"] == "CONFIRMED"
    assert invitation.json()["final_grants"] == EDITOR_TWO

    activated = [e for e in stack.events if e["detail-type"] == "member.activated"]
    assert [e["detail"]["email"] for e in activated] == ["ann@example.com"]

    member_id = accepted.json()["member_id"]
    actions = [e["action"] for e in audit(api, world, member_id=member_id)]
    # One entry per change; a change with several effects lists them in its entry (docs/api.md).
    assert actions == ["invitation.created", "invitation.sent", "invitation.accepted", "invitation.confirmed"]
    created, *_, confirmed = audit(api, world, member_id=member_id)
    assert created["after"]["member"] == {"status": "INVITED"}
    assert confirmed["after"]["grants"] == EDITOR_TWO
    assert confirmed["before"]["member"] == {"status": "INVITED"}
    assert confirmed["after"]["member"] == {"status": "ACTIVE"}


def test_admin_role_waits_for_a_second_admin(stack: Any, api: Any, world: World) -> None:
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": "root@example.com", "display_name": "Rita Root",
                             "grants": [{"account_id": "acct-3", "role": "Admin"}]})
    assert created.status_code == 201, created.text
    invitation_id = created.json()["invitation_id"]
    execution = execution_for(stack, invitation_id)
    stack.wait_for_state(execution, "SendInvitation")
    rita = world.person("root@example.com")
    token = invitation_link_token(stack, "root@example.com")
    assert api.post("/invitations/accept", json={"token": token}, token=rita.token).status_code == 200
    stack.wait_for_state(execution, "AwaitConfirmation")
    assert stack.client("stepfunctions").describe_execution(executionArn=execution)["status"] == "RUNNING"
    eventually(lambda: any("Confirm" in m.subject for m in mails_to(stack, world.admin.email)),
               what="confirmation request e-mail to the admin")

    self_confirm = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/confirm",
                            json={}, token=rita.token)
    assert self_confirm.status_code == 403
    assert self_confirm.headers["content-type"].startswith("application/problem+json")
    assert stack.client("stepfunctions").describe_execution(executionArn=execution)["status"] == "RUNNING"

    confirmed = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/confirm",
                         json={}, token=world.admin.token)
    assert confirmed.status_code == 200, confirmed.text
    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    assert states_entered(stack, execution)[-1] == "Activated"
    entries = audit(api, world, action="invitation.confirmed")
    assert entries[-1]["after"]["confirmed_by"] != created.json()["member_id"]


def test_an_active_admin_cannot_confirm_their_own_new_role(stack: Any, api: Any) -> None:
    """Self-confirmation by an invitee who is already an active Admin elsewhere is refused (403)."""
    world = make_world(stack, accounts=2)
    # A second admin, Sam, joins as Admin of acct-1 (confirmed by the first admin)...
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": "sam@example.com", "display_name": "Sam",
                             "grants": [{"account_id": "acct-1", "role": "Admin"},
                                        {"account_id": "acct-2", "role": "Admin"}]})
    invitation_id = created.json()["invitation_id"]
    execution = execution_for(stack, invitation_id)
    stack.wait_for_state(execution, "SendInvitation")
    sam = world.person("sam@example.com")
    token = invitation_link_token(stack, "sam@example.com")
    assert api.post("/invitations/accept", json={"token": token}, token=sam.token).status_code == 200
    stack.wait_for_state(execution, "AwaitConfirmation")
    # ... while waiting, Sam is not active: he cannot confirm himself.
    refused = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/confirm", json={},
                       token=sam.token)
    assert refused.status_code == 403
    narrowed = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/confirm",
                        json={"grants": [{"account_id": "acct-1", "role": "Admin"}]}, token=world.admin.token)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["grants"] == [{"account_id": "acct-1", "role": "Admin"}]
    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"


def test_rejected_role_ends_on_its_branch(stack: Any, api: Any, world: World) -> None:
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": "rex@example.com", "display_name": "Rex",
                             "grants": [{"account_id": "acct-4", "role": "Admin"}]})
    invitation_id = created.json()["invitation_id"]
    execution = execution_for(stack, invitation_id)
    stack.wait_for_state(execution, "SendInvitation")
    rex = world.person("rex@example.com")
    assert api.post("/invitations/accept", json={"token": invitation_link_token(stack, "rex@example.com")},
                    token=rex.token).status_code == 200
    stack.wait_for_state(execution, "AwaitConfirmation")
    rejected = api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/reject",
                        json={"reason": "wrong person"}, token=world.admin.token)
    assert rejected.status_code == 200, rejected.text
    assert stack.wait_execution(execution)["status"] == "SUCCEEDED"
    assert states_entered(stack, execution)[-1] == "RoleRejected"
    assert any(e["detail-type"] == "invitation.rejected" for e in stack.events)
