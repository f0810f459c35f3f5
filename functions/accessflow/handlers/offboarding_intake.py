"""HR leaver events: ``member.offboarding.requested`` (routed here by :mod:`handlers.intake`).

Delivery is at least once. Idempotency has two layers, like onboarding: Powertools idempotency keyed
on (business_id, idempotency_key), and the offboarding record itself (claimed once per membership,
its execution named after it), so any number of deliveries, and an admin request racing them, give
one offboarding. A malformed event is dead-lettered with its reason; a valid one naming an unknown
business or member is rejected with a recorded reason (audit entry and ``member.offboarding.rejected``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from accessflow.adapters.clock import utcnow
from accessflow.observability import MetricUnit, logger, metrics
from accessflow.schemas import OffboardingRequested
from accessflow.settings import IntakeSettings, load
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.usecases import offboarding
from accessflow.usecases.leaver_guard import Guard


def _settings() -> IntakeSettings:
    return load(IntakeSettings)


def start_offboarding(request: dict[str, Any]) -> dict[str, Any]:
    """Resolve the member and start (or find) their offboarding. Idempotent by itself."""
    from accessflow.adapters.events import EventBridgePublisher
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    settings = _settings()
    b = request["business_id"]
    member = offboarding.resolve_member(b, member_id=request.get("member_id"),
                                        employee_id=request.get("employee_id"), email=request.get("email"))
    if member is None:
        reason = "No member of this business matches " + ", ".join(
            f"{k}={request[k]}" for k in ("member_id", "employee_id", "email") if request.get(k))
        offboarding.reject_request(b, reason, request, events=EventBridgePublisher(settings.event_bus_name),
                                   ctx=store.Context(actor=f"hr:{request['requested_by']}"), now=utcnow())
        metrics.add_metric(name="OffboardingRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "reason": reason}
    requester = offboarding.Requester("hr", request["requested_by"], request["reason"])
    # issue 11: HR leavers count against the business's leaver guard, unless flagged immediate
    guard = None if request.get("immediate") else Guard(EventBridgePublisher(settings.event_bus_name))
    item = offboarding.start(member, requester, workflow=StepFunctionsWorkflow(),
                             state_machine_arn=settings.offboarding_state_machine_arn, now=utcnow(), guard=guard)
    status = "held" if item.status == "HELD" else "started"
    return {"status": status, "member_id": member.member_id} | {
        k: v for k, v in off_store.view(item).items() if k in ("offboarding_id", "execution_arn")}


@cache
def _idempotent_start() -> Any:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="[business_id, idempotency_key]",
                               expires_after_seconds=7 * 24 * 3600)
    persistence = DynamoDBPersistenceLayer(table_name=_settings().idempotency_table_name)

    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)
    def start(request: dict[str, Any]) -> dict[str, Any]:
        return start_offboarding(request)

    return start, config


def handle(event: dict[str, Any], detail: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    from accessflow.handlers.intake import _reason, dead_letter

    try:
        request = OffboardingRequested.model_validate(detail)
    except ValidationError as exc:
        dead_letter(event, _reason(exc))
        return {"status": "dead-lettered"}
    payload = request.model_dump(mode="json")
    start, config = _idempotent_start()
    if context is not None:
        config.register_lambda_context(context)
    try:
        result: dict[str, Any] = start(request=payload)
    except IdempotencyAlreadyInProgressError:
        # A concurrent delivery of the same event is mid-way: the offboarding record's own claim
        # makes running it again harmless, and answers with the same offboarding.
        result = start_offboarding(payload)
    metrics.add_metric(name="OffboardingRequests", unit=MetricUnit.Count, value=1)
    logger.info("offboarding requested", extra=result)
    return result
