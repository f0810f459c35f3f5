"""One logger, tracer and metrics for every function (service name and namespace from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
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


__all__ = ["MetricUnit", "configure_from_environment", "logger", "metrics", "tracer"]
