"""Lambda tasks of the mover state machine (``workflows/mover.asl.json``).

Each is thin: read the task's payload, call one use case, return what the next state needs. A request
that cannot be honoured raises ``MoveRejected`` (its problem as the message); the ASL catches it by
name and records the rejection.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessflow.handlers._task import task
from accessflow.lazy import lazy_module
from accessflow.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.domain import model
    from accessflow.store import repository as store
    from accessflow.usecases import mover
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    model = lazy_module("accessflow.domain.model")
    store = lazy_module("accessflow.store.repository")
    mover = lazy_module("accessflow.usecases.mover")


class MoveRejected(Exception):
    """The move names an unknown business, member or account, a member who is not ACTIVE, or breaks
    a rule (last Admin, Admin cap, a change already waiting): nothing changed."""


def _settings() -> config.Settings:
    return config.load(config.Settings)


def utcnow() -> datetime:
    return clock.utcnow()


def _ctx(event: dict[str, Any], actor: str) -> store.Context:
    return store.Context(actor=actor, execution_arn=event.get("execution_arn"))


def _request(event: dict[str, Any]) -> mover.MoveRequest:
    raw = event.get("request") or {}
    return mover.MoveRequest(
        business_id=str(event["business_id"]), grants=[model.Grant.model_validate(g) for g in raw.get("grants", [])],
        source=str(event.get("source", "hr")), requested_by=str(raw.get("requested_by") or "unknown"),
        member_id=raw.get("member_id"), employee_id=raw.get("employee_id"), email=raw.get("email"),
        idempotency_key=raw.get("idempotency_key"), move_id=str(event["move_id"]),
    )


def _summary(move: Any) -> dict[str, Any]:
    view = mover.view(move)
    return {"business_id": move.business_id, "move_id": move.move_id, "member_id": move.member_id,
            "awaiting": bool(view["pending"]), "needs_confirmation": view["needs_confirmation"], "detail": view}


@task
def begin(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply the reductions, record the proposals (idempotent on the move id)."""
    from accessflow.domain.errors import DomainError, TransactionConflict

    _settings()
    try:
        req = _request(event)
        move = mover.begin(req, _ctx(event, req.actor), utcnow())
    except TransactionConflict:
        raise  # passes: the state machine retries it
    except DomainError as exc:
        metrics.add_metric(name="MoveRejected", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        raise MoveRejected(json.dumps(exc.problem())) from exc
    except ValueError as exc:  # pydantic errors on a grant
        raise MoveRejected(json.dumps({"type": "invalid-input", "detail": str(exc)})) from exc
    return _summary(move)


@task
def record_rejection(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Catch branch of ``Begin``: keep the reason and tell the integrator (``member.change.rejected``)."""
    from accessflow.adapters.events import EventBridgePublisher

    settings = _settings()
    cause = str((event.get("error") or {}).get("Cause", ""))
    try:
        message = json.loads(cause).get("errorMessage", cause)
        problem = json.loads(message)
    except (ValueError, AttributeError):
        problem = {"detail": cause}
    request = dict(event.get("request") or {})
    actor = f"{event.get('source', 'hr')}:{request.get('requested_by') or 'unknown'}"
    detail = mover.reject_request(str(event.get("business_id", "")), problem, request,
                                  events=EventBridgePublisher(settings.event_bus_name), ctx=_ctx(event, actor),
                                  now=utcnow())
    logger.warning("move rejected", extra={"code": detail["code"], "reason": detail["reason"]})
    return {"code": detail["code"], "reason": detail["reason"]}


@task
def finish(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """After the confirmation wait: close a declined or expired proposal; the event to emit."""
    _settings()
    move = mover.finish(str(event["business_id"]), str(event["move_id"]), str(event["outcome"]),
                        ctx=_ctx(event, "system:mover"), now=utcnow())
    return _summary(move)
