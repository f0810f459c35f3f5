"""The scheduled expiry sweep (EventBridge schedule, every 15 minutes; ``template.yaml``
``SweepFunction``): expire the due invitations and send the due reminders, bounded per run.

Two runs at once (a slow run overlapping the next, a manual run) are safe: each action is a
conditional write and only its winner fails the execution or sends the e-mail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock, mailer, workflow
    from accessflow.store import repository as store
    from accessflow.usecases import expiry
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    mailer = lazy_module("accessflow.adapters.mailer")
    workflow = lazy_module("accessflow.adapters.workflow")
    store = lazy_module("accessflow.store.repository")
    expiry = lazy_module("accessflow.usecases.expiry")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = config.load(config.SweepSettings)
    now = clock.utcnow()
    report = expiry.sweep(
        now, workflow=workflow.StepFunctionsWorkflow(),
        mailer=mailer.SesMailer(settings.sender_email, settings.ses_configuration_set),
        ctx=store.Context(actor="system:sweep", request_id=str((event or {}).get("id") or "") or None),
        max_items=settings.max_items, page_size=settings.page_size,
    )
    metrics.add_metric(name="InvitationsExpired", unit=MetricUnit.Count, value=report.expired)
    metrics.add_metric(name="InvitationRemindersSent", unit=MetricUnit.Count, value=report.reminded)
    metrics.add_metric(name="SweepSkipped", unit=MetricUnit.Count,
                       value=report.expiry_skipped + report.reminder_skipped)
    logger.info("sweep", extra=report.as_dict() | {"now": store._iso(now)})
    return report.as_dict()
