"""One logger, tracer and metrics for every function (service name and namespace from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).

The tracer is lazy: Powertools' ``Tracer()`` imports the X-Ray SDK (about 100 ms of a cold start on
its own, more than ``import boto3``) even where tracing is off. Here the SDK is imported only when
tracing is on, by Powertools' own rule: inside Lambda (``LAMBDA_TASK_ROOT``), not under SAM local or
Chalice, and ``POWERTOOLS_TRACE_DISABLED`` not true. Deployed with ``Tracing: Active`` nothing changes;
everywhere else (tests, the local stack, the benchmark) the handlers are not wrapped at all.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])

# An invitation link token in a query string (token=...) or a JSON body ("token": "..."): a secret.
_TOKEN = re.compile(r"""(?i)(\btoken(?:%22|["'])?\s*(?:=|:|%3D)\s*(?:%22|["'])?)[A-Za-z0-9_\-~.%]{8,}""")
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """``value`` (a string, or a dict/list of them) with every link token replaced."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: m.group(1) + REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() == "token" and isinstance(v, str) else redact(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


class RedactTokens(logging.Filter):
    """No log line carries an invitation link token: the accept page's URL and the accept request's
    body hold one, and a logged event (POWERTOOLS_LOGGER_LOG_EVENT) or an error message could too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = redact(record.args)
        elif record.args:
            record.args = tuple(redact(a) for a in record.args)
        return True


logger = Logger()
logger.addFilter(RedactTokens())
metrics = Metrics()


def _serialised(method: Callable[..., Any], lock: threading.Lock) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)
    return call


def _thread_safe_metrics() -> None:
    """Powertools keeps the metric set in one process-wide dict and flushes it as "check it is not
    empty, serialise, clear". Lambda runs one invocation per process at a time, so that is safe there;
    the local stack runs every function in one process, on threads (Map and Parallel states, concurrent
    executions), where one invocation's flush could empty the set between another's check and its
    serialisation and fail that invocation with ``SchemaValidationError: Must contain at least one
    metric``. Adding and flushing under one lock makes the check-and-flush atomic; in Lambda the lock
    is never contended."""
    provider: Any = metrics.provider
    lock = threading.Lock()
    provider.add_metric = _serialised(provider.add_metric, lock)
    provider.flush_metrics = _serialised(provider.flush_metrics, lock)


_thread_safe_metrics()


def tracing_enabled() -> bool:
    """Powertools' ``Tracer._is_tracer_disabled``, inverted, without importing the X-Ray SDK."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on", "y", "t"):
        return False
    if not os.environ.get("LAMBDA_TASK_ROOT"):
        return False
    return not (os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))


class LazyTracer:
    """The parts of Powertools' ``Tracer`` the handlers use; the real one is built on first need."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    @property
    def enabled(self) -> bool:
        return tracing_enabled()

    def real(self) -> Tracer:
        """Powertools' tracer (imports the X-Ray SDK and patches botocore): only when tracing is on."""
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, fn: F) -> F:
        """Decided when the handler module is imported, like Powertools decides in ``Tracer()``."""
        if not tracing_enabled():
            return fn
        return self.real().capture_lambda_handler(fn)  # type: ignore[return-value]

    def capture_method(self, fn: F) -> F:
        if not tracing_enabled():
            return fn
        return self.real().capture_method(fn)  # type: ignore[return-value]


tracer = LazyTracer()


def configure_from_environment() -> None:
    """Called when a function loads its settings. In Lambda the environment exists before any import,
    so this changes nothing; where a module was imported before the environment was set (a test
    process importing handlers first), it picks up the template's service name and namespace."""
    if metrics.namespace is None and os.environ.get("POWERTOOLS_METRICS_NAMESPACE"):
        metrics.namespace = os.environ["POWERTOOLS_METRICS_NAMESPACE"]
    service = os.environ.get("POWERTOOLS_SERVICE_NAME")
    if service and metrics.service in (None, "service_undefined"):
        metrics.service = service
    if service and logger.service == "service_undefined":
        logger.service = service
        logger.append_keys(service=service)


__all__ = ["REDACTED", "LazyTracer", "MetricUnit", "RedactTokens", "configure_from_environment", "logger", "metrics",
           "redact", "tracer", "tracing_enabled"]
