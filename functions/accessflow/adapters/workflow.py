"""Step Functions: start executions and answer waiting tasks, behind a small interface."""

from __future__ import annotations

import json
from typing import Any, Protocol


class Workflow(Protocol):
    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str: ...

    def succeed(self, task_token: str, output: dict[str, Any]) -> bool: ...

    def fail(self, task_token: str, error: str, cause: str) -> bool: ...


class StepFunctionsWorkflow:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    def _sfn(self) -> Any:
        if self._client is None:
            from accessflow.adapters.clients import client

            self._client = client("stepfunctions")
        return self._client

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named deterministically; a duplicate start returns the existing one
        (execution names are unique per state machine), which makes starts idempotent."""
        client = self._sfn()
        try:
            response = client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload, default=str)
            )
            return str(response["executionArn"])
        except client.exceptions.ExecutionAlreadyExists:
            prefix = state_machine_arn.replace(":stateMachine:", ":execution:")
            return f"{prefix}:{name}"

    def succeed(self, task_token: str, output: dict[str, Any]) -> bool:
        """False when the task no longer waits (timed out, already answered): the caller's own
        state change already won or lost in DynamoDB, so this is not an error."""
        client = self._sfn()
        try:
            client.send_task_success(taskToken=task_token, output=json.dumps(output, default=str))
        except (client.exceptions.TaskTimedOut, client.exceptions.InvalidToken, client.exceptions.TaskDoesNotExist):
            return False
        return True

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        client = self._sfn()
        try:
            client.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except (client.exceptions.TaskTimedOut, client.exceptions.InvalidToken, client.exceptions.TaskDoesNotExist):
            return False
        return True
