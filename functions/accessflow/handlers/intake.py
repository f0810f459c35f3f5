"""HR events from the AccessFlow bus: ``member.onboarding.requested`` (and, later, offboarding).

Delivery is at least once. Idempotency has two layers: Powertools idempotency keyed on
(business_id, idempotency_key), and a deterministic execution name, so any number of deliveries
start one execution. A malformed event is never dropped: it goes to the intake dead-letter queue
with the reason, and is counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics, tracer

if TYPE_CHECKING:
    import pydantic

    from accessflow import schemas
    from accessflow import settings as config
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    pydantic = lazy_module("pydantic")
    schemas = lazy_module("accessflow.schemas")
    config = lazy_module("accessflow.settings")


def _settings() -> config.IntakeSettings:
    return config.load(config.IntakeSettings)


def idempotent_on_request(table_name: str, start: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[Any, Any]:
    """``start(request=...)`` made idempotent on the request's (business_id, idempotency_key) for 7 days
    (Powertools, records in ``table_name``), and its config (the handler registers the Lambda context
    on it). Shared by the HR intakes (onboarding, movers). Powertools keys its records by ``start``'s
    module and qualified name, so each intake's records stay its own."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="[business_id, idempotency_key]",
                               expires_after_seconds=7 * 24 * 3600)
    persistence = DynamoDBPersistenceLayer(table_name=table_name)
    return idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)(
        start), config


@cache
def _idempotent_start() -> Any:
    settings = _settings()

    def start(request: dict[str, Any]) -> dict[str, Any]:
        from accessflow.adapters.workflow import StepFunctionsWorkflow
        from accessflow.usecases.onboarding import execution_name, invitation_id_for

        invitation_id = invitation_id_for(request["business_id"], request["idempotency_key"])
        arn = StepFunctionsWorkflow().start(
            settings.onboarding_state_machine_arn, execution_name(invitation_id),
            {"business_id": request["business_id"], "invitation_id": invitation_id, "source": "hr",
             "request": request},
        )
        return {"status": "started", "invitation_id": invitation_id, "execution_arn": arn}

    return idempotent_on_request(settings.idempotency_table_name, start)


def dead_letter(event: dict[str, Any], reason: str, queue_url: str | None = None) -> None:
    import boto3

    boto3.client("sqs").send_message(
        QueueUrl=queue_url or _settings().dead_letter_queue_url,
        MessageBody=json.dumps({"reason": reason, "event": event}, default=str),
        MessageAttributes={"ERROR_CODE": {"DataType": "String", "StringValue": "MalformedEvent"},
                           "ERROR_MESSAGE": {"DataType": "String", "StringValue": reason[:1000]}},
    )
    metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
    logger.warning("malformed HR event dead-lettered", extra={"reason": reason})


def _reason(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "detail"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        envelope = schemas.HrEvent.model_validate(event)
    except pydantic.ValidationError as exc:
        dead_letter(event, f"not an HR event: {_reason(exc)}")
        return {"status": "dead-lettered"}
    if envelope.detail_type != "member.onboarding.requested":
        from accessflow.handlers import offboarding_intake

        return offboarding_intake.handle(event, envelope.detail, context)
    try:
        request = schemas.OnboardingRequested.model_validate(envelope.detail)
    except pydantic.ValidationError as exc:
        dead_letter(event, _reason(exc))
        return {"status": "dead-lettered"}
    start, config = _idempotent_start()
    config.register_lambda_context(context)
    result: dict[str, Any] = start(request=request.model_dump(mode="json"))
    metrics.add_metric(name="OnboardingRequests", unit=MetricUnit.Count, value=1)
    logger.info("onboarding started", extra=result)
    return result
