"""AccessFlow's embedded local AWS: ``template.yaml`` materialised on moto, in-process.

The stack translates the SAM template offline, creates every resource it declares with boto3
calls inside ``moto.mock_aws`` (the template is the only source of what exists), and fills the
gaps of moto that matter for this app, one module per emulated concern:

* :mod:`.resources` — template translation and resource creation;
* :mod:`.functions` — Lambda code runs in-process (moto wants Docker);
* :mod:`.eventbridge` — rules deliver to Lambda functions and state machines (moto raises
  ``NotImplementedError``), with retries and dead-letter queues; every event put on a bus is tapped;
* :mod:`.schedules` — the stack's clock; schedules fire when it is advanced;
* :mod:`.outbox` — every e-mail sent through SES is written to an outbox as an ``.eml`` file;
* :mod:`.api` — the HTTP API and its JWT authorizer served on localhost, tokens from the local IdP;
* :mod:`.endpoint` — an AWS-compatible endpoint on localhost on the same backends (``aws_port``);
* :mod:`.stepfunctions` — waiting on and reading executions;
* :mod:`.dynamodb` — DynamoDB requests made atomic, as in AWS;
* :mod:`.process` — what is process-global: the active stack, the boto3 session, moto's patches.

:class:`LocalStack` is the facade tests and tools use. Only one stack can be active per process:
moto's backends and the patches are process-global.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra import oidc
from infra.localstack import dynamodb, eventbridge, functions, outbox, process, stepfunctions
from infra.localstack.api import HttpApi
from infra.localstack.endpoint import AwsEndpoint
from infra.localstack.eventbridge import EventBridge
from infra.localstack.functions import Functions
from infra.localstack.outbox import Outbox, OutboxMessage
from infra.localstack.resources import NO_OP_TYPES, REPO_ROOT, Resources
from infra.localstack.schedules import CronExpression, Schedule, Scheduler, StackClock, schedule_period
from infra.localstack.stepfunctions import TERMINAL, Executions

__all__ = ["NO_OP_TYPES", "TERMINAL", "CronExpression", "LocalStack", "OutboxMessage", "Schedule", "StackClock",
           "schedule_period"]

PATCHES = (*functions.PATCHES, *eventbridge.PATCHES, *outbox.PATCHES, *dynamodb.PATCHES, *stepfunctions.PATCHES)


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
        aws_port: int | None = None,
    ) -> None:
        """``aws_port``: also serve an AWS-compatible endpoint on 127.0.0.1 (0 = a free port), URL in
        :attr:`aws_endpoint_url`."""
        self.template_path = Path(template_path or REPO_ROOT / "template.yaml").resolve()
        self.outbox_dir = Path(outbox_dir) if outbox_dir else REPO_ROOT / ".local" / "outbox"
        self.serve_http = serve_http
        self.port = port
        self.parameters = dict(parameters or {})
        self.stack_name = stack_name
        self.region = region
        self.async_events = async_events
        self.api_url: str | None = None
        self.aws_endpoint_url: str | None = None

        self.clock = StackClock()
        self.lambdas = Functions()
        self.eventbridge = EventBridge(self.client, self.clock, self.lambdas, async_events=async_events)
        self.scheduler = Scheduler(self.clock, region, self.eventbridge.dispatch, self.eventbridge.deliver,
                                   self.eventbridge.wait_idle)
        self.sfn = Executions(self.client)
        self.mail = Outbox(self.outbox_dir, self.clock.now)
        self.built = Resources(self.template_path, region=region, stack_name=stack_name, parameters=self.parameters,
                               client=self.client, functions=self.lambdas, executions=self.sfn,
                               eventbridge=self.eventbridge, scheduler=self.scheduler)
        self.http = HttpApi(self.built.routes, self.lambdas.invoke_arn, port=port,
                            lock_key=lambda arn: self.lambdas.by_arn(arn).handler)  # one request per handler
        self.aws = AwsEndpoint(port=aws_port) if aws_port is not None else None

        # What the stack holds, by logical id (the components own these containers).
        self.resources = self.built.resources
        self.ignored = self.built.ignored
        self.skipped = self.built.skipped
        self.excluded = self.built.excluded
        self.tables = self.built.tables
        self.queues = self.built.queues
        self.topics = self.built.topics
        self.rules = self.built.rules
        self.routes = self.built.routes
        self.functions = self.lambdas.names
        self.state_machines = self.sfn.state_machines
        self.buses = self.eventbridge.buses
        self.schedules = self.scheduler.schedules
        self.events = self.eventbridge.events
        self.delivery_failures = self.eventbridge.delivery_failures
        self.outbox: list[OutboxMessage] = self.mail.messages

        self._mock: Any = None
        self._saved_env: dict[str, str] | None = None

    @property
    def template(self) -> dict[str, Any]:
        return self.built.template

    @property
    def idp(self) -> oidc.LocalIdP | None:
        """The OpenID Connect provider whose ID tokens the HTTP API accepts (started with the stack)."""
        return self.http.idp

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> LocalStack:
        import moto

        process.activate(self)
        self._saved_env = dict(os.environ)
        os.environ.update({
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing", "TZ": "UTC",
        })
        os.environ.pop("AWS_PROFILE", None)
        time.tzset()
        try:
            self.built.translate()
            self._mock = moto.mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
            process.install(PATCHES)
            self.http.start_idp(self.parameters)
            self.mail.open()
            self.built.add_code_paths()
            self.built.create_all()
            self.lambdas.apply_environment()
            self.eventbridge.start()
            if self.serve_http:
                self.http.start()
                self.api_url = self.http.url
            if self.aws is not None:
                self.aws.start()
                self.aws_endpoint_url = self.aws.url
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if process.active() is not self:
            return
        if self.aws is not None:
            self.aws.stop()
        self.http.stop()
        self.eventbridge.stop()
        self.clock._set_offset(timedelta(0))
        if self._mock is not None:
            self.sfn.stop_running()
        process.remove()
        if self._mock is not None:
            with contextlib.suppress(Exception):
                self._mock.stop()
            self._mock = None
        self.built.remove_code_paths()
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
            time.tzset()
        process.deactivate(self)

    def client(self, service: str) -> Any:
        """A boto3 client bound to the mock (cached per service)."""
        return process.client(service, self.region)

    # -- functions -----------------------------------------------------------------------------------
    def env(self, logical_id: str) -> dict[str, str]:
        """The resolved Environment.Variables of a function."""
        return self.lambdas.env(logical_id)

    def invoke(self, logical_id: str, event: Any = None) -> Any:
        """Run a function's handler in-process (event JSON-round-tripped); exceptions propagate."""
        return self.lambdas.invoke(logical_id, event)

    # -- EventBridge and schedules -------------------------------------------------------------------
    def put_event(self, detail_type: str, detail: dict[str, Any], source: str = "hr.test",
                  bus: str | None = None) -> str:
        """Put one event on a bus (default: the template's only custom bus); returns its id."""
        return self.eventbridge.put_event(detail_type, detail, source, bus)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until queued EventBridge deliveries are done (immediate when delivery is synchronous)."""
        return self.eventbridge.wait_idle(timeout)

    def advance(self, delta: timedelta, *, coalesce: bool = False) -> list[str]:
        """Move the clock forward, firing every schedule that fell due (see :meth:`Scheduler.advance`)."""
        return self.scheduler.advance(delta, coalesce=coalesce)

    def run_schedule(self, logical_id_or_name: str) -> None:
        """Fire one schedule now (by logical id or rule/schedule name)."""
        self.scheduler.run_schedule(logical_id_or_name)

    # -- Step Functions ------------------------------------------------------------------------------
    def execution_history(self, arn: str) -> list[dict[str, Any]]:
        return self.sfn.history(arn)

    def wait_execution(self, arn: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30) -> dict[str, Any]:
        """Poll describe_execution until its status is one of ``statuses``."""
        return self.sfn.wait(arn, statuses, timeout)

    def wait_for_state(self, arn: str, state_name: str, timeout: float = 30) -> dict[str, Any]:
        """Poll the history until ``state_name`` was entered; returns that history event."""
        return self.sfn.wait_for_state(arn, state_name, timeout)

    def executions(self, logical_id: str) -> list[dict[str, Any]]:
        return self.sfn.of(logical_id)

    # -- HTTP API and tokens -------------------------------------------------------------------------
    def mint_token(self, email: str, *, sub: str | None = None, email_verified: bool = True,
                   name: str | None = None, ttl: int | None = None, extra: dict[str, Any] | None = None) -> str:
        """An ID token from the stack's IdP, by a real sign-in (negative ``ttl`` gives an expired one)."""
        return self.http.mint_token(email, sub=sub, email_verified=email_verified, name=name, ttl=ttl, extra=extra)

    def describe_aws_endpoint(self) -> Iterator[str]:
        """Where an integrator points the AWS CLI or an SDK (used by ``python -m infra.serve``)."""
        if self.aws_endpoint_url is None:
            return
        yield f"AWS endpoint: {self.aws_endpoint_url}   (--endpoint-url; any access key, region {self.region})"
        for lid, name in sorted(self.buses.items()):
            yield f"  event bus {lid}: {name}"
        for lid, url in sorted(self.queues.items()):
            yield f"  queue {lid}: {url}"
        for lid, arn in sorted(self.state_machines.items()):
            yield f"  state machine {lid}: {arn}"
        for lid, name in sorted(self.tables.items()):
            yield f"  table {lid}: {name}"

    def describe(self) -> Iterator[str]:
        """Human-readable lines about what runs (used by ``python -m infra.serve``)."""
        for lid, (rtype, phys) in sorted(self.resources.items()):
            yield f"  {rtype:<36} {lid:<40} {phys}"
        for lid, rtype in sorted(self.skipped.items()):
            yield f"  (not emulated) {rtype} {lid}"
        for route in self.routes:
            auth = route.authorizer.name if route.authorizer else "none"
            yield f"  route {route.route_key:<40} auth={auth}"
