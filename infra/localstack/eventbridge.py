"""EventBridge delivery: rules deliver to Lambda functions and state machines (moto raises
``NotImplementedError``), with retries and the target's dead-letter queue, and every event put on any
bus is tapped into :attr:`EventBridge.events`.

Fidelity note on dead letters: real EventBridge invokes a Lambda target *asynchronously*, so a
handler exception is retried by Lambda (up to twice) and then goes to the function's own
DeadLetterConfig / on-failure destination; the rule target's DeadLetterConfig only catches failures
to hand the event to Lambda. Locally a handler exception is retried per the target's RetryPolicy
(at most twice) and then sent to the target's DLQ, else the function's. Code that must dead-letter
a bad event in AWS should do it itself (or the template should also set the function's DLQ).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.lambda_runtime import error_payload, invoke_handler
from infra.localstack.functions import Functions
from infra.localstack.process import Patch, active, iso
from infra.localstack.schedules import StackClock

LOG = logging.getLogger("infra.localstack")


class EventBridge:
    """Deliveries of one stack's rules and schedules, synchronous or on one worker thread."""

    def __init__(self, client: Callable[[str], Any], clock: StackClock, functions: Functions,
                 *, async_events: bool = False) -> None:
        self.client = client
        self.clock = clock
        self.functions = functions
        self.async_events = async_events
        self.buses: dict[str, str] = {}  # logical id -> bus name
        self.events: list[dict[str, Any]] = []
        self.delivery_failures: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._exec_seq = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.async_events:
            self._worker = threading.Thread(target=self._work, name="eventbridge", daemon=True)
            self._worker.start()

    def stop(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None

    # -- putting events ----------------------------------------------------------------------------
    def put_event(self, detail_type: str, detail: dict[str, Any], source: str = "hr.test",
                  bus: str | None = None) -> str:
        """Put one event on a bus (default: the template's only custom bus); returns its id."""
        if bus is None:
            if len(self.buses) != 1:
                raise ValueError(f"pass bus=: the template declares buses {sorted(self.buses.values())}")
            bus = next(iter(self.buses.values()))
        resp = self.client("events").put_events(Entries=[{
            "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus,
        }])
        entry = resp["Entries"][0]
        if "EventId" not in entry:
            raise ValueError(f"put_events rejected the event: {entry}")
        return str(entry["EventId"])

    def tap(self, events: list[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
        """Record the events a bus accepted (see :func:`_patched_put_events`)."""
        for ev, entry in zip(events, entries, strict=False):
            if "EventId" not in entry:
                continue
            try:
                detail = json.loads(ev.get("Detail") or "null")
            except ValueError:
                detail = ev.get("Detail")
            bus = str(ev.get("EventBusName") or "default").rsplit("/", 1)[-1]
            with self._lock:
                self.events.append({
                    "id": entry["EventId"], "source": ev.get("Source"), "detail-type": ev.get("DetailType"),
                    "detail": detail, "bus": bus, "time": iso(self.clock.now()),
                    "resources": ev.get("Resources", []),
                })

    def envelope(self, moto_event: dict[str, Any]) -> dict[str, Any]:
        """moto's event message as EventBridge delivers it (ISO time, no moto-only keys)."""
        event = {k: v for k, v in moto_event.items() if k != "ingestion-time"}
        t = event.get("time")
        if isinstance(t, int | float):
            real = abs(t - time.time()) < 5
            event["time"] = iso(self.clock.now() if real else datetime.fromtimestamp(t, UTC))
        return event

    # -- delivering --------------------------------------------------------------------------------
    def dispatch(self, job: Callable[[], None]) -> None:
        if self.async_events and self._worker is not None:
            self._queue.put(job)
        else:
            job()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                job()
            except Exception:
                LOG.exception("event delivery crashed")
            finally:
                self._queue.task_done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until queued EventBridge deliveries are done (immediate when delivery is synchronous)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    @staticmethod
    def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
        if "Input" in target:
            raw = target["Input"]
            return json.loads(raw) if isinstance(raw, str) else raw
        if "InputPath" in target:
            value: Any = event
            for part in [p for p in str(target["InputPath"]).lstrip("$").split(".") if p]:
                value = value.get(part) if isinstance(value, dict) else None
            return value
        if "InputTransformer" in target:
            from moto.events.utils import EventTemplateParser

            it = target["InputTransformer"]
            out = EventTemplateParser.parse(input_template=it.get("InputTemplate"),
                                            input_paths_map=it.get("InputPathsMap", {}),
                                            event=event)  # type: ignore[arg-type]
            if isinstance(out, str):
                with contextlib.suppress(ValueError):
                    return json.loads(out)
            return out
        return event

    def deliver(self, source_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Deliver one event to one target the way EventBridge would (retries, then DLQ)."""
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        payload = self._target_input(target, event)
        retries = int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 2))
        attempts = 1 + min(max(retries, 0), 2)  # Lambda async invocations retry at most twice
        error: Exception | None = None
        for _ in range(attempts if service == "lambda" else 1):
            try:
                if service == "lambda":
                    invoke_handler(self.functions.by_arn(arn), json.loads(json.dumps(payload)))
                elif service == "states":
                    with self._lock:
                        self._exec_seq += 1
                        seq = self._exec_seq
                    name = f"{str(event.get('id', 'event'))[:36]}-{seq}"[:80]
                    self.client("stepfunctions").start_execution(stateMachineArn=arn, name=name,
                                                                 input=json.dumps(payload))
                elif service == "sqs":
                    self.client("sqs").send_message(QueueUrl=self._queue_url(arn), MessageBody=json.dumps(payload))
                elif service == "sns":
                    self.client("sns").publish(TopicArn=arn, Message=json.dumps(payload))
                elif service == "events":
                    self.client("events").put_events(Entries=[{
                        "Source": event["source"], "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]), "EventBusName": arn}])
                else:
                    raise NotImplementedError(f"target type {service} is not emulated")
                return
            except Exception as exc:  # any failure counts as a failed delivery
                error = exc
        assert error is not None
        failure = {"source": source_arn, "target": arn, "event": event, "errorType": type(error).__name__,
                   "errorMessage": str(error)}
        with self._lock:
            self.delivery_failures.append(failure)
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dlq is None and service == "lambda":
            dlq = self.functions.by_arn(arn).dead_letter_arn
        if dlq:
            self.send_to_dlq(dlq, event, error_payload(error), source_arn=source_arn, target_arn=arn)
        else:
            LOG.error("delivery of %s to %s failed, no DLQ: %s: %s", event.get("detail-type"), arn,
                      type(error).__name__, error)

    def _queue_url(self, arn: str) -> str:
        name = arn.rsplit(":", 1)[-1]
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def send_to_dlq(self, dlq_arn: str, event: Any, error: dict[str, Any], *, source_arn: str,
                    target_arn: str | None = None) -> None:
        """Dead-letter a failed delivery with EventBridge's message attributes."""
        attrs = {
            "ERROR_CODE": error.get("errorType", "Error"),
            "ERROR_MESSAGE": (error.get("errorMessage") or "-")[:256],
            "RULE_ARN": source_arn,
            "TARGET_ARN": target_arn or source_arn,
        }
        body = event if isinstance(event, str | bytes) else json.dumps(event)
        self.client("sqs").send_message(
            QueueUrl=self._queue_url(dlq_arn), MessageBody=body if isinstance(body, str) else body.decode(),
            MessageAttributes={k: {"DataType": "String", "StringValue": str(v)} for k, v in attrs.items()},
        )


# -- moto patches -----------------------------------------------------------------------------------
def _patched_send_to_targets(rule: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """Replaces ``moto.events.models.Rule.send_to_targets``.

    WHY: moto raises ``NotImplementedError`` for Lambda and Step Functions targets. Those are
    delivered by the stack (in-process, with retries and DLQ); the targets moto supports (SQS,
    logs, buses, archives) still go through moto. Also: moto lets a schedule-only rule (no
    pattern) match every event on its bus, and ignores DISABLED; real EventBridge does neither.
    """
    stack = active()
    if stack is None:
        return SEND_TO_TARGETS.original(rule, original_event, transform_input)  # type: ignore[no-any-return]
    if getattr(rule, "state", "ENABLED") != "ENABLED":
        return None
    if rule.scheduled_expression and not rule.event_pattern.get_pattern():
        return None
    if not rule.event_pattern.matches_event(original_event):
        return None
    bridge = stack.eventbridge
    event = bridge.envelope(original_event)
    native = []
    for target in rule.targets:
        service = str(target.get("Arn", "")).split(":")[2:3]
        if service in (["lambda"], ["states"]):
            bridge.dispatch(functools.partial(bridge.deliver, rule.arn, target, event))
        else:
            native.append(target)
    if native:
        clone = copy.copy(rule)  # not mutating the shared rule: other threads may deliver through it
        clone.targets = native
        SEND_TO_TARGETS.original(clone, original_event, transform_input)
    return None


def _patched_put_events(backend: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wraps ``moto.events.models.EventsBackend.put_events``: the EVENT TAP.

    WHY: tests assert what was emitted ("member.activated"). Every path that puts events — the app's
    boto3 calls, Step Functions' ``events:putEvents`` integration (it calls the same backend
    through boto3) and bus-to-bus forwarding — ends here.
    """
    entries: list[dict[str, Any]] = PUT_EVENTS.original(backend, events)
    stack = active()
    if stack is not None:
        stack.eventbridge.tap(events, entries)
    return entries


SEND_TO_TARGETS = Patch("moto.events.models", "Rule", "send_to_targets", _patched_send_to_targets)
PUT_EVENTS = Patch("moto.events.models", "EventsBackend", "put_events", _patched_put_events)
PATCHES = (SEND_TO_TARGETS, PUT_EVENTS)
