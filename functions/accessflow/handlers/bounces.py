"""SES event notifications (bounce, reject, complaint) from the mail-events SNS topic."""

from __future__ import annotations

import json
from typing import Any

from accessflow.adapters.clock import utcnow
from accessflow.observability import MetricUnit, logger, metrics
from accessflow.settings import MailSettings, load


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.mailer import SesMailer
    from accessflow.usecases.delivery import record_event

    settings = load(MailSettings)
    mailer = SesMailer(settings.sender_email, settings.ses_configuration_set)
    outcomes: dict[str, int] = {}
    for record in event.get("Records", []):
        try:
            notification = json.loads(record["Sns"]["Message"])
        except (KeyError, TypeError, ValueError):
            logger.warning("not an SES notification", extra={"record": record})
            outcomes["malformed"] = outcomes.get("malformed", 0) + 1
            continue
        outcome = record_event(notification, mailer=mailer, now=utcnow())
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes.get("marked"):
        metrics.add_metric(name="InvitationsUndeliverable", unit=MetricUnit.Count, value=outcomes["marked"])
    logger.info("mail events", extra=outcomes)
    return outcomes
