"""Per-request atomicity for moto's DynamoDB, which real DynamoDB has and moto lacks.

moto's DynamoDB backend is not thread-safe: ``transact_write_items`` checks its conditions and then
writes without a lock, and on a cancelled transaction it restores a deep copy of the whole table
(wiping writes other threads made meanwhile; the copy itself can crash with "dictionary changed size
during iteration"). Tests that race requests against each other must not measure moto's races
instead of ours, so they serialize moto's DynamoDB request handling: each request is then atomic,
as each DynamoDB request is. (To move into the local stack; see the issue-3 report.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.RLock()


@contextmanager
def atomic_requests() -> Iterator[None]:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]
