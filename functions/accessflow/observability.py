"""One logger, tracer and metrics for every function (service name and namespace from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE)."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

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
tracer = Tracer()
metrics = Metrics()


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


__all__ = ["REDACTED", "MetricUnit", "RedactTokens", "configure_from_environment", "logger", "metrics", "redact",
           "tracer"]
