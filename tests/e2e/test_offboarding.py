"""Offboarding end to end on the local stack: HR leaver events and the admin route drive the real
state machine, handlers and template. Assertions go through the API (receipt, audit trail,
invitations), the event tap, the execution history, and the store for the ground truth of grants.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.world import World, execution_for, invitation_link_token, make_world, states_entered

pytestmark = pytest.mark.slow

EDITOR = "Editor"


# --- helpers -----------------------------------------------------------------------------------------




# --- helpers (world) ---------------------------------------------------------------------------------------


def active_member(world: World, api: Any, email: str, accounts: list[str], role: str = EDITOR) -> str:
    """An HR joiner who accepted: ACTIVE with grants on ``accounts`` (auto-confirmed roles)."""
    from accessflow.usecases.onboarding import invitation_id_for

    key = uuid.uuid4().hex
    world.hr_joiner(email, [{"account_id": a, "role": role} for a in accounts], key=key, name="Leaver")
    invitation_id = invitation_id_for(world.business_id, key)
    arn = execution_for(world.stack, invitation_id)
    world.stack.wait_for_state(arn, "SendInvitation")
    _wait_token_registered(world, invitation_id)
    person = world.person(email)
    link = invitation_link_token(world.stack, email)
    resp = api.post("/invitations/accept", token=person.token, json={"token": link})
    assert resp.status_code == 200, resp.text
    assert world.stack.wait_execution(arn)["status"] == "SUCCEEDED"
    return str(resp.json()["member_id"])


def _wait_token_registered(world: World, invitation_id: str) -> None:
    import time

    from accessflow.store import repository as store

    for _ in range(500):
        inv = store.get_invitation(world.business_id, invitation_id)
        if inv is not None and inv.task_token and inv.delivery == "SENT":
            return
        time.sleep(0.01)
    raise AssertionError("the invitation never reached its wait")


def admin_invite(world: World, api: Any, email: str, accounts: list[str]) -> dict[str, Any]:
    resp = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                    json={"email": email, "display_name": "Leaver",
                          "grants": [{"account_id": a, "role": EDITOR} for a in accounts]})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    world.stack.wait_for_state(body["execution_arn"], "SendInvitation")
    _wait_token_registered(world, body["invitation_id"])
    return body


def hr_leaver(world: World, *, key: str | None = None, **who: str) -> dict[str, Any]:
    detail = {"business_id": world.business_id, "reason": "terminated", "requested_by": "workday",
              "idempotency_key": key or uuid.uuid4().hex, **who}
    world.stack.put_event("member.offboarding.requested", detail, source="hr.workday")
    world.stack.wait_idle()
    return detail


def offboarding_executions(world: World, member_id: str) -> list[dict[str, Any]]:
    from accessflow.store import offboarding as off_store

    item = off_store.get_offboarding(world.business_id, member_id)
    if item is None:
        return []
    return [e for e in world.stack.executions("OffboardingStateMachine")
            if e["name"] == f"off-{item.offboarding_id}"]


def finished(world: World, member_id: str) -> dict[str, Any]:
    runs = offboarding_executions(world, member_id)
    assert len(runs) == 1, runs
    return world.stack.wait_execution(runs[0]["executionArn"], timeout=60)


def receipt(world: World, api: Any, member_id: str) -> dict[str, Any]:
    resp = api.get(f"/businesses/{world.business_id}/members/{member_id}/offboarding", token=world.admin.token)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def audit_actions(world: World, api: Any, member_id: str) -> list[str]:
    resp = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                   params={"member_id": member_id, "limit": 500})
    assert resp.status_code == 200, resp.text
    return [e["action"] for e in resp.json()["entries"]]


def events_of(world: World, detail_type: str, **match: str) -> list[dict[str, Any]]:
    return [e for e in world.stack.events if e["detail-type"] == detail_type
            and e["detail"].get("business_id") == world.business_id
            and all(e["detail"].get(k) == v for k, v in match.items())]


def task_errors(history: list[dict[str, Any]]) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]


def active_accounts(world: World, member_id: str) -> list[str]:
    from accessflow.store import repository as store

    return sorted(g.account_id for g in store.grants_of(world.business_id, member_id))


def member_status(world: World, member_id: str) -> str:
    from accessflow.store import repository as store

    member = store.get_member(world.business_id, member_id)
    assert member is not None
    return member.status


# --- 1. the whole offboarding -------------------------------------------------------------------------


def test_hr_leaver_loses_grants_and_pending_invitation_with_a_receipt(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=4)
    email = f"leaver-{uuid.uuid4().hex[:6]}@example.com"
    member_id = active_member(world, api, email, ["acct-1", "acct-2", "acct-3"])
    pending = admin_invite(world, api, email, ["acct-4"])  # an active member invited to one more account
    assert pending["status"] == "PENDING" and pending["member_id"] == member_id

    hr_leaver(world, email=email)
    execution = finished(world, member_id)

    assert execution["status"] == "SUCCEEDED"
    assert active_accounts(world, member_id) == []
    assert member_status(world, member_id) == "REMOVED"
    inv = api.get(f"/businesses/{world.business_id}/invitations/{pending['invitation_id']}",
                  token=world.admin.token).json()
    assert inv["status"] == "REVOKED"
    onboarding = stack.wait_execution(pending["execution_arn"])
    assert onboarding["status"] == "SUCCEEDED" and "Revoked" in states_entered(stack, pending["execution_arn"])

    body = receipt(world, api, member_id)
    assert body["status"] == "COMPLETED" and body["execution_arn"] == execution["executionArn"]
    r = body["receipt"]
    assert {g["account_id"]: g["role"] for g in r["grants_revoked"]} == {
        "acct-1": EDITOR, "acct-2": EDITOR, "acct-3": EDITOR}
    assert [i["invitation_id"] for i in r["invitations_revoked"]] == [pending["invitation_id"]]
    assert r["invitations_revoked"][0]["grants"] == [{"account_id": "acct-4", "role": EDITOR}]
    assert r["sessions_revoked"]["event_id"]
    assert (r["source"], r["requested_by"], r["reason"]) == ("hr", "workday", "terminated")
    assert r["completed_at"] and r["started_at"] and r["orphaned_accounts"] == []

    assert len(events_of(world, "member.offboarded", member_id=member_id)) == 1
    assert len(events_of(world, "member.sessions.revoke", member_id=member_id)) == 1
    assert events_of(world, "invitation.revoked", invitation_id=pending["invitation_id"])
    assert events_of(world, "account.orphaned") == []

    actions = audit_actions(world, api, member_id)
    for expected in ("offboarding.requested", "member.offboarding", "invitation.revoked", "member.removed"):
        assert actions.count(expected) == 1, (expected, actions)
    assert actions.count("grant.revoked") == 3
    assert actions.index("member.offboarding") < actions.index("grant.revoked") < actions.index("member.removed")


# --- 2. faults ------------------------------------------------------------------------------------------


def test_revoke_throttled_twice_then_succeeds_converges_to_removed(
    stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ClientError

    from accessflow.store import offboarding as off_store

    world = make_world(stack, accounts=3)
    email = f"throttled-{uuid.uuid4().hex[:6]}@example.com"
    member_id = active_member(world, api, email, ["acct-1", "acct-2"])
    real = off_store.revoke_grants
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) <= 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                              "TransactWriteItems")
        return real(*args, **kwargs)

    monkeypatch.setattr(off_store, "revoke_grants", flaky)
    hr_leaver(world, member_id=member_id)
    execution = finished(world, member_id)

    assert execution["status"] == "SUCCEEDED"
    assert len(calls) == 3
    history = stack.execution_history(execution["executionArn"])
    assert task_errors(history) == ["ThrottledError"] * 2
    assert member_status(world, member_id) == "REMOVED" and active_accounts(world, member_id) == []
    assert len(receipt(world, api, member_id)["receipt"]["grants_revoked"]) == 2


def test_verify_finding_a_grant_left_fails_the_execution_visibly(
    stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from accessflow.store import offboarding as off_store

    world = make_world(stack, accounts=3)
    email = f"stuck-{uuid.uuid4().hex[:6]}@example.com"
    member_id = active_member(world, api, email, ["acct-1", "acct-2", "acct-3"])
    real = off_store.revoke_grants

    def skips_one(grants: Any, *args: Any, **kwargs: Any) -> int:
        return real([g for g in grants if g.account_id != "acct-2"], *args, **kwargs)

    monkeypatch.setattr(off_store, "revoke_grants", skips_one)
    hr_leaver(world, member_id=member_id)
    execution = finished(world, member_id)

    assert execution["status"] == "FAILED"
    assert execution.get("error") == "OffboardingVerificationFailed"
    entered = states_entered(stack, execution["executionArn"])
    assert entered.count("Verify") >= 1 and "Finalize" not in entered and "AccessLeftBehind" in entered
    history = stack.execution_history(execution["executionArn"])
    assert task_errors(history) == ["VerificationFailed"] * 3  # the first try and two retries with backoff
    assert active_accounts(world, member_id) == ["acct-2"]
    assert member_status(world, member_id) == "OFFBOARDING"  # never REMOVED with access left
    body = receipt(world, api, member_id)
    assert body["status"] == "FAILED" and body["receipt"]["error"] == "VerificationFailed"
    assert "acct-2" in body["receipt"]["cause"]
    assert "offboarding.failed" in audit_actions(world, api, member_id)
    assert events_of(world, "member.offboarded", member_id=member_id) == []
    assert "OffboardingVerificationFailed" in capsys.readouterr().out  # the metric behind the alarm
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {"OffboardingVerificationFailed", "ExecutionsFailed"} <= {a["MetricName"] for a in alarms}


def test_revoke_racing_a_grant_change_logs_why_and_converges(
    stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """Another change revokes acct-2 between RevokeChunk's read and its transaction: DynamoDB cancels
    it; the log says which item and which condition (never a value); the step re-reads and finishes."""
    import json

    from accessflow.adapters.clock import utcnow
    from accessflow.observability import logger
    from accessflow.store import offboarding as off_store
    from accessflow.store import repository as store

    world = make_world(stack, accounts=3)
    member_id = active_member(world, api, f"raced-{uuid.uuid4().hex[:6]}@example.com", ["acct-1", "acct-2"])
    real = off_store.revoke_grants
    raced: list[str] = []

    def racing(grants: Any, *args: Any, **kwargs: Any) -> int:
        if not raced:
            other = [g for g in grants if g.account_id == "acct-2"]
            raced.append("acct-2")
            real(other, "another-change", store.Context(actor="member:racer"), utcnow())
        return real(grants, *args, **kwargs)

    monkeypatch.setattr(off_store, "revoke_grants", racing)
    caplog.clear()
    hr_leaver(world, member_id=member_id)
    execution = finished(world, member_id)

    assert execution["status"] == "SUCCEEDED"
    assert member_status(world, member_id) == "REMOVED" and active_accounts(world, member_id) == []
    lines = [json.loads(logger.registered_formatter.format(r)) for r in caplog.records
             if r.getMessage() == "transaction cancelled" and r.transaction["business_id"] == world.business_id]
    assert len(lines) == 1, lines
    tx = lines[0]["transaction"]
    assert tx["outcome"] == "ConditionFailed" and tx["execution_arn"] == execution["executionArn"]
    assert tx["actor"] == "hr:workday" and tx["items"] == 4  # two grants, each with its audit entry
    assert tx["cancelled"] == [{"item": "grant:acct-2", "type": "GrantItem", "key": "BIZ#/GRANT#",
                                "operation": "update", "code": "ConditionalCheckFailed",
                                "condition": "status = :0", "message": "condition not met"}]


# --- 3. idempotency ---------------------------------------------------------------------------------


def test_triple_hr_delivery_racing_an_admin_request_gives_one_offboarding(
    stack: Any, api: Any,
) -> None:
    world = make_world(stack, accounts=3)
    email = f"racer-{uuid.uuid4().hex[:6]}@example.com"
    member_id = active_member(world, api, email, ["acct-1", "acct-2"])
    key = uuid.uuid4().hex
    answers: list[Any] = []

    def admin() -> None:
        answers.append(api.post(f"/businesses/{world.business_id}/members/{member_id}/offboard",
                                token=world.admin.token, json={"reason": "left the company"}))

    threads = [threading.Thread(target=hr_leaver, args=(world,), kwargs={"key": key, "email": email})
               for _ in range(3)] + [threading.Thread(target=admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    execution = finished(world, member_id)  # asserts exactly one execution
    assert execution["status"] == "SUCCEEDED"
    body = receipt(world, api, member_id)
    assert answers[0].status_code == 202, answers[0].text
    assert answers[0].json()["offboarding_id"] == body["offboarding_id"]
    again = api.post(f"/businesses/{world.business_id}/members/{member_id}/offboard", token=world.admin.token,
                     json={"reason": "again"})
    assert again.status_code == 202 and again.json()["offboarding_id"] == body["offboarding_id"]
    hr_leaver(world, key=key, email=email)  # a late fourth delivery
    assert len(offboarding_executions(world, member_id)) == 1
    assert len(events_of(world, "member.offboarded", member_id=member_id)) == 1
    actions = Counter(audit_actions(world, api, member_id))
    assert actions["offboarding.requested"] == 1 and actions["member.removed"] == 1
    assert actions["grant.revoked"] == 2


# --- 4. the last-admin rule -----------------------------------------------------------------------------


def test_admin_cannot_remove_the_last_admin(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=2)
    me = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token)  # links the admin's login
    assert me.status_code == 200
    from accessflow.store import repository as store

    admin = store.member_by_email(world.business_id, world.admin.email)
    assert admin is not None
    before = Counter(audit_actions(world, api, admin.member_id))

    resp = api.post(f"/businesses/{world.business_id}/members/{admin.member_id}/offboard",
                    token=world.admin.token, json={"reason": "stepping down"})

    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["type"].endswith("/last-admin") and problem["accounts"] == ["acct-1", "acct-2"]
    assert "last Admin" in problem["detail"]
    assert member_status(world, admin.member_id) == "ACTIVE"
    assert active_accounts(world, admin.member_id) == ["acct-1", "acct-2"]
    assert offboarding_executions(world, admin.member_id) == []
    assert api.get(f"/businesses/{world.business_id}/members/{admin.member_id}/offboarding",
                   token=world.admin.token).status_code == 404
    assert Counter(audit_actions(world, api, admin.member_id)) == before


def test_hr_termination_of_the_last_admin_proceeds_and_announces_orphaned_accounts(stack: Any, api: Any) -> None:
    from accessflow.store import offboarding as off_store
    from accessflow.store import repository as store

    world = make_world(stack, accounts=2)
    admin = store.member_by_email(world.business_id, world.admin.email)
    assert admin is not None

    hr_leaver(world, email=world.admin.email)
    execution = finished(world, admin.member_id)

    assert execution["status"] == "SUCCEEDED"
    assert member_status(world, admin.member_id) == "REMOVED"
    orphaned = sorted(e["detail"]["account_id"] for e in events_of(world, "account.orphaned"))
    assert orphaned == ["acct-1", "acct-2"]
    assert off_store.admin_counts(world.business_id, ["acct-1", "acct-2"]) == {"acct-1": 0, "acct-2": 0}
    item = off_store.get_offboarding(world.business_id, admin.member_id)
    assert item is not None and item.receipt is not None
    assert item.receipt["orphaned_accounts"] == ["acct-1", "acct-2"]
    assert store.admins_of_account(world.business_id, "acct-1") == []  # left the per-account admin index


def test_admin_offboard_needs_admin_on_every_account(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=3)
    editor_email = f"editor-{uuid.uuid4().hex[:6]}@example.com"
    active_member(world, api, editor_email, ["acct-1"])
    target = active_member(world, api, f"target-{uuid.uuid4().hex[:6]}@example.com", ["acct-1", "acct-2"])
    editor = world.person(editor_email)

    resp = api.post(f"/businesses/{world.business_id}/members/{target}/offboard", token=editor.token,
                    json={"reason": "not mine to do"})

    assert resp.status_code == 403
    assert resp.json()["accounts"] == ["acct-1", "acct-2"]
    assert member_status(world, target) == "ACTIVE" and offboarding_executions(world, target) == []


def test_malformed_and_unknown_leaver_events(stack: Any, api: Any) -> None:
    import json

    world = make_world(stack, accounts=1)
    hr_leaver(world, email="a@example.com", member_id="both-given")  # two identifiers: malformed
    queue = stack.queues["IntakeDeadLetterQueue"]
    messages = stack.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert any("exactly one of" in json.loads(m["Body"])["reason"] for m in messages)

    hr_leaver(world, employee_id="E-404")
    rejected = events_of(world, "member.offboarding.rejected")
    assert rejected and "employee_id=E-404" in rejected[0]["detail"]["reason"]
    entries = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                      params={"action": "offboarding.rejected"}).json()["entries"]
    assert len(entries) == 1


# --- an active member invited to more accounts (what makes "a pending invitation to a fourth") ------


def test_active_member_invited_to_another_account_accepts_and_keeps_being_active(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=3)
    email = f"grower-{uuid.uuid4().hex[:6]}@example.com"
    member_id = active_member(world, api, email, ["acct-1"])

    held = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                    json={"email": email, "display_name": "Grower", "grants": [{"account_id": "acct-1",
                                                                                "role": "Analyst"}]})
    assert held.status_code == 409 and held.json()["accounts"] == ["acct-1"]  # a role change, not an invitation

    more = admin_invite(world, api, email, ["acct-2"])
    assert more["member_id"] == member_id and member_status(world, member_id) == "ACTIVE"
    person = world.people[email]
    resp = api.post("/invitations/accept", token=person.token, json={"token": invitation_link_token(stack, email)})
    assert resp.status_code == 200, resp.text
    assert stack.wait_execution(more["execution_arn"])["status"] == "SUCCEEDED"
    assert active_accounts(world, member_id) == ["acct-1", "acct-2"]
    assert member_status(world, member_id) == "ACTIVE"
    confirmed = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                        params={"member_id": member_id, "action": "invitation.confirmed"}).json()["entries"]
    assert [(e["before"]["member"], e["after"]["member"]) for e in confirmed] == [
        ({"status": "INVITED"}, {"status": "ACTIVE"}), ({"status": "ACTIVE"}, {"status": "ACTIVE"})]

    third = admin_invite(world, api, email, ["acct-3"])
    link = invitation_link_token(stack, email)
    imposter = world.person(email, sub="another-login-same-email")
    refused = api.post("/invitations/accept", token=imposter.token, json={"token": link})
    assert refused.status_code == 409, refused.text  # the member already signs in with their own login
    assert third["status"] == "PENDING"


# --- 5. re-running a FAILED offboarding -----------------------------------------------------------------


def _fail_first_attempt(world: World, api: Any, monkeypatch: pytest.MonkeyPatch, email: str) -> str:
    """A member on acct-1..3 whose offboarding FAILED because acct-2's grant was never revoked (the
    verification test's fault); the fault is then removed, as an operator's fix would."""
    from accessflow.store import offboarding as off_store

    member_id = active_member(world, api, email, ["acct-1", "acct-2", "acct-3"])
    real = off_store.revoke_grants

    def skips_one(grants: Any, *args: Any, **kwargs: Any) -> int:
        return real([g for g in grants if g.account_id != "acct-2"], *args, **kwargs)

    monkeypatch.setattr(off_store, "revoke_grants", skips_one)
    hr_leaver(world, member_id=member_id)
    assert finished(world, member_id)["status"] == "FAILED"
    assert active_accounts(world, member_id) == ["acct-2"] and member_status(world, member_id) == "OFFBOARDING"
    monkeypatch.undo()
    return member_id


def _attempt_execution(world: World, offboarding_id: str, attempt: int) -> dict[str, Any]:
    name = f"off-{offboarding_id}-{attempt}"
    runs = [e for e in world.stack.executions("OffboardingStateMachine") if e["name"] == name]
    assert len(runs) == 1, (name, runs)
    return world.stack.wait_execution(runs[0]["executionArn"], timeout=60)


def test_admin_reruns_a_failed_offboarding_to_removed_with_two_attempts_on_the_receipt(
    stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accessflow.store import repository as store

    world = make_world(stack, accounts=3)
    member_id = _fail_first_attempt(world, api, monkeypatch, f"rerun-{uuid.uuid4().hex[:6]}@example.com")
    failed = receipt(world, api, member_id)
    assert failed["status"] == "FAILED" and [a["outcome"] for a in failed["attempts"]] == ["FAILED"]

    path = f"/businesses/{world.business_id}/members/{member_id}/offboarding/rerun"
    resp = api.post(path, token=world.admin.token, json={"reason": "revocation fault fixed"})

    assert resp.status_code == 202, resp.text
    started = resp.json()
    assert started["offboarding_id"] == failed["offboarding_id"]  # the same offboarding
    assert (started["status"], started["attempt"]) == ("IN_PROGRESS", 2)
    again = api.post(path, token=world.admin.token, json={"reason": "double click"})
    assert again.status_code == 202 and again.json()["attempt"] == 2  # idempotent while it runs
    assert _attempt_execution(world, failed["offboarding_id"], 2)["status"] == "SUCCEEDED"

    assert member_status(world, member_id) == "REMOVED" and active_accounts(world, member_id) == []
    body = receipt(world, api, member_id)
    assert body["status"] == "COMPLETED" and body["offboarding_id"] == failed["offboarding_id"]
    attempts = body["receipt"]["attempts"]
    assert [(a["attempt"], a["outcome"], a["error"]) for a in attempts] == [
        (1, "FAILED", "VerificationFailed"), (2, "COMPLETED", None)]
    admin = store.member_by_email(world.business_id, world.admin.email)
    assert admin is not None
    assert (attempts[0]["source"], attempts[0]["requested_by"]) == ("hr", "workday")
    assert (attempts[1]["source"], attempts[1]["requested_by"]) == ("api", f"member:{admin.member_id}")
    assert attempts[1]["reason"] == "revocation fault fixed"
    assert all(a["started_at"] and a["ended_at"] and a["execution_arn"] for a in attempts)
    assert attempts[1]["started_at"] >= attempts[0]["ended_at"]
    # every grant revoked exactly once, across both attempts
    assert sorted(g["account_id"] for g in body["receipt"]["grants_revoked"]) == ["acct-1", "acct-2", "acct-3"]
    actions = Counter(audit_actions(world, api, member_id))
    assert actions["grant.revoked"] == 3 and actions["offboarding.rerun"] == 1
    assert actions["offboarding.failed"] == 1 and actions["member.removed"] == 1
    assert len(events_of(world, "member.offboarded", member_id=member_id)) == 1

    done = api.post(path, token=world.admin.token, json={"reason": "once more"})
    assert done.status_code == 409 and "nothing to re-run" in done.json()["detail"]


def test_a_new_hr_leaver_event_resumes_a_failed_offboarding_and_the_cli_shows_its_attempts(
    stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from accessflow import cli

    world = make_world(stack, accounts=3)
    email = f"rehr-{uuid.uuid4().hex[:6]}@example.com"
    member_id = _fail_first_attempt(world, api, monkeypatch, email)
    offboarding_id = receipt(world, api, member_id)["offboarding_id"]

    hr_leaver(world, email=email)  # the HR system sends the leaver again (a new request, a new key)

    assert _attempt_execution(world, offboarding_id, 2)["status"] == "SUCCEEDED"
    assert member_status(world, member_id) == "REMOVED" and active_accounts(world, member_id) == []
    capsys.readouterr()
    argv = ["offboarding", world.business_id, email, "--api-url", stack.api_url, "--token", world.admin.token]
    assert cli.main([*argv, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["offboarding_id"] == offboarding_id and shown["status"] == "COMPLETED"
    assert [(a["source"], a["outcome"]) for a in shown["attempts"]] == [("hr", "FAILED"), ("hr", "COMPLETED")]
    assert Counter(audit_actions(world, api, member_id))["grant.revoked"] == 3

    rerun = ["rerun-offboarding", world.business_id, email, "--reason", "again", "--api-url", stack.api_url,
             "--token", world.admin.token]
    assert cli.main(rerun) == 1
    assert "409" in capsys.readouterr().err  # the problem is printed: nothing to re-run


def test_cli_reruns_a_failed_offboarding(stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from accessflow import cli

    world = make_world(stack, accounts=3)
    email = f"recli-{uuid.uuid4().hex[:6]}@example.com"
    member_id = _fail_first_attempt(world, api, monkeypatch, email)
    offboarding_id = receipt(world, api, member_id)["offboarding_id"]
    capsys.readouterr()

    assert cli.main(["rerun-offboarding", world.business_id, email, "--reason", "fixed the fault",
                     "--api-url", stack.api_url, "--token", world.admin.token]) == 0
    out = capsys.readouterr().out
    assert "IN_PROGRESS" in out and "fixed the fault" in out and "FAILED" in out  # both attempts listed

    assert _attempt_execution(world, offboarding_id, 2)["status"] == "SUCCEEDED"
    assert member_status(world, member_id) == "REMOVED"
