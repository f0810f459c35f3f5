"""In-process Lambda runtime: import a function's ``Handler`` and call it like AWS would.

moto runs Lambda code in Docker; there is no Docker here, and in-process execution is faster and
lets handlers share moto's in-memory AWS. The local stack patches moto's ``LambdaFunction.invoke``
to call :func:`invoke_handler`, so Step Functions Lambda tasks, ``lambda.invoke`` calls, SQS event
source mappings and the stack's own EventBridge/HTTP deliveries all run the real handler code.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger("infra.lambda")
_import_lock = threading.Lock()


@dataclass
class FunctionSpec:
    """What the runtime needs to know about one deployed function."""

    logical_id: str
    name: str
    arn: str
    handler: str
    memory_mb: int = 128
    timeout_s: int = 3
    environment: dict[str, str] = field(default_factory=dict)
    dead_letter_arn: str | None = None


class LambdaContext:
    """The attributes and method of the Python runtime's ``LambdaContext`` that handlers use."""

    def __init__(self, name: str, arn: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = int(memory_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import ``"pkg.module.func"`` (relative to the function's code directory, on sys.path)."""
    module_name, _, func_name = handler.rpartition(".")
    if not module_name:
        raise ImportError(f"handler {handler!r} is not of the form module.function")
    with _import_lock:  # concurrent first imports from Step Functions threads
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ImportError(f"handler {handler!r}: {module_name} has no callable {func_name}")
    return func  # type: ignore[no-any-return]


def invoke_handler(spec: FunctionSpec, event: Any) -> Any:
    """Call the handler with a fresh context; exceptions propagate to the caller."""
    func = load_handler(spec.handler)
    context = LambdaContext(spec.name, spec.arn, spec.memory_mb, spec.timeout_s)
    return func(event, context)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The body the real Python runtime returns for an unhandled exception.

    Step Functions matches ``Retry``/``Catch`` ``ErrorEquals`` against ``errorType``, which is the
    exception's class name.
    """
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": [],
    }


def invoke_serialized(spec: FunctionSpec, body: str | bytes | None) -> tuple[bytes, bool]:
    """Run the handler on a JSON request body; returns (JSON response, errored)."""
    event = json.loads(body) if body else {}
    try:
        result = invoke_handler(spec, event)
    except Exception as exc:  # the runtime reports any exception as a function error
        LOG.warning("function %s raised %s: %s", spec.logical_id, type(exc).__name__, exc,
                    exc_info=LOG.isEnabledFor(logging.DEBUG))
        return json.dumps(error_payload(exc)).encode(), True
    return json.dumps(result, default=str).encode(), False
