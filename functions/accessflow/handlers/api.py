"""Lambda entry point of the HTTP API (API Gateway HTTP API, JWT authorizer): admins and invitees.

Thin routes (``handlers/routes/``): authenticate (claims from the authorizer), authorize through the
domain's permission matrix, call one use case, answer. Every refusal is ``application/problem+json``.

The resolver, its routes and their models are built by the first request, not at cold start
(``infra/benchmarks/cold_start.py`` measures the import of this module); ``app`` and
``openapi_document`` are still importable from here.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from accessflow.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

__all__ = ["app", "handler", "openapi_document"]  # noqa: F822  (app, openapi_document: __getattr__)


@cache
def resolver() -> APIGatewayHttpResolver:
    """The resolver with every route registered (once per execution environment)."""
    from accessflow.handlers import routes  # noqa: F401  (registers the routes)
    from accessflow.handlers.http import app

    return app


def __preload__() -> None:
    """Build the resolver and import what the routes call (``accessflow.lazy.preload``)."""
    resolver()


def __getattr__(name: str) -> Any:
    if name == "app":
        return resolver()
    if name == "openapi_document":
        resolver()
        from accessflow.handlers.routes.audit import openapi_document

        return openapi_document
    raise AttributeError(name)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    app = resolver()
    from accessflow.handlers.http import malformed_body, settings

    settings()
    return malformed_body(event) or app.resolve(event, context)
