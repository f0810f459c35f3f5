"""The template's Lambda functions, run in-process (moto wants Docker).

Keeps one :class:`FunctionSpec` per function, applies their environment to the process, and
patches moto's ``LambdaFunction.invoke`` so Step Functions tasks, ``lambda.invoke`` calls, SNS and
SQS deliveries all run the real handler code.
"""

from __future__ import annotations

import json
import os
from typing import Any

from infra.lambda_runtime import FunctionSpec, invoke_handler, invoke_serialized
from infra.localstack.process import Patch, require_active
from infra.template import TemplateError


class Functions:
    """The functions the template declares, by logical id."""

    def __init__(self) -> None:
        self.specs: dict[str, FunctionSpec] = {}
        self.names: dict[str, str] = {}  # logical id -> function name

    def add(self, spec: FunctionSpec) -> None:
        self.specs[spec.logical_id] = spec
        self.names[spec.logical_id] = spec.name

    def apply_environment(self) -> None:
        """Set os.environ to the union of all functions' variables (they run in one process).

        Swapping os.environ per invocation is not thread-safe (Map/Parallel states and the HTTP
        server run handlers concurrently), so a key with two different values is a template error.
        """
        union: dict[str, tuple[str, str]] = {}
        for lid, spec in self.specs.items():
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
        return dict(self.specs[logical_id].environment)

    def by_name(self, name: str) -> FunctionSpec | None:
        for spec in self.specs.values():
            if name in (spec.name, spec.arn):
                return spec
        return None

    def by_arn(self, arn: str) -> FunctionSpec:
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        spec = self.by_name(name)
        if spec is None:
            raise KeyError(f"no function {arn} in the template")
        return spec

    def invoke(self, logical_id: str, event: Any = None) -> Any:
        """Run a function's handler in-process (event JSON-round-tripped); exceptions propagate."""
        spec = self.specs[logical_id]
        return invoke_handler(spec, json.loads(json.dumps(event if event is not None else {})))

    def invoke_arn(self, arn: str, event: Any) -> Any:
        return invoke_handler(self.by_arn(arn), event)


def _patched_invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """Replaces ``moto.awslambda.models.LambdaFunction.invoke``.

    WHY: moto runs function code in Docker. This runs the configured ``Handler`` in-process and
    answers like the real runtime: an exception becomes ``x-amz-function-error: Unhandled`` plus
    ``{"errorType": <class name>, ...}``, which is what Step Functions Retry/Catch match on.
    """
    stack = require_active()
    spec = stack.lambdas.by_name(fn.function_name) or FunctionSpec(
        fn.function_name, fn.function_name, fn.function_arn, fn.handler, int(fn.memory_size), int(fn.timeout)
    )
    payload, errored = invoke_serialized(spec, body)
    inv_type = (request_headers or {}).get("x-amz-invocation-type") or "RequestResponse"
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
        if inv_type == "Event" and spec.dead_letter_arn:
            stack.eventbridge.send_to_dlq(spec.dead_letter_arn, body, json.loads(payload), source_arn=spec.arn)
    return b"" if inv_type == "Event" else payload


_LOADER: Any = None


def _botocore_session() -> Any:
    """Replaces ``pynamodb.connection.base.get_session``: a botocore session sharing one data loader.

    WHY: PynamoDB gives each model class its own connection, and each creates a botocore session whose
    first client parses botocore's endpoint and service models (~1 MB of JSON). A Lambda instance does
    that once per model; here every function's cold start re-binds every model, in one process, which
    made client creation a third of a test run's CPU. The loader only caches parsed, read-only data.
    """
    global _LOADER
    session = GET_SESSION.original()
    if _LOADER is None:
        _LOADER = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _LOADER)
    return session


INVOKE = Patch("moto.awslambda.models", "LambdaFunction", "invoke", _patched_invoke)
GET_SESSION = Patch("pynamodb.connection.base", "", "get_session", _botocore_session)
PATCHES = (INVOKE, GET_SESSION)
