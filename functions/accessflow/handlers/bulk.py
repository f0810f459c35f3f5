"""Lambda tasks of the bulk onboarding workflow (``workflows/bulk.asl.json``, issue 11).

Thin: read the task's payload, call one use case, return a small result (the per-row results stay in
DynamoDB, never in the state: a Map of 1,000 rows would approach the 256 KB payload limit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessflow.handlers._task import task
from accessflow.lazy import lazy_module

if TYPE_CHECKING:
    from accessflow import settings as config
    from accessflow.adapters import clock
    from accessflow.usecases import bulk
else:  # loaded by the first invocation, not at cold start (accessflow.lazy)
    config = lazy_module("accessflow.settings")
    clock = lazy_module("accessflow.adapters.clock")
    bulk = lazy_module("accessflow.usecases.bulk")


def _settings() -> config.BulkTaskSettings:
    return config.load(config.BulkTaskSettings)


@task
def onboard_row(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One person of the import: their invitation and its onboarding execution (idempotent)."""
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    s = _settings()
    return bulk.onboard_row(event, workflow=StepFunctionsWorkflow(), state_machine_arn=s.onboarding_state_machine_arn,
                            now=clock.utcnow())


@task
def row_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A row whose task failed after its retries: recorded as failed; the other rows go on."""
    _settings()
    return bulk.row_failed(event, now=clock.utcnow())


@task
def finish(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The import's final counts and its audit entry."""
    _settings()
    return bulk.finish(event, now=clock.utcnow())
