"""Step Functions Wait states on the local stack wait on the stack's clock (``stack.advance``), not
the wall clock, so a workflow that waits days (an access review's deadline) runs its real ASL in a
test. The state machine here is the test's own (Pass and Wait states only), on the fixture template."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from infra.localstack.process import iso
from tests.conftest import MINI_TEMPLATE

STACK_TEMPLATE = MINI_TEMPLATE

DEFINITION = {
    "StartAt": "Until",
    "States": {
        "Until": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Then"},
        "Then": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


@pytest.fixture(scope="module")
def machine(stack: Any) -> str:
    sfn = stack.client("stepfunctions")
    return str(sfn.create_state_machine(name="clock-wait", definition=json.dumps(DEFINITION),
                                        roleArn="arn:aws:iam::123456789012:role/test")["stateMachineArn"])


def _start(stack: Any, machine: str, name: str, *, until: timedelta, seconds: int) -> str:
    return str(stack.client("stepfunctions").start_execution(
        stateMachineArn=machine, name=name,
        input=json.dumps({"until": iso(stack.clock.now() + until), "seconds": seconds}))["executionArn"])


def _still_running(stack: Any, arn: str) -> bool:
    """The execution did not move on within a short bounded wait (it must not)."""
    with pytest.raises(TimeoutError):
        stack.wait_execution(arn, timeout=0.6)
    return True


def test_wait_states_follow_the_stack_clock(stack: Any, machine: str) -> None:
    arn = _start(stack, machine, "days", until=timedelta(days=2), seconds=3600)
    stack.wait_for_state(arn, "Until")
    stack.advance(timedelta(days=1))
    assert _still_running(stack, arn)  # one day of two

    stack.advance(timedelta(days=1, minutes=1))  # past the timestamp: on to the hour's wait
    stack.wait_for_state(arn, "Then")
    assert _still_running(stack, arn)

    started = time.monotonic()
    stack.advance(timedelta(minutes=61))
    assert stack.wait_execution(arn, timeout=60)["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 60  # not the hour of real time moto would sleep


def test_a_timestamp_already_past_does_not_wait(stack: Any, machine: str) -> None:
    arn = _start(stack, machine, "past", until=-timedelta(minutes=5), seconds=0)
    assert stack.wait_execution(arn, timeout=10)["status"] == "SUCCEEDED"


def test_stopping_an_execution_ends_its_wait(stack: Any, machine: str) -> None:
    arn = _start(stack, machine, "stopped", until=timedelta(days=30), seconds=0)
    stack.wait_for_state(arn, "Until")
    stack.client("stepfunctions").stop_execution(executionArn=arn, error="Test.Stop")
    assert stack.wait_execution(arn, timeout=5)["status"] == "ABORTED"
