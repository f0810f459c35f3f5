"""SES event notifications (bounce, reject, complaint) from the mail-events SNS topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.adapters import mailer as mail
    from accessflow.usecases import delivery
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    mail = lazy_module("accessflow.adapters.mailer")
    delivery = lazy_module("accessflow.usecases.delivery")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = config.load(config.MailSettings)
    mailer = mail.SesMailer(settings.sender_email, settings.ses_configuration_set)
    outcomes: dict[str, int] = {}
    for record in event.get("Records", []):
        try:
            notification = json.loads(record["Sns"]["Message"])
        except (KeyError, TypeError, ValueError):
            logger.warning("not an SES notification", extra={"record": record})
            outcomes["malformed"] = outcomes.get("malformed", 0) + 1
            continue
        outcome = delivery.record_event(notification, mailer=mailer, now=clock.utcnow())
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes.get("marked"):
        metrics.add_metric(name="InvitationsUndeliverable", unit=MetricUnit.Count, value=outcomes["marked"])
    logger.info("mail events", extra=outcomes)
    return outcomes
