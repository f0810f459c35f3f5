"""Lambda tasks of the access review state machine (``workflows/review.asl.json``).

Thin: read the payload, call one use case, return what the next state needs. Errors are raised by
class name (``VerificationFailed``, ``ThrottledError``, ``TransactionConflict``) for the ASL's Retry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessflow.handlers._task import task
from accessflow.lazy import lazy_module

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.usecases import reviews
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    reviews = lazy_module("accessflow.usecases.reviews")


def _settings() -> config.ReviewTaskSettings:
    return config.load(config.ReviewTaskSettings)


def utcnow() -> datetime:
    return clock.utcnow()


def _ids(event: dict[str, Any]) -> tuple[str, str]:
    return str(event["business_id"]), str(event["campaign_id"])


def _mailer(settings: config.ReviewTaskSettings) -> Any:
    from accessflow.adapters.mailer import SesMailer

    return SesMailer(settings.sender_email, settings.ses_configuration_set)


@task
def notify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    return reviews.notify_start(*_ids(event), mailer=_mailer(settings), public_base_url=settings.public_base_url,
                                now=utcnow())


@task
def remind(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    return reviews.remind(*_ids(event), mailer=_mailer(settings), public_base_url=settings.public_base_url,
                          now=utcnow())


@task
def begin_close(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return reviews.begin_close(*_ids(event), execution_arn=event.get("execution_arn"), now=utcnow())


@task
def apply(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    close = event.get("close") or {}
    return reviews.apply_outcomes(*_ids(event), close.get("cursor"), close.get("totals"),
                                  page=settings.review_apply_page, execution_arn=event.get("execution_arn"),
                                  now=utcnow())


@task
def finish(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from accessflow.adapters.events import EventBridgePublisher

    settings = _settings()
    close = event.get("close") or {}
    return reviews.finish(*_ids(event), dict(close.get("totals") or {}),
                          events=EventBridgePublisher(settings.event_bus_name),
                          execution_arn=event.get("execution_arn"), now=utcnow())
