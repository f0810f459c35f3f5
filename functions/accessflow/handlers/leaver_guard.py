"""``offboarding.held`` (issue 11, the leaver guard) → one e-mail to each of the business's Admins,
once per burst however often the event is delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.adapters import mailer as mail
    from accessflow.usecases import leaver_guard
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    mail = lazy_module("accessflow.adapters.mailer")
    leaver_guard = lazy_module("accessflow.usecases.leaver_guard")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def notify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = config.load(config.MailSettings)
    mailer = mail.SesMailer(settings.sender_email, settings.ses_configuration_set)
    detail = event.get("detail") or {}
    sent = leaver_guard.notify_admins(detail, mailer=mailer, public_base_url=settings.public_base_url,
                                      now=clock.utcnow())
    metrics.add_metric(name="OffboardingsHeldBursts", unit=MetricUnit.Count, value=1 if sent else 0)
    logger.info("held offboardings announced", extra={"business_id": detail.get("business_id"),
                                                      "burst_id": detail.get("burst_id"), "mails": sent})
    return {"mails": sent}
