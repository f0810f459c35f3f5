"""Every refusal an invitee or admin can meet: precise status, problem+json body, nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accessflow.domain.policy import BusinessPolicy
from tests.e2e.people import wait_sent
from tests.world import World, execution_for, invitation_link_token, make_world

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, policy=BusinessPolicy(invitation_lifetime_days=1))


def snapshot(api: Any, world: World, invitation_id: str) -> tuple[Any, Any]:
    """What a user could observe: the invitation and the whole audit trail."""
    inv = api.get(f"/businesses/{world.business_id}/invitations/{invitation_id}", token=world.admin.token).json()
    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"limit": 500}).json()["entries"]
    return inv, trail


def invite(stack: Any, api: Any, world: World, email: str, role: str = "Editor") -> tuple[str, str]:
    before = len([m for m in stack.outbox if email in m.to])
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": email, "display_name": email.split("@")[0],
                             "grants": [{"account_id": "acct-1", "role": role}]})
    assert created.status_code == 201, created.text
    invitation_id = created.json()["invitation_id"]
    # The e-mail reaches the outbox just before the delivery is recorded (SENDING → SENT): wait for
    # both, or a "nothing changed" snapshot taken in between sees the delivery change.
    link = invitation_link_token(stack, email, after=before)
    wait_sent(world, api, invitation_id)
    return invitation_id, link


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


def test_wrong_email_is_refused_and_the_invitation_stays_usable(stack: Any, api: Any, world: World) -> None:
    invitation_id, token = invite(stack, api, world, "wendy@example.com")
    before = snapshot(api, world, invitation_id)
    intruder = world.person("mallory@example.com")
    body = assert_problem(api.post("/invitations/accept", json={"token": token}, token=intruder.token), 403)
    assert "different e-mail" in body["detail"]
    unverified = world.person("wendy@example.com", verified=False, sub="unverified-wendy")
    assert_problem(api.post("/invitations/accept", json={"token": token}, token=unverified.token), 403)
    assert snapshot(api, world, invitation_id) == before
    assert before[0]["status"] == "PENDING"
    # the right person can still accept
    wendy = world.person("wendy@example.com")
    assert api.post("/invitations/accept", json={"token": token}, token=wendy.token).status_code == 200


def test_used_token_is_409(stack: Any, api: Any, world: World) -> None:
    invitation_id, token = invite(stack, api, world, "uma@example.com")
    uma = world.person("uma@example.com")
    assert api.post("/invitations/accept", json={"token": token}, token=uma.token).status_code == 200
    assert stack.wait_execution(execution_for(stack, invitation_id))["status"] == "SUCCEEDED"
    before = snapshot(api, world, invitation_id)
    body = assert_problem(api.post("/invitations/accept", json={"token": token}, token=uma.token), 409)
    assert body["type"].endswith("invitation-already-used")
    assert snapshot(api, world, invitation_id) == before


def test_unknown_token_is_404_and_reveals_nothing(stack: Any, api: Any, world: World) -> None:
    someone = world.person("nobody@example.com")
    body = assert_problem(api.post("/invitations/accept", json={"token": "x" * 43}, token=someone.token), 404)
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert "@" not in body["detail"] and world.business_id not in str(body)
    page = api.get("/accept", params={"token": "y" * 43})
    assert page.status_code == 404 and world.business_id not in page.text


def test_non_admin_confirming_is_403(stack: Any, api: Any, world: World) -> None:
    # Ed becomes an active Editor of acct-1 ...
    _, token = invite(stack, api, world, "ed@example.com")
    ed = world.person("ed@example.com")
    accepted = api.post("/invitations/accept", json={"token": token}, token=ed.token)
    assert accepted.status_code == 200
    assert stack.wait_execution(execution_for(stack, accepted.json()["invitation_id"]))["status"] == "SUCCEEDED"
    # ... and tries to confirm someone's Admin role on acct-1.
    invitation_id, token = invite(stack, api, world, "ada@example.com", role="Admin")
    ada = world.person("ada@example.com")
    assert api.post("/invitations/accept", json={"token": token}, token=ada.token).status_code == 200
    stack.wait_for_state(execution_for(stack, invitation_id), "AwaitConfirmation")
    before = snapshot(api, world, invitation_id)
    body = assert_problem(api.post(f"/businesses/{world.business_id}/invitations/{invitation_id}/confirm",
                                   json={}, token=ed.token), 403)
    assert "acct-1" in body["detail"]
    assert snapshot(api, world, invitation_id) == before
    assert before[0]["status"] == "ACCEPTED"


def test_invalid_body_is_400(api: Any, world: World) -> None:
    bad = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                   json={"email": "not-an-email", "display_name": "", "grants": []})
    body = assert_problem(bad, 400)
    assert "email" in body["detail"]


def test_missing_token_is_401(api: Any, world: World) -> None:
    response = api.post("/invitations/accept", json={"token": "z" * 43})
    assert response.status_code == 401


def test_expired_is_410(stack: Any, api: Any, world: World) -> None:
    """Runs last in this module: it moves the stack's clock two days ahead."""
    invitation_id, token = invite(stack, api, world, "late@example.com")
    stack.advance(timedelta(days=2), coalesce=True)
    late = world.person("late@example.com")
    before = snapshot(api, world, invitation_id)
    body = assert_problem(api.post("/invitations/accept", json={"token": token}, token=late.token), 410)
    assert "expired" in body["detail"]
    after = snapshot(api, world, invitation_id)
    assert after[0]["status"] == before[0]["status"]
    accepted = [e for e in after[1] if e["subject"] == invitation_id and e["action"] == "invitation.accepted"]
    assert accepted == []
