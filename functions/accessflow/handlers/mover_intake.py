"""HR mover events from the bus: ``member.change.requested`` (its own rule and function, so the
joiner/leaver intake stays as it is).

The same rules as the other HR events: a malformed event goes to the intake dead-letter queue with
the reason and is counted; Powertools idempotency keyed on (business_id, idempotency_key) and a
deterministic execution name (from the move id) make any number of deliveries start one execution.
"""

from __future__ import annotations

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

DETAIL_TYPE = "member.change.requested"


def _settings() -> config.MoverIntakeSettings:
    return config.load(config.MoverIntakeSettings)


@cache
def _idempotent_start() -> Any:
    from accessflow.handlers.intake import idempotent_on_request

    settings = _settings()

    def start(request: dict[str, Any]) -> dict[str, Any]:
        from accessflow.adapters.workflow import StepFunctionsWorkflow
        from accessflow.usecases.mover import execution_name, move_id_for

        move_id = move_id_for(request["business_id"], request["idempotency_key"])
        arn = StepFunctionsWorkflow().start(
            settings.mover_state_machine_arn, execution_name(move_id),
            {"business_id": request["business_id"], "move_id": move_id, "source": "hr", "request": request})
        return {"status": "started", "move_id": move_id, "execution_arn": arn}

    return idempotent_on_request(settings.idempotency_table_name, start)


def _dead_letter(event: dict[str, Any], reason: str) -> dict[str, Any]:
    from accessflow.handlers.intake import dead_letter

    dead_letter(event, reason, queue_url=_settings().dead_letter_queue_url)
    return {"status": "dead-lettered", "reason": reason}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.handlers.intake import _reason

    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(event, dict) or event.get("detail-type") != DETAIL_TYPE or not isinstance(detail, dict):
        return _dead_letter(event, f"not a {DETAIL_TYPE} event")
    try:
        request = schemas.MemberChangeRequested.model_validate(detail)
    except pydantic.ValidationError as exc:
        return _dead_letter(event, _reason(exc))
    start, idem = _idempotent_start()
    idem.register_lambda_context(context)
    result: dict[str, Any] = start(request=request.model_dump(mode="json"))
    metrics.add_metric(name="MoveRequests", unit=MetricUnit.Count, value=1)
    logger.info("move started", extra=result)
    return result
