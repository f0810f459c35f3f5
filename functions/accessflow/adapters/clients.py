"""One boto3 client per service per process.

Creating a client costs milliseconds of CPU (endpoint resolution, model loading, event hooks) and
boto3's default session is not safe to create clients from in several threads at once. Adapters are
built per invocation, so before this each invocation paid for a new client; a Lambda process now
builds each client once and reuses it (clients themselves are thread-safe).
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                import boto3

                found = _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return found
