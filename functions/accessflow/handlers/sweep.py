"""The scheduled expiry sweep (EventBridge schedule, every 15 minutes; ``template.yaml``
``SweepFunction``): expire the due invitations and send the due reminders, bounded per run.

Two runs at once (a slow run overlapping the next, a manual run) are safe: each action is a
conditional write and only its winner fails the execution or sends the e-mail.
"""

from __future__ import annotations

from typing import Any

from accessflow.adapters.clock import utcnow
from accessflow.observability import MetricUnit, logger, metrics
from accessflow.settings import SweepSettings, load
from accessflow.store import repository as store
from accessflow.usecases import expiry


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.mailer import SesMailer
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    settings = load(SweepSettings)
    now = utcnow()
    report = expiry.sweep(
        now, workflow=StepFunctionsWorkflow(), mailer=SesMailer(settings.sender_email, settings.ses_configuration_set),
        ctx=store.Context(actor="system:sweep", request_id=str((event or {}).get("id") or "") or None),
        max_items=settings.max_items, page_size=settings.page_size,
    )
    metrics.add_metric(name="InvitationsExpired", unit=MetricUnit.Count, value=report.expired)
    metrics.add_metric(name="InvitationRemindersSent", unit=MetricUnit.Count, value=report.reminded)
    metrics.add_metric(name="SweepSkipped", unit=MetricUnit.Count,
                       value=report.expiry_skipped + report.reminder_skipped)
    logger.info("sweep", extra=report.as_dict() | {"now": store._iso(now)})
    return report.as_dict()
