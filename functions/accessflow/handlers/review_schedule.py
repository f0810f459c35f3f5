"""The daily run of recurring access reviews (EventBridge schedule; ``template.yaml``
``ReviewScheduleFunction``): start the campaign of each business whose review is due
(``usecases/review_schedule.run_due``). Firing twice starts nothing twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.store import repository as store
    from accessflow.usecases import review_schedule
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    store = lazy_module("accessflow.store.repository")
    review_schedule = lazy_module("accessflow.usecases.review_schedule")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.workflow import StepFunctionsWorkflow
    from accessflow.usecases.reviews import start_campaign  # the campaign use case (branch review)

    settings = config.load(config.ReviewSettings)
    workflow = StepFunctionsWorkflow()

    def start(business_id: str, **kwargs: Any) -> dict[str, Any]:
        """Each business's campaign, with its own start time (a long run's later ones are later)."""
        return start_campaign(business_id, **kwargs, workflow=workflow,
                              state_machine_arn=settings.review_state_machine_arn, now=clock.utcnow())

    now = clock.utcnow()
    report = review_schedule.run_due(
        now, start=start,
        ctx=store.Context(actor="system:review-schedule", actor_name="Review schedule",
                          request_id=str((event or {}).get("id") or "") or None),
    )
    metrics.add_metric(name="ScheduledReviewsStarted", unit=MetricUnit.Count, value=len(report.started))
    metrics.add_metric(name="ScheduledReviewsFailed", unit=MetricUnit.Count, value=len(report.failed))
    logger.info("review schedule", extra=report.as_dict() | {"now": store._iso(now)})
    return report.as_dict()
