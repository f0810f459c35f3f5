"""Waiting on and reading the state machines' executions (moto runs them in background threads)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from infra.localstack.process import Patch, active

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Executions:
    """Step Functions executions of the template's state machines."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self.client = client
        self.state_machines: dict[str, str] = {}  # logical id -> ARN

    def history(self, arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        return events

    def wait(self, arn: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30) -> dict[str, Any]:
        """Poll describe_execution until its status is one of ``statuses``."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            desc: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if desc["status"] in statuses:
                return desc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{arn} still {desc['status']} after {timeout}s")
            time.sleep(0.02)

    def wait_for_state(self, arn: str, state_name: str, timeout: float = 30) -> dict[str, Any]:
        """Poll the history until ``state_name`` was entered; returns that history event."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.history(arn):
                details = ev.get("stateEnteredEventDetails")
                if details and details.get("name") == state_name:
                    return ev
            desc = self.client("stepfunctions").describe_execution(executionArn=arn)
            if desc["status"] in TERMINAL:
                raise RuntimeError(f"{arn} ended {desc['status']} without entering {state_name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{arn} did not enter {state_name} within {timeout}s")
            time.sleep(0.02)

    def of(self, logical_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        out: list[dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machines[logical_id]):
            out.extend(page["executions"])
        return out

    def stop_running(self) -> None:
        """Abort executions still running (e.g. waiting for a task token).

        Their interpreter threads would otherwise outlive the mock and call boto3 unmocked.
        """
        sfn = self.client("stepfunctions")
        for arn in self.state_machines.values():
            with contextlib.suppress(Exception):
                for ex in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
                    sfn.stop_execution(executionArn=ex["executionArn"], error="LocalStack.Closed")


# -- moto patches -----------------------------------------------------------------------------------
_CLIENTS: dict[tuple[str, str, bool], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """Replaces ``boto_client_for`` of moto's Step Functions interpreter: one client per service.

    WHY: moto creates a boto3 client for every Task state it runs (every Lambda task, every
    events:putEvents), ~10 ms of CPU each; clients are thread-safe and moto ignores the state's
    credentials, so one per (region, service) answers the same.
    """
    from moto.core.models import botocore_stubber

    key = (region, service, bool(botocore_stubber.enabled))
    client = _CLIENTS.get(key)
    if client is None:
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(key)
            if client is None:
                client = _CLIENTS[key] = BOTO_CLIENT_FOR.original(region, service, state_credentials)
    return client


_PROGRAMS: dict[str, Any] = {}
_PROGRAMS_LOCK = threading.Lock()


def _cached_entrypoint(worker: Any) -> Any:
    """Replaces ``ExecutionWorker._get_evaluation_entrypoint``: one parse per definition.

    WHY: moto parses the state machine's ASL (ANTLR) at every execution start, ~50 ms of CPU for the
    onboarding definition. The parsed program is a tree of declarations built at parse time; what an
    execution changes lives in its ``Environment`` and in objects its evaluation creates (workers, job
    pools, map-run records), so one parsed program serves every execution of a definition."""
    definition = worker._evaluation_details.state_machine_details.definition
    program = _PROGRAMS.get(definition)
    if program is None:
        with _PROGRAMS_LOCK:
            program = _PROGRAMS.get(definition)
            if program is None:
                program = ENTRYPOINT.original(worker)
                _assign_heap_keys(program)
                _PROGRAMS[definition] = program
    return program


def _assign_heap_keys(root: Any) -> None:
    """Give every component its ``heap_key`` now: moto draws it lazily, and two executions drawing it
    at once could each keep another key (a retry counter filed under one, read under the other). The
    Map and Parallel states already share their components between iterations in moto; after this,
    executions share them the same way."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple | set):
            stack.extend(node)
        elif hasattr(node, "__dict__") and type(node).__module__.startswith("moto.stepfunctions"):
            stack.extend(vars(node).values())


_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
ENTRYPOINT = Patch("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker",
                   "_get_evaluation_entrypoint", _cached_entrypoint)
BOTO_CLIENT_FOR = Patch("moto.stepfunctions.parser.asl.utils.boto_client", "", "boto_client_for",
                        _cached_boto_client_for)
PATCHES = (BOTO_CLIENT_FOR, ENTRYPOINT, *(
    Patch(module, "", "boto_client_for", _cached_boto_client_for) for module in (
        f"{_TASKS}.lambda_eval_utils", f"{_TASKS}.service.state_task_service_events",
        f"{_TASKS}.service.state_task_service_sqs", f"{_TASKS}.service.state_task_service_sns",
        f"{_TASKS}.service.state_task_service_dynamodb", f"{_TASKS}.service.state_task_service_aws_sdk",
        f"{_TASKS}.service.state_task_service_sfn")))


def clock_wait(self: Any, env: Any) -> None:
    """Replaces ``WaitFunction._eval_body`` of moto's interpreter: a Wait state waits on the STACK's
    clock, not the wall clock.

    WHY: moto's Wait really sleeps and compares a Timestamp with the local wall time, while tests move
    the stack's clock with ``stack.advance(...)`` (to reach a review's deadline without waiting 14
    days). Here ``Timestamp``/``TimestampPath`` wait until the stack clock shows that instant and
    ``Seconds``/``SecondsPath`` that many seconds of stack time from now; ``advance()`` wakes them,
    real time passing too, and stopping the execution ends the wait. The ASL runs unchanged.
    """
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

    stack = active()
    if stack is None:
        WAIT.original(self, env)
        return
    if isinstance(self, Timestamp):
        self.string.eval(env=env)
        text = env.stack.pop()
        when = self._from_timestamp_string(timestamp=text)
        if when is None:
            raise FailureEventException(self._create_failure_event(env, text))
        target = when.replace(tzinfo=UTC)
    else:
        target = stack.clock.now() + timedelta(seconds=self._get_wait_seconds(env=env))
    stack.clock.wait_until(target, env.is_running)


WAIT = Patch("moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function", "WaitFunction",
             "_eval_body", clock_wait)
PATCHES = (*PATCHES, WAIT)
