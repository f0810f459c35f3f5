"""Lambda tasks of the onboarding state machine (``workflows/onboarding.asl.json``).

Each is thin: read the task's payload, call one use case, return what the next state needs.
Errors are raised by class name; the ASL's Retry/Catch match them.
"""

from __future__ import annotations

import json
from typing import Any

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import DomainError, RecordRejected
from accessflow.domain.model import Grant
from accessflow.handlers._task import task
from accessflow.observability import MetricUnit, logger, metrics
from accessflow.settings import OnboardingTaskSettings, load
from accessflow.store import repository as store
from accessflow.usecases import onboarding


def _settings() -> OnboardingTaskSettings:
    return load(OnboardingTaskSettings)


def _mailer() -> Any:
    from accessflow.adapters.mailer import SesMailer

    s = _settings()
    return SesMailer(s.sender_email, s.ses_configuration_set)


def _workflow() -> Any:
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    return StepFunctionsWorkflow()


def _ctx(event: dict[str, Any], actor: str = "system:onboarding") -> store.Context:
    return store.Context(actor=actor, execution_arn=event.get("execution_arn"))


@task
def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate and record (idempotent). A request that cannot be honoured → ``RecordRejected``."""
    _settings()
    raw = event.get("request") or {}
    try:
        req = onboarding.OnboardingRequest(
            business_id=str(event["business_id"]), email=str(raw.get("email", "")),
            display_name=str(raw.get("display_name", "")),
            grants=[Grant.model_validate(g) for g in raw.get("grants", [])],
            requested_by=str(raw.get("requested_by", "unknown")), source=str(event.get("source", "hr")),
            employee_id=raw.get("employee_id"), idempotency_key=raw.get("idempotency_key"),
            inviter_email=raw.get("inviter_email"), invitation_id=str(event["invitation_id"]),
        )
        inv = onboarding.record(req, _ctx(event, f"{req.source}:{req.requested_by}"), utcnow())
    except DomainError as exc:
        metrics.add_metric(name="OnboardingRejected", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        raise RecordRejected(json.dumps(exc.problem())) from exc
    except ValueError as exc:  # pydantic errors on a grant
        raise RecordRejected(json.dumps({"title": "Invalid grants", "detail": str(exc)})) from exc
    return onboarding.summary(inv, utcnow())


def _requester(event: dict[str, Any]) -> str:
    """The refused request is on the trail under who asked for it (``hr:workday``), as its record is."""
    requested_by = (event.get("request") or {}).get("requested_by")
    return f"{event.get('source', 'hr')}:{requested_by}" if requested_by else "system:onboarding"


@task
def record_rejection(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Catch branch of ``Record``: keep the reason and tell the integrator (never silently dropped)."""
    from accessflow.adapters.events import EventBridgePublisher

    settings = _settings()
    error = event.get("error") or {}
    cause = str(error.get("Cause", ""))
    try:
        reason = json.loads(cause).get("errorMessage", cause)
        reason = json.loads(reason).get("detail", reason)
    except (ValueError, AttributeError):
        reason = cause
    payload = {k: v for k, v in (event.get("request") or {}).items() if k != "grants"} | {
        "grants": (event.get("request") or {}).get("grants")}
    onboarding.publish_rejection(str(event.get("business_id", "")), str(reason), payload,
                                 events=EventBridgePublisher(settings.event_bus_name),
                                 ctx=_ctx(event, _requester(event)), now=utcnow())
    logger.warning("onboarding rejected", extra={"reason": reason})
    return {"reason": reason}


@task
def send_invitation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    result = onboarding.send_invitation(
        event["business_id"], event["invitation_id"], task_token=event.get("task_token"),
        execution_arn=event.get("execution_arn"), mailer=_mailer(), public_base_url=settings.public_base_url,
        ctx=_ctx(event), now=utcnow(), workflow=_workflow(),
    )
    if result.get("sent"):
        metrics.add_metric(name="InvitationsSent", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
    return result


@task
def await_confirmation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    onboarding.await_confirmation(
        event["business_id"], event["invitation_id"], task_token=event["task_token"],
        execution_arn=event.get("execution_arn"), mailer=_mailer(), workflow=_workflow(), now=utcnow(),
    )
    return {"waiting": True}


@task
def auto_confirm(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return onboarding.confirm(
        event["business_id"], event["invitation_id"], confirmer_member_id="system", grants=None,
        workflow=None, ctx=_ctx(event, "system:auto-confirm"), now=utcnow(),
    )


@task
def expire_on_timeout(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Backstop when the execution's own wait timed out before the sweep: the same expiry code path as
    the sweep. Returns the invitation summary with its status after the attempt: ``EXPIRED`` (by us or
    by a sweep), ``REVOKED``, or ``PENDING`` when it was renewed meanwhile (the state machine then
    waits again for the remaining lifetime)."""
    from accessflow.usecases import expiry

    _settings()
    now = utcnow()
    status = expiry.expire_one(event["business_id"], event["invitation_id"], workflow=None,
                               ctx=_ctx(event, "system:timeout"), now=now)
    inv = store.get_invitation(event["business_id"], event["invitation_id"])
    assert inv is not None
    return onboarding.summary(inv, now) | {"status": status}


@task
def announce(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return onboarding.announce(event["business_id"], event["invitation_id"], event["outcome"], mailer=_mailer(),
                               ctx=_ctx(event), now=utcnow())
