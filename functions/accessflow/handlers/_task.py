"""Shared plumbing of the Step Functions task handlers: logging context, throttling translation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from accessflow.domain.errors import ThrottledError
from accessflow.observability import logger

F = TypeVar("F", bound=Callable[..., Any])

THROTTLING_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TooManyRequestsException", "Throttling", "TransactionConflictException",
})


def is_throttling(exc: BaseException | None) -> bool:
    """True if ``exc`` or anything it wraps is an AWS throttling error (PynamoDB wraps botocore's)."""
    seen = 0
    while exc is not None and seen < 5:
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code") in THROTTLING_CODES:
            return True
        code = getattr(exc, "cause_response_code", None)
        if code in THROTTLING_CODES:
            return True
        exc = exc.__cause__ or getattr(exc, "cause", None)
        seen += 1
    return False


def task(fn: F) -> F:
    """Decorate a state-machine task: structured logs with the Lambda context; throttling becomes
    ``ThrottledError`` so every task's Retry (matched by name) backs off and tries again."""

    @functools.wraps(fn)
    @logger.inject_lambda_context(clear_state=True)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        try:
            return fn(event, context)
        except Exception as exc:
            if is_throttling(exc):
                logger.warning("throttled", extra={"error": str(exc)})
                raise ThrottledError(str(exc)) from exc
            raise

    return wrapper  # type: ignore[return-value]
