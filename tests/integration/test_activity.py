"""Last activity: an Admin's authenticated API calls are recorded at most once an hour per member per
business (DynamoDB writes counted on every botocore call the stack makes), and read back by key."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import botocore.client
import pytest

from accessflow.store.activity import last_activity
from tests.e2e.people import admin_member_id, members
from tests.world import World, make_world

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class Calls:
    """DynamoDB calls: every operation, and the writes that set ``last_activity_at`` (attempted, and
    those DynamoDB accepted)."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self.activity_attempts = 0
        self.activity_writes = 0
        self._lock = threading.Lock()

    @contextmanager
    def counting(self) -> Iterator[Calls]:
        original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
        calls = self

        def counting(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            activity = operation in WRITES and "last_activity_at" in str(params)
            with calls._lock:
                calls.ops[operation] += 1
                calls.activity_attempts += activity
            result = original(client, operation, params)  # a failed condition raises: not counted below
            with calls._lock:
                calls.activity_writes += activity
            return result

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=2)


def recorded(world: World, api: Any) -> datetime | None:
    me = admin_member_id(world, api)
    return last_activity(world.business_id, [me])[me]


def test_at_most_one_write_an_hour_per_member(stack: Any, api: Any, world: World) -> None:
    me = admin_member_id(world, api)  # the first call of the day records it
    first = recorded(world, api)
    assert first is not None

    calls = Calls()
    with calls.counting():
        for _ in range(10):
            members(world, api)
    assert calls.activity_attempts == 0, calls.ops  # the member item read to resolve the caller says "recent"

    stack.advance(timedelta(minutes=59), coalesce=True)
    with calls.counting():
        members(world, api)
    assert calls.activity_attempts == 0 and recorded(world, api) == first

    stack.advance(timedelta(minutes=2), coalesce=True)
    with calls.counting():
        for _ in range(5):
            members(world, api)
    assert calls.activity_writes == calls.activity_attempts == 1, calls.ops
    later = recorded(world, api)
    assert later is not None and later - first >= timedelta(hours=1)

    # the members listing shows it, at no extra read
    row = next(m for m in members(world, api) if m["member_id"] == me)
    assert row["last_activity_at"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_concurrent_calls_write_once(stack: Any, api: Any, world: World) -> None:
    stack.advance(timedelta(hours=2), coalesce=True)
    calls = Calls()
    with calls.counting(), ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: api.get(f"/businesses/{world.business_id}/members",
                                                   token=world.admin.token).status_code, range(16)))
    assert statuses == [200] * 16
    assert calls.activity_writes == 1, (calls.activity_attempts, calls.ops)


def test_reading_last_activity_is_one_batch_of_key_reads(stack: Any, api: Any, world: World) -> None:
    me = admin_member_id(world, api)
    calls = Calls()
    with calls.counting():
        found = last_activity(world.business_id, [me, "no-such-member", me])
    assert set(found) == {me, "no-such-member"} and found["no-such-member"] is None and found[me] is not None
    assert dict(calls.ops) == {"BatchGetItem": 1}
