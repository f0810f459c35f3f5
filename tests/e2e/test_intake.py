"""HR events on the bus: at-least-once delivery has the effect of one; nothing is dropped silently."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accessflow.usecases.onboarding import invitation_id_for
from tests.world import World, eventually, execution_for, mails_to, make_world

GRANTS = [{"account_id": "acct-1", "role": "Analyst"}]


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack)


def dead_letters(stack: Any) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    url = stack.queues["IntakeDeadLetterQueue"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                    VisibilityTimeout=0).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append({"body": json.loads(message["Body"]),
                          "error": message.get("MessageAttributes", {}).get("ERROR_MESSAGE", {}).get("StringValue")})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_triple_delivery_has_the_effect_of_one(stack: Any, api: Any, world: World) -> None:
    for _ in range(3):
        detail = world.hr_joiner("tri@example.com", GRANTS, key="workday-event-0001")
    invitation_id = invitation_id_for(world.business_id, detail["idempotency_key"])
    execution = execution_for(stack, invitation_id)
    stack.wait_for_state(execution, "SendInvitation")
    eventually(lambda: mails_to(stack, "tri@example.com"), what="invitation e-mail")
    executions = [e for e in stack.executions("OnboardingStateMachine") if invitation_id in e["executionArn"]]
    assert len(executions) == 1
    assert len(mails_to(stack, "tri@example.com")) == 1
    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"action": "invitation.created", "limit": 500}).json()["entries"]
    mine = [e for e in trail if e["after"]["email"] == "tri@example.com"]
    assert len(mine) == 1
    assert mine[0]["after"]["member"] == {"status": "INVITED"}  # the member was created once, by that entry


@pytest.mark.parametrize("detail,expected", [
    ({"business_id": "b", "email": "not-an-email", "display_name": "X", "grants": GRANTS,
      "requested_by": "workday", "idempotency_key": "malformed-0001"}, "email"),
    ({"business_id": "b", "email": "a@example.com", "display_name": "X",
      "grants": [{"account_id": "acct-1", "role": "Owner"}], "requested_by": "workday",
      "idempotency_key": "malformed-0002"}, "role"),
    ({"business_id": "b", "email": "a@example.com", "display_name": "X", "grants": GRANTS,
      "requested_by": "workday"}, "idempotency_key"),
])
def test_malformed_event_is_dead_lettered_with_reason(stack: Any, detail: dict[str, Any], expected: str) -> None:
    dead_letters(stack)
    stack.put_event("member.onboarding.requested", detail, source="hr.workday")
    stack.wait_idle()
    letters = dead_letters(stack)
    assert len(letters) == 1
    assert expected in letters[0]["body"]["reason"] and expected in (letters[0]["error"] or "")
    assert letters[0]["body"]["event"]["detail"] == detail


def test_unknown_business_is_rejected_with_a_reason(stack: Any, world: World) -> None:
    detail = world.hr_joiner("ghost@example.com", GRANTS, business_id="no-such-business")
    execution = execution_for(stack, invitation_id_for("no-such-business", detail["idempotency_key"]))
    result = stack.wait_execution(execution)
    assert result["status"] == "FAILED"
    rejections = eventually(lambda: [e for e in stack.events if e["detail-type"] == "member.onboarding.rejected"
                                     and e["detail"]["business_id"] == "no-such-business"], what="rejection event")
    assert "does not exist" in rejections[0]["detail"]["reason"]


def test_unknown_account_is_rejected_and_recorded(stack: Any, api: Any, world: World) -> None:
    detail = world.hr_joiner("stray@example.com", [{"account_id": "acct-99", "role": "Editor"}])
    execution = execution_for(stack, invitation_id_for(world.business_id, detail["idempotency_key"]))
    assert stack.wait_execution(execution)["status"] == "FAILED"
    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"action": "onboarding.rejected"}).json()["entries"]
    assert len(trail) == 1 and "acct-99" in trail[0]["reason"]
    assert not mails_to(stack, "stray@example.com")
