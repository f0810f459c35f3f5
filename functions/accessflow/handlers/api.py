"""Lambda entry point of the HTTP API (API Gateway HTTP API, JWT authorizer): admins and invitees.

Thin routes (``handlers/routes/``): authenticate (claims from the authorizer), authorize through the
domain's permission matrix, call one use case, answer. Every refusal is ``application/problem+json``.
"""

from __future__ import annotations

import threading
from typing import Any

from accessflow.handlers import routes  # noqa: F401  (registers the routes)
from accessflow.handlers.http import app, malformed_body, settings
from accessflow.handlers.routes.audit import openapi_document
from accessflow.observability import logger, metrics, tracer

__all__ = ["app", "handler", "openapi_document"]

# Powertools' resolver keeps the current request on the module-level ``app`` (``app.context``,
# ``app.current_event``): one request at a time, as Lambda gives each execution environment. The
# local stack serves a browser's parallel requests (a page's assets) from threads of one process, so
# they take turns here; on Lambda the lock is never contended.
_ONE_REQUEST_AT_A_TIME = threading.Lock()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings()
    with _ONE_REQUEST_AT_A_TIME:
        return malformed_body(event) or app.resolve(event, context)
