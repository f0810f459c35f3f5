"""The mover workflow's tasks on the stack built from template.yaml, where an end-to-end run cannot go
in a test's time: a proposal nobody decides within the confirmation window (the state machine's
``States.Timeout`` branch, ``FinishExpired``), and a retry of that step."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.people import onboard
from tests.world import eventually, make_world

pytestmark = pytest.mark.slow


def test_an_undecided_proposal_expires_once(stack: Any, api: Any) -> None:
    from accessflow.store import mover as move_store
    from accessflow.store import repository as store

    world = make_world(stack, accounts=2)
    b = world.business_id
    member_id = onboard(world, api, "slow@example.com", {"acct-1": "Editor", "acct-2": "Analyst"})
    r = api.put(f"/businesses/{b}/members/{member_id}/grants", token=world.admin.token,
                json={"grants": [{"account_id": "acct-1", "role": "Admin"}]})
    assert r.status_code == 202, r.text
    move = r.json()
    assert [c["account_id"] for c in move["applied"]] == ["acct-2"]  # the removal did not wait
    stack.wait_for_state(move["execution_arn"], "AwaitConfirmation")
    eventually(lambda: (store.get_invitation(b, move["move_id"]) or None) and
               store.get_invitation(b, move["move_id"]).confirm_task_token, what="the wait registered")

    event = {"business_id": b, "move_id": move["move_id"], "outcome": "EXPIRED", "execution_arn": move["execution_arn"]}
    first = stack.invoke("MoverFinishFunction", event)
    again = stack.invoke("MoverFinishFunction", event)  # a retry of the step
    assert first["detail"]["status"] == again["detail"]["status"] == move_store.EXPIRED
    assert first["detail"]["pending"] == [] and [c["account_id"] for c in first["detail"]["declined"]] == ["acct-1"]
    assert first["awaiting"] is False
    assert store.get_invitation(b, move["move_id"]).status == "REJECTED"
    entries, _ = store.audit_trail(b, member_id=member_id, action="member.change.expired")
    assert len(entries) == 1
    assert {g.account_id: g.role for g in store.grants_of(b, member_id)} == {"acct-1": "Editor"}
    # the proposal left the queue: a new move is accepted
    r = api.put(f"/businesses/{b}/members/{member_id}/grants", token=world.admin.token,
                json={"grants": [{"account_id": "acct-1", "role": "Analyst"}]})
    assert r.status_code == 200, r.text
    assert stack.wait_execution(r.json()["execution_arn"])["status"] == "SUCCEEDED"
    stack.client("stepfunctions").stop_execution(executionArn=move["execution_arn"])
