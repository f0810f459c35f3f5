"""DynamoDB requests made atomic, as they are in AWS."""

from __future__ import annotations

import threading
from typing import Any

from infra.localstack.process import Patch

_LOCK = threading.RLock()


def _atomic_call_action(self: Any) -> Any:
    """Each DynamoDB request is atomic in AWS; moto's are not (``transact_write_items`` checks its
    conditions, then writes, without a lock, and on cancellation restores a deep copy of the whole table,
    wiping other threads' writes). Map/Parallel states and concurrent HTTP requests run our handlers in
    threads, so every DynamoDB request is serialized here: races between our conditional writes are
    then decided as DynamoDB decides them, not by moto's internals."""
    with _LOCK:
        return CALL_ACTION.original(self)


CALL_ACTION = Patch("moto.dynamodb.responses", "DynamoHandler", "call_action", _atomic_call_action)
PATCHES = (CALL_ACTION,)
