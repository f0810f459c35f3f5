"""Lambda tasks of the offboarding state machine (``workflows/offboarding.asl.json``).

Each is thin: read the task's payload, call one use case, return what the next state needs. Errors
are raised by class name (``VerificationFailed``, ``MemberNotOffboardable``, ``ThrottledError``); the
ASL's Retry/Catch match them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessflow.handlers._task import task
from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.usecases import offboarding
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    offboarding = lazy_module("accessflow.usecases.offboarding")


def _settings() -> config.OffboardingTaskSettings:
    return config.load(config.OffboardingTaskSettings)


def utcnow() -> datetime:
    return clock.utcnow()


def _ids(event: dict[str, Any]) -> tuple[str, str, str]:
    return str(event["business_id"]), str(event["member_id"]), str(event["offboarding_id"])


@task
def mark(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return offboarding.mark(*_ids(event), execution_arn=event.get("execution_arn"), now=utcnow())


@task
def plan(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return offboarding.plan(str(event["business_id"]), str(event["member_id"]))


@task
def revoke_chunk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    chunk = event["chunk"]
    return offboarding.revoke_chunk(*_ids(event), str(chunk["first"]), str(chunk["last"]),
                                    execution_arn=event.get("execution_arn"), now=utcnow())


@task
def cancel_invitations(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    _settings()
    return offboarding.cancel_invitations(*_ids(event), str(event["email"]), workflow=StepFunctionsWorkflow(),
                                          execution_arn=event.get("execution_arn"), now=utcnow())


@task
def verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return offboarding.verify(str(event["business_id"]), str(event["member_id"]), str(event["email"]))


@task
def record_failure(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Catch-all before the Fail state: the record says FAILED and the failure is counted (the
    ``OffboardingFailed`` metric raises the template's alarm)."""
    _settings()
    error = event.get("error") or {}
    name, cause = str(error.get("Error", "Unknown")), str(error.get("Cause", ""))
    result = offboarding.record_failure(*_ids(event), name, cause, execution_arn=event.get("execution_arn"),
                                        now=utcnow())
    metrics.add_metric(name="OffboardingFailed", unit=MetricUnit.Count, value=1)
    if name == "VerificationFailed":
        metrics.add_metric(name="OffboardingVerificationFailed", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    logger.error("offboarding failed", extra={"error": name, "cause": cause[:1000],
                                              "member_id": event.get("member_id")})
    return result


@task
def finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    # The Parallel state's output, by branch: [revoked chunks, cancelled invitations, session event]
    _, cancelled, sessions = event["removal"]
    entries = sessions.get("entries") or [{}]
    result = offboarding.finalize(*_ids(event), list(cancelled.get("invitations") or []),
                                  entries[0].get("EventId"), execution_arn=event.get("execution_arn"),
                                  now=utcnow())
    metrics.add_metric(name="MembersOffboarded", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    receipt = result["receipt"] or {}
    return {"grants_revoked": len(receipt.get("grants_revoked", [])),
            "invitations_revoked": len(receipt.get("invitations_revoked", [])),
            "orphaned_accounts": receipt.get("orphaned_accounts", [])}


@task
def announce(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.events import EventBridgePublisher

    settings = _settings()
    return offboarding.announce(*_ids(event), events=EventBridgePublisher(settings.event_bus_name))
