"""Movers end to end (issue 11): an HR ``member.change.requested`` event, the admin route ``PUT
…/members/{id}/grants`` and the CLI drive the mover workflow built from template.yaml. Assertions go
through the API (members, audit trail, confirmation queue), the event tap and the executions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from accessflow.usecases.mover import move_id_for
from tests.e2e.people import members, onboard
from tests.world import World, eventually, mails_to, make_world

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
A, B, C = "acct-1", "acct-2", "acct-3"


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> World:
    w = make_world(stack, accounts=3)
    onboard(w, api, "second.admin@example.com", {A: "Admin", B: "Admin", C: "Admin"})
    return w


def roles_of(world: World, api: Any, member_id: str) -> dict[str, str]:
    return {g["account_id"]: g["role"] for m in members(world, api) if m["member_id"] == member_id
            for g in m["grants"]}


def trail(world: World, api: Any, member_id: str) -> list[dict[str, Any]]:
    r = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                params={"member_id": member_id, "limit": 500})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


def changes(entries: list[dict[str, Any]]) -> Counter[tuple[str, str | None]]:
    return Counter((e["action"], e["subject"]) for e in entries
                   if e["action"].startswith("grant.") or e["action"].startswith("member.change"))


def changed_events(world: World, member_id: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in world.stack.events if e["detail-type"] == "member.changed"
            and e["detail"].get("business_id") == world.business_id and e["detail"].get("member_id") == member_id]


def mover_execution(world: World, move_id: str) -> list[dict[str, Any]]:
    return [e for e in world.stack.executions("MoverStateMachine") if e["name"] == f"mov-{move_id}"]


def hr_move(world: World, key: str, grants: dict[str, str], **who: str) -> None:
    detail = {"business_id": world.business_id, **who, "requested_by": "workday", "idempotency_key": key,
              "grants": [{"account_id": a, "role": r} for a, r in grants.items()]}
    world.stack.put_event("member.change.requested", detail, source="hr.workday")
    world.stack.wait_idle()


def second_admin(world: World) -> Any:
    return world.people["second.admin@example.com"]


def test_hr_mover_reduces_at_once_and_waits_for_a_second_admin_on_the_raise(world: World, api: Any) -> None:
    member_id = onboard(world, api, "mover@example.com", {A: "Editor", B: "Editor"})
    key = f"workday-move-{uuid.uuid4().hex}"
    for _ in range(3):  # at-least-once delivery: the same event three times
        hr_move(world, key, {A: "Analyst", C: "Admin"}, email="Mover@Example.com")
    move_id = move_id_for(world.business_id, key)
    runs = mover_execution(world, move_id)
    assert len(runs) == 1, runs
    arn = runs[0]["executionArn"]
    world.stack.wait_for_state(arn, "AwaitConfirmation")

    # B revoked and A lowered at once; C not yet
    assert roles_of(world, api, member_id) == {A: "Analyst"}
    first = eventually(lambda: changed_events(world, member_id), what="member.changed")
    assert len(first) == 1
    assert sorted((c["account_id"], c["change"], c["before"], c["after"]) for c in first[0]["applied"]) == [
        (A, "lower", "Editor", "Analyst"), (B, "remove", "Editor", None)]
    assert [(c["account_id"], c["change"], c["after"]) for c in first[0]["pending"]] == [(C, "add", "Admin")]
    assert first[0]["grants"] == [{"account_id": A, "role": "Analyst"}]

    # one audit entry per change, each once however many deliveries
    assert changes(trail(world, api, member_id)) >= Counter({
        ("member.change.requested", move_id): 1, ("grant.revoked", B): 1, ("grant.changed", A): 1,
        ("grant.proposed", C): 1})
    assert changes(trail(world, api, member_id))[("grant.revoked", B)] == 1

    # the proposal is in the confirmation queue like an invitation's
    r = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                params={"status": "ACCEPTED"})
    queued = [i for i in r.json()["invitations"] if i["invitation_id"] == move_id]
    assert queued and queued[0]["source"] == "mover" and queued[0]["grants"] == [{"account_id": C, "role": "Admin"}]

    # the accounts' admins are asked, in words that say it is a change of an active member's roles
    eventually(lambda: [m for m in mails_to(world.stack, "second.admin@example.com")
                        if "are to change" in (m.text or "") and move_id in (m.text or "")], what="admins asked")

    # the member cannot confirm it; a second admin does, and C becomes active
    person = world.person("mover@example.com")
    r = api.post(f"/businesses/{world.business_id}/invitations/{move_id}/confirm", token=person.token, json={})
    assert r.status_code in (403, 404), r.text
    r = api.post(f"/businesses/{world.business_id}/invitations/{move_id}/confirm",
                 token=second_admin(world).token, json={})
    assert r.status_code == 200, r.text
    assert world.stack.wait_execution(arn)["status"] == "SUCCEEDED"
    assert roles_of(world, api, member_id) == {A: "Analyst", C: "Admin"}
    events = changed_events(world, member_id)
    assert len(events) == 2
    assert [(c["account_id"], c["change"], c["after"]) for c in events[1]["applied"]
            if c["account_id"] == C] == [(C, "add", "Admin")]
    assert events[1]["pending"] == [] and events[1]["status"] == "CONFIRMED"
    assert changes(trail(world, api, member_id))[("grant.added", C)] == 1

    # a fourth delivery, after the fact, changes nothing
    hr_move(world, key, {A: "Analyst", C: "Admin"}, email="mover@example.com")
    assert len(mover_execution(world, move_id)) == 1
    assert len(changed_events(world, member_id)) == 2


def test_a_member_who_is_not_active_gets_a_rejection_and_nothing_changes(world: World, api: Any) -> None:
    r = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                 json={"email": "invited@example.com", "display_name": "Invited",
                       "grants": [{"account_id": A, "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    member_id = r.json()["member_id"]
    key = f"workday-move-{uuid.uuid4().hex}"
    hr_move(world, key, {A: "Editor"}, member_id=member_id)
    runs = mover_execution(world, move_id_for(world.business_id, key))
    assert world.stack.wait_execution(runs[0]["executionArn"])["status"] == "FAILED"
    rejected = [e["detail"] for e in world.stack.events if e["detail-type"] == "member.change.rejected"
                and e["detail"].get("idempotency_key") == key]
    assert len(rejected) == 1 and rejected[0]["code"] == "member-not-active", rejected
    assert "INVITED" in rejected[0]["reason"]
    assert not [e for e in trail(world, api, member_id) if e["action"].startswith("grant.")]
    assert not changed_events(world, member_id)


def test_a_malformed_mover_event_is_dead_lettered_with_its_reason(world: World) -> None:
    from tests.e2e.test_intake import dead_letters

    dead_letters(world.stack)
    detail = {"business_id": world.business_id, "email": "mover@example.com", "grants": [],
              "requested_by": "workday", "idempotency_key": "workday-move-empty"}
    world.stack.put_event("member.change.requested", detail, source="hr.workday")
    world.stack.wait_idle()
    letters = dead_letters(world.stack)
    assert len(letters) == 1
    assert "grants" in letters[0]["body"]["reason"] and "grants" in (letters[0]["error"] or "")
    assert letters[0]["body"]["event"]["detail"] == detail


def test_the_admin_route_applies_and_proposes_the_same_way(world: World, api: Any) -> None:
    b = world.business_id
    member_id = onboard(world, api, "route@example.com", {A: "Editor", B: "Analyst"})
    path = f"/businesses/{b}/members/{member_id}/grants"

    # non-Admin roles: everything at once (the business confirms lower roles automatically)
    r = api.put(path, token=world.admin.token, json={"grants": [{"account_id": A, "role": "Moderator"},
                                                                 {"account_id": C, "role": "Editor"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pending"] == [] and body["grants"] == [{"account_id": A, "role": "Moderator"},
                                                        {"account_id": C, "role": "Editor"}]
    assert sorted(c["account_id"] for c in body["applied"]) == [A, B, C]
    assert world.stack.wait_execution(body["execution_arn"])["status"] == "SUCCEEDED"

    # an Admin role waits (202); the admin who asked cannot confirm it, another can
    r = api.put(path, token=world.admin.token, json={"grants": [{"account_id": A, "role": "Admin"},
                                                                 {"account_id": C, "role": "Editor"}]})
    assert r.status_code == 202, r.text
    move = r.json()
    assert [(c["account_id"], c["change"]) for c in move["pending"]] == [(A, "raise")]
    r = api.put(path, token=world.admin.token, json={"grants": [{"account_id": C, "role": "Editor"}]})
    assert r.status_code == 409 and r.json()["type"].endswith("/change-pending"), r.text
    world.stack.wait_for_state(move["execution_arn"], "AwaitConfirmation")
    r = api.post(f"/businesses/{b}/invitations/{move['invitation_id']}/confirm", token=world.admin.token, json={})
    assert r.status_code == 403, r.text
    r = api.post(f"/businesses/{b}/invitations/{move['invitation_id']}/confirm", token=second_admin(world).token,
                 json={})
    assert r.status_code == 200, r.text
    assert world.stack.wait_execution(move["execution_arn"])["status"] == "SUCCEEDED"
    assert roles_of(world, api, member_id) == {A: "Admin", C: "Editor"}

    # refusals, as problems, change nothing
    def refused(grants: list[dict[str, str]], status: int, slug: str, target: str = member_id) -> None:
        before = roles_of(world, api, target)
        r = api.put(f"/businesses/{b}/members/{target}/grants", token=world.admin.token, json={"grants": grants})
        assert r.status_code == status and r.json()["type"].endswith(f"/{slug}"), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert roles_of(world, api, target) == before

    refused([], 400, "empty-grants")
    refused([{"account_id": "nope", "role": "Editor"}], 400, "unknown-account")
    admin_id = next(m["member_id"] for m in members(world, api) if m["email"] == world.admin.email)
    lone = make_world(world.stack, accounts=1)  # its admin is the only Admin of its account
    lone_admin = next(m["member_id"] for m in members(lone, api, token=lone.admin.token)
                      if m["email"] == lone.admin.email)
    r = api.put(f"/businesses/{lone.business_id}/members/{lone_admin}/grants", token=lone.admin.token,
                json={"grants": [{"account_id": "acct-1", "role": "Editor"}]})
    assert r.status_code == 409 and r.json()["type"].endswith("/last-admin"), r.text
    del admin_id
    r = api.post(f"/businesses/{b}/invitations", token=world.admin.token,
                 json={"email": "notyet@example.com", "display_name": "Not yet",
                       "grants": [{"account_id": A, "role": "Analyst"}]})
    refused([{"account_id": A, "role": "Editor"}], 409, "member-not-active", target=r.json()["member_id"])


def test_the_cli_moves_a_member(world: World, api: Any) -> None:
    member_id = onboard(world, api, "cli@example.com", {A: "Editor", B: "Editor"})
    env = os.environ | {"ACCESSFLOW_API_URL": world.stack.api_url, "ACCESSFLOW_TOKEN": world.admin.token,
                        "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    done = subprocess.run([sys.executable, "-m", "accessflow.cli", "move", world.business_id, "cli@example.com",
                           "--grant", f"{A}:Analyst", "--grant", f"{B}:Admin"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "applied now" in done.stdout and "awaiting another Admin's confirmation" in done.stdout, done.stdout
    assert roles_of(world, api, member_id) == {A: "Analyst", B: "Editor"}  # the raise to Admin waits
    move_id = done.stdout.split()[1].rstrip(":")
    arn = mover_execution(world, move_id)[0]["executionArn"]
    world.stack.wait_for_state(arn, "AwaitConfirmation")
    eventually(lambda: api.get(f"/businesses/{world.business_id}/invitations/{move_id}",
                               token=world.admin.token).json().get("execution_arn"), what="the wait registered")

    # the second admin declines it (the CLI's reject): nothing more is granted, member.changed says so
    env["ACCESSFLOW_TOKEN"] = second_admin(world).token
    done = subprocess.run([sys.executable, "-m", "accessflow.cli", "reject", world.business_id, move_id,
                           "--reason", "not this quarter"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert world.stack.wait_execution(arn)["status"] == "SUCCEEDED"
    assert roles_of(world, api, member_id) == {A: "Analyst", B: "Editor"}
    last = changed_events(world, member_id)[-1]
    assert last["status"] == "REJECTED" and [c["account_id"] for c in last["declined"]] == [B]


def test_offboarding_cancels_a_waiting_proposal(world: World, api: Any) -> None:
    member_id = onboard(world, api, "leaving-mover@example.com", {A: "Editor"})
    key = f"workday-move-{uuid.uuid4().hex}"
    hr_move(world, key, {A: "Editor", B: "Admin"}, member_id=member_id)
    move_id = move_id_for(world.business_id, key)
    arn = mover_execution(world, move_id)[0]["executionArn"]
    world.stack.wait_for_state(arn, "AwaitConfirmation")
    eventually(lambda: (api.get(f"/businesses/{world.business_id}/invitations/{move_id}",
                                token=world.admin.token).json().get("execution_arn")), what="the wait registered")
    world.stack.put_event("member.offboarding.requested", {
        "business_id": world.business_id, "member_id": member_id, "reason": "left", "requested_by": "workday",
        "idempotency_key": f"workday-leave-{uuid.uuid4().hex}"}, source="hr.workday")
    world.stack.wait_idle()
    assert world.stack.wait_execution(arn, timeout=60)["status"] == "SUCCEEDED"
    r = api.get(f"/businesses/{world.business_id}/invitations/{move_id}", token=world.admin.token)
    assert r.json()["status"] == "REJECTED"
    last = changed_events(world, member_id)[-1]
    assert last["status"] == "REJECTED" and [c["account_id"] for c in last["declined"]] == [B]
    assert changes(trail(world, api, member_id))[("member.change.declined", move_id)] == 1
