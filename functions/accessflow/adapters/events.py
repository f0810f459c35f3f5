"""Domain events out to EventBridge, behind a small interface."""

from __future__ import annotations

import json
from typing import Any, Protocol

SOURCE = "accessflow"


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self._bus = bus_name
        self._client = client

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.publish_many([(detail_type, detail)])

    def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if self._client is None:
            from accessflow.adapters.clients import client

            self._client = client("events")
        for start in range(0, len(events), 10):  # PutEvents takes at most 10 entries
            entries = [
                {"Source": SOURCE, "DetailType": dt, "Detail": json.dumps(d, default=str),
                 "EventBusName": self._bus}
                for dt, d in events[start:start + 10]
            ]
            response = self._client.put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"EventBridge refused {response['FailedEntryCount']} event(s)")
