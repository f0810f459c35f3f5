"""AccessFlow's embedded local AWS: ``template.yaml`` materialised on moto, in-process.

The stack translates the SAM template offline, creates every resource it declares with boto3
calls inside ``moto.mock_aws`` (the template is the only source of what exists), and fills the
gaps of moto that matter for this app:

* Lambda code runs in-process (moto wants Docker) — see :func:`_patched_lambda_invoke`;
* EventBridge rules deliver to Lambda functions and state machines (moto raises
  ``NotImplementedError``), with retries and the target's dead-letter queue, and every event put
  on any bus is tapped into :attr:`LocalStack.events`;
* schedules fire when the stack's clock is advanced (nothing time-driven fires in moto);
* every e-mail sent through SES is written to an outbox as an ``.eml`` file;
* the HTTP API and its JWT authorizer are served on localhost (moto has no HTTP API data plane).

Only one stack can be active per process: moto's backends and the patches are process-global.

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
import email.message
import email.policy
import functools
import io
import json
import logging
import os
import queue
import re
import shutil
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_string
from pathlib import Path
from typing import Any

from infra import oidc
from infra.lambda_runtime import FunctionSpec, error_payload, invoke_handler, invoke_serialized
from infra.template import (
    ACCOUNT_ID,
    Resolver,
    TemplateError,
    creation_order,
    load_definition,
    local_path_from_s3,
    translate,
)

LOG = logging.getLogger("infra.localstack")
REPO_ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

#: Types that have no behaviour to emulate locally: accepted, listed in ``LocalStack.ignored``.
NO_OP_TYPES = frozenset({
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::CloudWatch::Dashboard",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::ApiGatewayV2::DomainName",
    "AWS::CloudFormation::WaitConditionHandle",
})

_ACTIVE: LocalStack | None = None
_tls = threading.local()


_SESSION: Any = None


def _session() -> Any:
    """One boto3 session per process: its loader caches the service models (fast restarts)."""
    global _SESSION
    if _SESSION is None:
        import boto3

        _SESSION = boto3.session.Session()
    return _SESSION


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------
# clock and schedules
# ------------------------------------------------------------------------------------------------
class StackClock:
    """Wall-clock time plus an offset that :meth:`LocalStack.advance` moves forward.

    The offset is mirrored into ``accessflow.adapters.clock.set_offset`` (when that module exists)
    so the application's "now" and the stack's "now" agree.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def _set_offset(self, offset: timedelta) -> None:
        self.offset = offset
        try:
            from accessflow.adapters import clock as app_clock  # type: ignore[import-not-found]
        except ImportError:
            return
        setter = getattr(app_clock, "set_offset", None)
        if callable(setter):
            setter(offset)


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)")
_CRON = re.compile(r"cron\((.+)\)")
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def schedule_period(expression: str) -> timedelta | None:
    """Period of a ``rate()`` expression, else ``None``."""
    m = _RATE.fullmatch(expression.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return {"minute": timedelta(minutes=n), "hour": timedelta(hours=n), "day": timedelta(days=n)}[unit]


def _cron_field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Values of one cron field; ``None`` means any (``*`` / ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step = part.partition("/")
        if rng in ("*", "?"):
            a, b = lo, hi
        elif "-" in rng:
            x, y = rng.split("-", 1)
            a, b = (names or {}).get(x.upper()) or int(x), (names or {}).get(y.upper()) or int(y)
        else:
            a = (names or {}).get(rng.upper()) or int(rng)
            b = hi if step else a
        values.update(range(a, b + 1, int(step or 1)))
    return values


class CronExpression:
    """EventBridge ``cron(min hour day-of-month month day-of-week year)`` in UTC.

    Supports numbers, names, ``*``, ``?``, lists, ranges and steps; not ``L``, ``W`` or ``#``.
    """

    def __init__(self, expression: str) -> None:
        m = _CRON.fullmatch(expression.strip())
        if not m or len(m.group(1).split()) != 6:
            raise ValueError(f"not a cron expression: {expression}")
        f = m.group(1).split()
        if any(ch in "".join(f) for ch in "LW#"):
            raise ValueError(f"cron features L/W/# are not supported locally: {expression}")
        self.minutes = _cron_field(f[0], 0, 59)
        self.hours = _cron_field(f[1], 0, 23)
        self.dom = _cron_field(f[2], 1, 31)
        self.months = _cron_field(f[3], 1, 12, _MONTHS)
        self.dow = _cron_field(f[4], 1, 7, _DAYS)
        self.years = _cron_field(f[5], 1970, 2199)

    def next_after(self, after: datetime, until: datetime) -> datetime | None:
        """First firing time strictly after ``after`` and not later than ``until``."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        while day <= until:
            aws_dow = (day.weekday() + 1) % 7 + 1
            if ((self.years is None or day.year in self.years) and (self.months is None or day.month in self.months)
                    and (self.dom is None or day.day in self.dom) and (self.dow is None or aws_dow in self.dow)):
                for h in sorted(self.hours) if self.hours is not None else range(24):
                    for mi in sorted(self.minutes) if self.minutes is not None else range(60):
                        t = day.replace(hour=h, minute=mi)
                        if t > until:
                            return None
                        if t >= start:
                            return t
            day += timedelta(days=1)
        return None


@dataclass
class Schedule:
    logical_id: str
    name: str
    arn: str
    expression: str
    targets: list[dict[str, Any]]
    kind: str  # "rule" (AWS::Events::Rule) or "scheduler" (AWS::Scheduler::Schedule)
    enabled: bool = True
    period: timedelta | None = None
    cron: CronExpression | None = None
    next_due: datetime | None = None
    cursor: datetime | None = None  # cron: searched up to here without a firing

    def due(self, until: datetime) -> datetime | None:
        """Next firing time not later than ``until`` (``None`` if none)."""
        if not self.enabled:
            return None
        if self.cron is not None and self.next_due is None and self.cursor is not None:
            self.next_due = self.cron.next_after(self.cursor, until)
            if self.next_due is None:
                self.cursor = until
        return self.next_due if self.next_due is not None and self.next_due <= until else None

    def fired(self, at: datetime) -> None:
        if self.period is not None:
            assert self.next_due is not None
            self.next_due += self.period
        else:
            self.next_due, self.cursor = None, at


# ------------------------------------------------------------------------------------------------
# SES outbox
# ------------------------------------------------------------------------------------------------
@dataclass
class OutboxMessage:
    """One e-mail accepted by (moto's) SES. ``from_`` / ``msg["from"]`` are the sender."""

    to: list[str]
    sender: str
    subject: str
    text: str | None
    html: str | None
    path: Path
    message_id: str = ""
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)

    @property
    def from_(self) -> str:
        return self.sender

    def __getitem__(self, key: str) -> Any:
        return self.sender if key == "from" else getattr(self, key)


# ------------------------------------------------------------------------------------------------
# moto patches (process-global; they dispatch to the active stack)
# ------------------------------------------------------------------------------------------------
def _active() -> LocalStack:
    if _ACTIVE is None:
        raise RuntimeError("no LocalStack is active")
    return _ACTIVE


def _patched_lambda_invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """Replaces ``moto.awslambda.models.LambdaFunction.invoke``.

    WHY: moto runs function code in Docker. This runs the configured ``Handler`` in-process and
    answers like the real runtime: an exception becomes ``x-amz-function-error: Unhandled`` plus
    ``{"errorType": <class name>, ...}``, which is what Step Functions Retry/Catch match on.
    """
    stack = _active()
    spec = stack._spec_by_name(fn.function_name) or FunctionSpec(
        fn.function_name, fn.function_name, fn.function_arn, fn.handler, int(fn.memory_size), int(fn.timeout)
    )
    payload, errored = invoke_serialized(spec, body)
    inv_type = (request_headers or {}).get("x-amz-invocation-type") or "RequestResponse"
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
        if inv_type == "Event" and spec.dead_letter_arn:
            stack._send_to_dlq(spec.dead_letter_arn, body, json.loads(payload), source_arn=spec.arn)
    return b"" if inv_type == "Event" else payload


def _patched_send_to_targets(rule: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """Replaces ``moto.events.models.Rule.send_to_targets``.

    WHY: moto raises ``NotImplementedError`` for Lambda and Step Functions targets. Those are
    delivered by the stack (in-process, with retries and DLQ); the targets moto supports (SQS,
    logs, buses, archives) still go through moto. Also: moto lets a schedule-only rule (no
    pattern) match every event on its bus, and ignores DISABLED; real EventBridge does neither.
    """
    stack = _ACTIVE
    if stack is None:
        return _ORIGINALS["send_to_targets"](rule, original_event, transform_input)  # type: ignore[no-any-return]
    if getattr(rule, "state", "ENABLED") != "ENABLED":
        return None
    if rule.scheduled_expression and not rule.event_pattern.get_pattern():
        return None
    if not rule.event_pattern.matches_event(original_event):
        return None
    event = stack._envelope(original_event)
    native = []
    for target in rule.targets:
        service = str(target.get("Arn", "")).split(":")[2:3]
        if service in (["lambda"], ["states"]):
            stack._dispatch(functools.partial(stack._deliver, rule.arn, target, event))
        else:
            native.append(target)
    if native:
        clone = copy.copy(rule)  # not mutating the shared rule: other threads may deliver through it
        clone.targets = native
        _ORIGINALS["send_to_targets"](clone, original_event, transform_input)
    return None


def _patched_put_events(backend: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wraps ``moto.events.models.EventsBackend.put_events``: the EVENT TAP.

    WHY: tests assert what was emitted ("member.activated"). Every path that puts events — the app's
    boto3 calls, Step Functions' ``events:putEvents`` integration (it calls the same backend
    through boto3) and bus-to-bus forwarding — ends here.
    """
    entries: list[dict[str, Any]] = _ORIGINALS["put_events"](backend, events)
    stack = _ACTIVE
    if stack is not None:
        for ev, entry in zip(events, entries, strict=False):
            if "EventId" not in entry:
                continue
            try:
                detail = json.loads(ev.get("Detail") or "null")
            except ValueError:
                detail = ev.get("Detail")
            bus = str(ev.get("EventBusName") or "default").rsplit("/", 1)[-1]
            with stack._lock:
                stack.events.append({
                    "id": entry["EventId"], "source": ev.get("Source"), "detail-type": ev.get("DetailType"),
                    "detail": detail, "bus": bus, "time": _iso(stack.clock.now()),
                    "resources": ev.get("Resources", []),
                })
    return entries


def _capture_v1_parts(resp: Any) -> Any:
    """Wraps ``moto.ses.responses.EmailResponse.send_email``: moto keeps only one body part.

    WHY: the outbox needs both the Text and the Html part; the backend method only receives one.
    """
    _tls.mail_parts = (resp._get_param("Message.Body.Text.Data"), resp._get_param("Message.Body.Html.Data"))
    try:
        return _ORIGINALS["ses_v1_response"](resp)
    finally:
        _tls.mail_parts = None


def _capture_v2_parts(resp: Any) -> Any:
    """Wraps ``moto.sesv2.responses.SESV2Response.send_email`` for the same reason (Simple content)."""
    try:
        body = (json.loads(resp.body).get("Content") or {}).get("Simple", {}).get("Body", {})
        _tls.mail_parts = ((body.get("Text") or {}).get("Data"), (body.get("Html") or {}).get("Data"))
    except (ValueError, AttributeError):
        _tls.mail_parts = None
    try:
        return _ORIGINALS["ses_v2_response"](resp)
    finally:
        _tls.mail_parts = None


def _patched_ses_send_email(backend: Any, source: str, subject: str, body: str,
                            destinations: dict[str, list[str]]) -> Any:
    """Wraps ``moto.ses.models.SESBackend.send_email`` (SES v1 and v2 Simple both end here).

    WHY: the outbox is written only for mail SES accepted (verified sender, valid addresses).
    """
    message = _ORIGINALS["ses_send_email"](backend, source, subject, body, destinations)
    stack = _ACTIVE
    if stack is not None:
        parts = getattr(_tls, "mail_parts", None) or (body, None)
        stack._record_mail(source, destinations.get("ToAddresses", []), subject, parts[0], parts[1],
                           message.id, destinations.get("CcAddresses", []), destinations.get("BccAddresses", []))
    return message


def _patched_ses_send_raw_email(backend: Any, source: str, destinations: list[str], raw_data: str) -> Any:
    """Wraps ``moto.ses.models.SESBackend.send_raw_email`` (v1 raw and v2 Raw content)."""
    message = _ORIGINALS["ses_send_raw_email"](backend, source, list(destinations), raw_data)
    stack = _ACTIVE
    if stack is not None:
        stack._record_raw_mail(raw_data, message.id, destinations)
    return message


_ORIGINALS: dict[str, Callable[..., Any]] = {}
_PATCHED: list[tuple[Any, str, str]] = []


_DYNAMODB_LOCK = threading.RLock()


def _atomic_dynamodb_call_action(self: Any) -> Any:
    """Each DynamoDB request is atomic in AWS; moto's are not (``transact_write_items`` checks its
    conditions, then writes, without a lock, and on cancellation restores a deep copy of the whole table,
    wiping other threads' writes). Map/Parallel states and concurrent HTTP requests run our handlers in
    threads, so every DynamoDB request is serialized here: races between our conditional writes are
    then decided as DynamoDB decides them, not by moto's internals."""
    with _DYNAMODB_LOCK:
        return _ORIGINALS["dynamodb_call_action"](self)


def _install_patches() -> None:
    import moto.awslambda.models as lambda_models
    import moto.dynamodb.responses as dynamodb_responses
    import moto.events.models as events_models
    import moto.ses.models as ses_models
    import moto.ses.responses as ses_responses
    import moto.sesv2.responses as sesv2_responses

    table: list[tuple[Any, str, str, Callable[..., Any]]] = [
        (lambda_models.LambdaFunction, "invoke", "lambda_invoke", _patched_lambda_invoke),
        (events_models.Rule, "send_to_targets", "send_to_targets", _patched_send_to_targets),
        (events_models.EventsBackend, "put_events", "put_events", _patched_put_events),
        (ses_responses.EmailResponse, "send_email", "ses_v1_response", _capture_v1_parts),
        (sesv2_responses.SESV2Response, "send_email", "ses_v2_response", _capture_v2_parts),
        (ses_models.SESBackend, "send_email", "ses_send_email", _patched_ses_send_email),
        (ses_models.SESBackend, "send_raw_email", "ses_send_raw_email", _patched_ses_send_raw_email),
        (dynamodb_responses.DynamoHandler, "call_action", "dynamodb_call_action", _atomic_dynamodb_call_action),
    ]
    for owner, attr, key, replacement in table:
        if key not in _ORIGINALS:
            _ORIGINALS[key] = getattr(owner, attr)
        setattr(owner, attr, replacement)
    _PATCHED[:] = [(owner, attr, key) for owner, attr, key, _ in table]


def _remove_patches() -> None:
    for owner, attr, key in _PATCHED:
        setattr(owner, attr, _ORIGINALS[key])
    _PATCHED.clear()


# ------------------------------------------------------------------------------------------------
# the stack
# ------------------------------------------------------------------------------------------------
class LocalStack:
    """``template.yaml`` running on moto in this process. Use as a context manager."""

    def __init__(
        self,
        template_path: Path | str | None = None,
        outbox_dir: Path | str | None = None,
        serve_http: bool = True,
        *,
        port: int = 0,
        parameters: dict[str, str] | None = None,
        stack_name: str = "accessflow-local",
        region: str = "us-east-1",
        async_events: bool = False,
    ) -> None:
        self.template_path = Path(template_path or REPO_ROOT / "template.yaml").resolve()
        self.outbox_dir = Path(outbox_dir) if outbox_dir else REPO_ROOT / ".local" / "outbox"
        self.serve_http = serve_http
        self.port = port
        self.parameters = dict(parameters or {})
        self.stack_name = stack_name
        self.region = region
        self.async_events = async_events

        self.resources: dict[str, tuple[str, str]] = {}
        self.ignored: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        self.functions: dict[str, str] = {}
        self.state_machines: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        self.topics: dict[str, str] = {}
        self.buses: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self.schedules: dict[str, Schedule] = {}
        self.routes: list[Any] = []
        self.events: list[dict[str, Any]] = []
        self.outbox: list[OutboxMessage] = []
        self.delivery_failures: list[dict[str, Any]] = []
        self.clock = StackClock()
        self.api_url: str | None = None
        self.template: dict[str, Any] = {}

        self._lock = threading.RLock()
        self._specs: dict[str, FunctionSpec] = {}  # by logical id
        self._mock: Any = None
        self._server: Any = None
        self._saved_env: dict[str, str] | None = None
        self._added_paths: list[str] = []
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._exec_seq = 0
        self._mail_seq = 0
        self._clients: dict[str, Any] = {}
        self.idp: oidc.LocalIdP | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> LocalStack:
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("another LocalStack is active in this process; close it first "
                               "(moto's backends and the patches are process-global)")
        import moto

        self._saved_env = dict(os.environ)
        os.environ.update({
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing", "TZ": "UTC",
        })
        os.environ.pop("AWS_PROFILE", None)
        time.tzset()
        _ACTIVE = self
        try:
            self.template = translate(self.template_path, self.region)
            self._mock = moto.mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
            _install_patches()
            self.idp = oidc.provider()  # the process's IdP (``make serve`` starts it on its fixed port first)
            self.parameters.setdefault("JwtIssuer", self.idp.issuer)
            if self.outbox_dir.exists():
                shutil.rmtree(self.outbox_dir)
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            self._add_code_paths()
            self._create_all()
            self._apply_environment()
            if self.async_events:
                self._worker = threading.Thread(target=self._work, name="eventbridge", daemon=True)
                self._worker.start()
            if self.serve_http:
                self._start_http()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        global _ACTIVE
        if _ACTIVE is not self:
            return
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None
        self.clock._set_offset(timedelta(0))
        self._stop_running_executions()
        _remove_patches()
        if self._mock is not None:
            with contextlib.suppress(Exception):
                self._mock.stop()
            self._mock = None
        for p in self._added_paths:
            with contextlib.suppress(ValueError):
                sys.path.remove(p)
        self._added_paths.clear()
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
            time.tzset()
        self._clients.clear()
        _ACTIVE = None

    def _stop_running_executions(self) -> None:
        """Abort executions still running (e.g. waiting for a task token).

        Their interpreter threads would otherwise outlive the mock and call boto3 unmocked.
        """
        if self._mock is None:
            return
        sfn = self.client("stepfunctions")
        for arn in self.state_machines.values():
            with contextlib.suppress(Exception):
                for ex in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
                    sfn.stop_execution(executionArn=ex["executionArn"], error="LocalStack.Closed")

    # -- clients -------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client bound to the mock (cached per service)."""
        if service not in self._clients:
            self._clients[service] = _session().client(
                service, region_name=self.region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
        return self._clients[service]

    # -- creation ------------------------------------------------------------------------------
    def _add_code_paths(self) -> None:
        paths = [REPO_ROOT / "functions"]
        for res in self.template.get("Resources", {}).values():
            code = (res.get("Properties") or {}).get("Code") if res.get("Type") == "AWS::Lambda::Function" else None
            if isinstance(code, dict) and "S3Bucket" in code:
                local = local_path_from_s3(str(code["S3Bucket"]), str(code["S3Key"]))
                if local is not None:
                    paths.append(local if local.is_dir() else local.parent)
        for p in paths:
            if str(p) not in sys.path:
                sys.path.insert(0, str(p))
                self._added_paths.append(str(p))

    def _create_all(self) -> None:
        resources: dict[str, Any] = self.template.get("Resources", {})
        self._resolver = Resolver(self.template, self.region, self.stack_name, self.parameters)
        for lid in creation_order(resources):
            res = resources[lid]
            rtype = res["Type"]
            if res.get("Condition") and not self._resolver.condition(res["Condition"]):
                continue
            if rtype in NO_OP_TYPES:
                self.ignored[lid] = rtype
                self._resolver.refs[lid] = lid
                self._resolver.attrs[lid] = {}
                continue
            creator = getattr(self, "_create_" + rtype.replace("AWS::", "").replace("::", "_"), None)
            if creator is None:
                LOG.warning("resource %s of type %s is not emulated locally", lid, rtype)
                self.skipped[lid] = rtype
                continue
            props = self._resolver.resolve(res.get("Properties") or {})
            try:
                ref, attrs = creator(lid, props)
            except TemplateError:
                raise
            except Exception as exc:  # name the resource: a bare botocore error says nothing about which
                raise TemplateError(f"creating {lid} ({rtype}) failed: {exc}") from exc
            self._resolver.refs[lid] = ref
            self._resolver.attrs[lid] = attrs
            self.resources[lid] = (rtype, attrs.get("Arn") or ref)
        if self.ignored:
            LOG.info("no-op resources: %s", ", ".join(f"{k} ({v})" for k, v in sorted(self.ignored.items())))
        self.routes = self._build_routes(resources)

    def _name(self, lid: str, max_len: int = 64) -> str:
        return f"{self.stack_name}-{lid}"[:max_len]

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT_ID}:{resource}"

    @staticmethod
    def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
        tags = props.get("Tags") or []
        if isinstance(tags, dict):
            return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
        return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags]

    def _create_IAM_Role(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        iam = self.client("iam")
        name = props.get("RoleName") or self._name(lid)
        role = iam.create_role(RoleName=name, Path=props.get("Path", "/"),
                               AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument") or {}))
        for pol in props.get("Policies") or []:
            doc = {"Version": "2012-10-17", **pol["PolicyDocument"]}  # SAM policy templates omit it
            try:
                iam.put_role_policy(RoleName=name, PolicyName=pol["PolicyName"], PolicyDocument=json.dumps(doc))
            except Exception as exc:  # IAM is not enforced locally; a policy moto rejects is only noted
                LOG.warning("role %s: policy %s not stored: %s", lid, pol.get("PolicyName"), exc)
        # ManagedPolicyArns are not attached: IAM is not enforced and moto lacks most AWS policies.
        return name, {"Arn": role["Role"]["Arn"], "RoleId": role["Role"]["RoleId"]}

    def _create_DynamoDB_Table(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        ddb = self.client("dynamodb")
        name = props.get("TableName") or self._name(lid, 255)
        kwargs: dict[str, Any] = {
            "TableName": name, "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput",
                    "StreamSpecification", "TableClass", "DeletionProtectionEnabled"):
            if key in props:
                kwargs[key] = props[key]
        if kwargs["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in kwargs:
            kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        if props.get("Tags"):
            kwargs["Tags"] = self._tags(props)
        desc = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        self.tables[lid] = name
        return name, {"Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")}

    def _create_Lambda_Function(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        lam = self.client("lambda")
        name = props.get("FunctionName") or self._name(lid)
        env = {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("README", f"{lid} runs in-process from {props.get('Code')}")
        kwargs: dict[str, Any] = {
            "FunctionName": name, "Runtime": props.get("Runtime", "python3.11"), "Role": props["Role"],
            "Handler": props["Handler"], "Code": {"ZipFile": buf.getvalue()},
            "Timeout": int(props.get("Timeout", 3)), "MemorySize": int(props.get("MemorySize", 128)),
            "Environment": {"Variables": env},
        }
        for key in ("Architectures", "Description", "DeadLetterConfig", "TracingConfig"):
            if key in props:
                kwargs[key] = props[key]
        if props.get("Tags"):
            kwargs["Tags"] = {t["Key"]: t["Value"] for t in self._tags(props)}
        fn = lam.create_function(**kwargs)
        arn = fn["FunctionArn"]
        self._specs[lid] = FunctionSpec(lid, name, arn, props["Handler"], kwargs["MemorySize"], kwargs["Timeout"],
                                        env, (props.get("DeadLetterConfig") or {}).get("TargetArn"))
        self.functions[lid] = name
        return name, {"Arn": arn}

    def _create_Lambda_EventSourceMapping(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        keys = ("EventSourceArn", "FunctionName", "BatchSize", "Enabled", "StartingPosition",
                "MaximumBatchingWindowInSeconds", "FunctionResponseTypes")
        resp = self.client("lambda").create_event_source_mapping(**{k: props[k] for k in keys if k in props})
        return resp["UUID"], {"Id": resp["UUID"]}

    def _create_StepFunctions_StateMachine(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("StateMachineName") or self._name(lid, 80)
        definition = load_definition(props, self._resolver)
        kwargs: dict[str, Any] = {"name": name, "definition": definition, "roleArn": props["RoleArn"],
                                  "type": props.get("StateMachineType", "STANDARD")}
        if props.get("Tags"):
            kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in self._tags(props)]
        arn = self.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
        self.state_machines[lid] = arn
        return arn, {"Arn": arn, "Name": name}

    def _create_Events_EventBus(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props["Name"]
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.buses[lid] = name
        return name, {"Arn": arn, "Name": name}

    def _create_Events_Rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        events = self.client("events")
        name = props.get("Name") or self._name(lid)
        bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("ScheduleExpression", "RoleArn", "Description"):
            if key in props:
                kwargs[key] = props[key]
        arn = events.put_rule(**kwargs)["RuleArn"]
        targets = props.get("Targets") or []
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if "ScheduleExpression" in props:
            self._add_schedule(Schedule(lid, name, arn, props["ScheduleExpression"], targets, "rule",
                                        kwargs["State"] == "ENABLED"))
        self.rules[lid] = name
        return (name if bus == "default" else f"{bus}|{name}"), {"Arn": arn}

    def _create_Scheduler_Schedule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._name(lid)
        kwargs: dict[str, Any] = {
            "Name": name, "ScheduleExpression": props["ScheduleExpression"], "Target": props["Target"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            "State": props.get("State", "ENABLED"),
        }
        for key in ("GroupName", "Description", "ScheduleExpressionTimezone"):
            if key in props:
                kwargs[key] = props[key]
        arn = self.client("scheduler").create_schedule(**kwargs)["ScheduleArn"]
        self._add_schedule(Schedule(lid, name, arn, props["ScheduleExpression"], [props["Target"]], "scheduler",
                                    kwargs["State"] == "ENABLED"))
        return name, {"Arn": arn}

    def _create_SQS_Queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        sqs = self.client("sqs")
        name = props.get("QueueName") or self._name(lid, 80 - (5 if props.get("FifoQueue") else 0))
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
                      for k, v in props.items() if k not in ("QueueName", "Tags")}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        self.queues[lid] = url
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_KMS_Key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        meta = self.client("kms").create_key(Description=str(props.get("Description", lid)))["KeyMetadata"]
        return meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def _create_SNS_Topic(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("TopicName") or self._name(lid, 256)
        attrs = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
        arn = self.client("sns").create_topic(Name=name, Attributes=attrs)["TopicArn"]
        for sub in props.get("Subscription") or []:
            self.client("sns").subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        self.topics[lid] = arn
        return arn, {"TopicArn": arn, "TopicName": name, "Arn": arn}

    def _create_SES_EmailIdentity(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Verified in SES v1 and v2 so both APIs accept it as a sender."""
        identity = props["EmailIdentity"]
        if "@" in identity:
            self.client("ses").verify_email_identity(EmailAddress=identity)
        else:
            self.client("ses").verify_domain_identity(Domain=identity)
        with contextlib.suppress(Exception):  # moto shares the store; v2 may already know it
            self.client("sesv2").create_email_identity(EmailIdentity=identity)
        return identity, {}

    def _create_SES_ConfigurationSet(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._name(lid)
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        return name, {}

    def _create_SES_ConfigurationSetEventDestination(
        self, lid: str, props: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """Recorded in moto; moto never produces bounces, so tests publish SES notifications to the
        topic themselves (see tests/e2e/test_bounces.py)."""
        dest = dict(props["EventDestination"])
        name = dest.pop("Name", None) or self._name(lid)
        sns = dest.pop("SnsDestination", None)
        destination: dict[str, Any] = {"Name": name, "Enabled": bool(dest.get("Enabled", True)),
                                       "MatchingEventTypes": [t.lower() for t in dest.get("MatchingEventTypes", [])]}
        if sns:
            destination["SNSDestination"] = {"TopicARN": sns["TopicARN"]}
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=props["ConfigurationSetName"], EventDestination=destination)
        return name, {}

    def _create_SNS_Subscription(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """SNS → Lambda deliveries go through moto's SNS, which invokes the (patched, in-process) Lambda."""
        arn = self.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                           Endpoint=props["Endpoint"])["SubscriptionArn"]
        return arn, {"Arn": arn}

    def _create_CloudWatch_Alarm(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("AlarmName") or self._name(lid, 255)
        kwargs = {k: v for k, v in props.items() if k not in ("AlarmName", "Tags")}
        if "Threshold" in kwargs:
            kwargs["Threshold"] = float(kwargs["Threshold"])
        for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if k in kwargs:
                kwargs[k] = int(kwargs[k])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
        return name, {"Arn": self._arn("cloudwatch", f"alarm:{name}")}

    def _create_Logs_LogGroup(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("LogGroupName") or self._name(lid, 512)
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return name, {"Arn": self._arn("logs", f"log-group:{name}:*")}

    def _create_ApiGatewayV2_Api(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Recorded only: moto has no HTTP API data plane; :mod:`infra.httpapi` serves the routes."""
        api_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.stack_name}.{lid}").hex[:10]
        endpoint = f"https://{api_id}.execute-api.{self.region}.amazonaws.com"
        return api_id, {"ApiId": api_id, "ApiEndpoint": endpoint, "Arn": self._arn("apigateway", f"/apis/{api_id}")}

    def _record_apigw(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        rid = uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.stack_name}.{lid}").hex[:7]
        return (props.get("StageName") or rid), {"Id": rid}

    _create_ApiGatewayV2_Stage = _record_apigw
    _create_ApiGatewayV2_Route = _record_apigw
    _create_ApiGatewayV2_Integration = _record_apigw
    _create_ApiGatewayV2_Authorizer = _record_apigw

    def _build_routes(self, resources: dict[str, Any]) -> list[Any]:
        from infra.httpapi import routes_from_template

        resolved = {}
        for lid, res in resources.items():
            if res["Type"].startswith("AWS::ApiGatewayV2::") and lid in self.resources:
                resolved[lid] = {"Type": res["Type"], "Properties": self._resolver.resolve(res.get("Properties") or {})}
        return routes_from_template(resolved)

    # -- environment -----------------------------------------------------------------------------
    def _apply_environment(self) -> None:
        """Set os.environ to the union of all functions' variables (they run in one process).

        Swapping os.environ per invocation is not thread-safe (Map/Parallel states and the HTTP
        server run handlers concurrently), so a key with two different values is a template error.
        """
        union: dict[str, tuple[str, str]] = {}
        for lid, spec in self._specs.items():
            for k, v in spec.environment.items():
                if k in union and union[k][1] != v:
                    raise TemplateError(
                        f"environment variable {k} differs between {union[k][0]} ({union[k][1]!r}) and {lid} "
                        f"({v!r}); functions share one process locally: put shared config in Globals "
                        "or give the variables distinct names")
                union[k] = (lid, v)
        os.environ.update({k: v for k, (_, v) in union.items()})

    def env(self, logical_id: str) -> dict[str, str]:
        """The resolved Environment.Variables of a function."""
        return dict(self._specs[logical_id].environment)

    # -- functions ---------------------------------------------------------------------------------
    def _spec_by_name(self, name: str) -> FunctionSpec | None:
        for spec in self._specs.values():
            if name in (spec.name, spec.arn):
                return spec
        return None

    def _spec_by_arn(self, arn: str) -> FunctionSpec:
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        spec = self._spec_by_name(name)
        if spec is None:
            raise KeyError(f"no function {arn} in the template")
        return spec

    def invoke(self, logical_id: str, event: Any = None) -> Any:
        """Run a function's handler in-process (event JSON-round-tripped); exceptions propagate."""
        spec = self._specs[logical_id]
        return invoke_handler(spec, json.loads(json.dumps(event if event is not None else {})))

    def _invoke_arn(self, arn: str, event: Any) -> Any:
        return invoke_handler(self._spec_by_arn(arn), event)

    # -- EventBridge --------------------------------------------------------------------------------
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

    def _envelope(self, moto_event: dict[str, Any]) -> dict[str, Any]:
        """moto's event message as EventBridge delivers it (ISO time, no moto-only keys)."""
        event = {k: v for k, v in moto_event.items() if k != "ingestion-time"}
        t = event.get("time")
        if isinstance(t, int | float):
            real = abs(t - time.time()) < 5
            event["time"] = _iso(self.clock.now() if real else datetime.fromtimestamp(t, UTC))
        return event

    def _dispatch(self, job: Callable[[], None]) -> None:
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

    def _deliver(self, source_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
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
                    invoke_handler(self._spec_by_arn(arn), json.loads(json.dumps(payload)))
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
            dlq = self._spec_by_arn(arn).dead_letter_arn
        if dlq:
            self._send_to_dlq(dlq, event, error_payload(error), source_arn=source_arn, target_arn=arn)
        else:
            LOG.error("delivery of %s to %s failed, no DLQ: %s: %s", event.get("detail-type"), arn,
                      type(error).__name__, error)

    def _queue_url(self, arn: str) -> str:
        name = arn.rsplit(":", 1)[-1]
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def _send_to_dlq(self, dlq_arn: str, event: Any, error: dict[str, Any], *, source_arn: str,
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

    # -- schedules ---------------------------------------------------------------------------------
    def _add_schedule(self, schedule: Schedule) -> None:
        schedule.period = schedule_period(schedule.expression)
        if schedule.period is not None:
            schedule.next_due = self.clock.now() + schedule.period
        else:
            try:
                schedule.cron = CronExpression(schedule.expression)
                schedule.cursor = self.clock.now()
            except ValueError as exc:
                LOG.info("schedule %s fires only through run_schedule(): %s", schedule.logical_id, exc)
        self.schedules[schedule.logical_id] = schedule

    def advance(self, delta: timedelta, *, coalesce: bool = False) -> list[str]:
        """Move the clock forward, firing every rate()/cron() schedule that fell due, in time order.

        Each firing happens with the clock set to its due time. With ``coalesce=True`` a schedule
        that fell due several times fires once, at its last due time. Returns the logical ids fired.
        """
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        end = self.clock.now() + delta
        fired: list[str] = []
        while True:
            due = [(when, s) for s in self.schedules.values() if (when := s.due(end)) is not None]
            if not due:
                break
            when, sched = min(due, key=lambda pair: pair[0])
            if coalesce:
                while True:
                    sched.fired(when)
                    later = sched.due(end)
                    if later is None:
                        break
                    when = later
                sched.next_due = when
            self._set_clock(when)
            sched.fired(when)
            self._fire(sched)
            self.wait_idle()  # async delivery: let the target run while the clock shows its due time
            fired.append(sched.logical_id)
        self._set_clock(end)
        return fired

    def _set_clock(self, when: datetime) -> None:
        offset = when - datetime.now(UTC)
        if offset > self.clock.offset:
            self.clock._set_offset(offset)

    def run_schedule(self, logical_id_or_name: str) -> None:
        """Fire one schedule now (by logical id or rule/schedule name)."""
        for sched in self.schedules.values():
            if logical_id_or_name in (sched.logical_id, sched.name):
                self._fire(sched)
                return
        raise KeyError(f"no schedule {logical_id_or_name!r}; have {sorted(self.schedules)}")

    def _fire(self, sched: Schedule) -> None:
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": _iso(self.clock.now()), "region": self.region,
            "resources": [sched.arn], "detail": {},
        }
        for target in sched.targets:
            if sched.kind == "scheduler" and "Input" not in target:
                target = {**target, "Input": "{}"}  # EventBridge Scheduler's default payload
            self._dispatch(functools.partial(self._deliver, sched.arn, target, event))

    # -- outbox --------------------------------------------------------------------------------------
    def _record_mail(self, sender: str, to: list[str], subject: str, text: str | None, html: str | None,
                     message_id: str, cc: list[str] | None = None, bcc: list[str] | None = None) -> None:
        msg = email.message.EmailMessage(policy=email.policy.SMTP)
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = subject
        msg["Date"] = self.clock.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        msg["Message-ID"] = f"<{message_id}@email.amazonses.com>"
        msg.set_content(text or "")
        if html:
            msg.add_alternative(html, subtype="html")
        self._write_mail(msg.as_bytes(), OutboxMessage(list(to), sender, subject, text, html, Path(), message_id,
                                                       list(cc or []), list(bcc or [])))

    def _record_raw_mail(self, raw: str, message_id: str, destinations: list[str]) -> None:
        parsed = message_from_string(raw, policy=email.policy.default)
        text = html = None
        for part in parsed.walk():
            ctype = part.get_content_type()
            if ctype == "text/plain" and text is None and not part.is_attachment():
                text = part.get_content()  # type: ignore[attr-defined]
            elif ctype == "text/html" and html is None and not part.is_attachment():
                html = part.get_content()  # type: ignore[attr-defined]
        to = [a.strip() for a in str(parsed.get("To", "")).split(",") if a.strip()] or list(destinations)
        self._write_mail(raw.encode(), OutboxMessage(to, str(parsed.get("From", "")), str(parsed.get("Subject", "")),
                                                     text, html, Path(), message_id))

    def _write_mail(self, data: bytes, message: OutboxMessage) -> None:
        with self._lock:
            self._mail_seq += 1
            slug = re.sub(r"[^a-z0-9]+", "-", message.subject.lower()).strip("-")[:40] or "mail"
            message.path = self.outbox_dir / f"{self._mail_seq:04d}-{slug}.eml"
            message.path.write_bytes(data)
            self.outbox.append(message)

    # -- Step Functions helpers ---------------------------------------------------------------------
    def execution_history(self, arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        return events

    def wait_execution(self, arn: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30) -> dict[str, Any]:
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
            for ev in self.execution_history(arn):
                details = ev.get("stateEnteredEventDetails")
                if details and details.get("name") == state_name:
                    return ev
            desc = self.client("stepfunctions").describe_execution(executionArn=arn)
            if desc["status"] in TERMINAL:
                raise RuntimeError(f"{arn} ended {desc['status']} without entering {state_name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{arn} did not enter {state_name} within {timeout}s")
            time.sleep(0.02)

    def executions(self, logical_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        out: list[dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machines[logical_id]):
            out.extend(page["executions"])
        return out

    # -- HTTP API and tokens -------------------------------------------------------------------------
    def _start_http(self) -> None:
        from infra.httpapi import HttpApiServer

        self._server = HttpApiServer(self.routes, self._invoke_arn, port=self.port)
        self._server.start()
        self.api_url = self._server.url

    def _jwt_settings(self) -> tuple[str, str]:
        for route in self.routes:
            if route.authorizer is not None:
                return route.authorizer.issuer, (route.authorizer.audience or [""])[0]
        raise LookupError("the template's HTTP API has no JWT authorizer")

    def mint_token(self, email: str, *, sub: str | None = None, email_verified: bool = True,
                   name: str | None = None, ttl: int | None = None, extra: dict[str, Any] | None = None) -> str:
        """An ID token from the stack's IdP, by a real sign-in (see ``oidc.mint``)."""
        assert self.idp is not None, "the stack is not started"
        return oidc.mint(self.idp, self._jwt_settings()[1], email, sub=sub, email_verified=email_verified,
                         name=name, ttl=ttl, extra=extra)

    def describe(self) -> Iterator[str]:
        """Human-readable lines about what runs (used by ``python -m infra.serve``)."""
        for lid, (rtype, phys) in sorted(self.resources.items()):
            yield f"  {rtype:<36} {lid:<40} {phys}"
        for lid, rtype in sorted(self.skipped.items()):
            yield f"  (not emulated) {rtype} {lid}"
        for route in self.routes:
            auth = route.authorizer.name if route.authorizer else "none"
            yield f"  route {route.route_key:<40} auth={auth}"
