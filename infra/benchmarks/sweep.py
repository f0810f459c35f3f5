"""The expiry sweep reads what is due, not the table: 50,000 pending invitations, 100 of them due.

The invitations are written with BatchWriteItem through the store layer (``store.sweep.put_many``),
not through 50,000 workflow executions. Then one sweep runs through the deployed function
(``SweepFunction``'s handler on the local stack), and the items it read are taken from DynamoDB's own
counts: the sum of ``ScannedCount`` over every Query page, observed with a botocore ``after-call``
handler on the store's client. Target: items read / due <= 1.2.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

TOTAL = int(os.environ.get("BENCH_SWEEP_TOTAL", "50000"))
DUE = 100
TARGET_RATIO = 1.2


class QueryCounter:
    """Sums what DynamoDB reports for each Query page (and counts point reads for the record)."""

    def __init__(self) -> None:
        self.pages = 0
        self.scanned = 0
        self.returned = 0
        self.get_items = 0

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            self.pages += 1
            self.scanned += int(parsed.get("ScannedCount", 0))
            self.returned += int(parsed.get("Count", 0))
        elif model.name == "GetItem":
            self.get_items += 1


@contextlib.contextmanager
def _no_table_snapshots() -> Iterator[None]:
    """moto snapshots the whole table (``copy.deepcopy``) before every TransactWriteItems, to roll back
    a cancelled one: with 50,000 items that is seconds and gigabytes per transaction (the process
    was OOM-killed at 24 GB). Real DynamoDB does nothing of the kind. Nothing in this benchmark is
    cancelled (one sweep, no races), so for its duration moto's table snapshot is the table itself;
    item-level copies stay real deep copies."""
    from moto.dynamodb import models as moto_models
    from moto.dynamodb.models.table import Table

    class _Copy:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = moto_models.copy
    moto_models.copy = _Copy  # type: ignore[assignment]
    try:
        yield
    finally:
        moto_models.copy = original


def _seed(business_id: str, now: Any) -> None:
    from accessflow.store import sweep as store_sweep

    grants = [{"account_id": "acct-1", "role": "Editor"}]

    def items() -> Any:
        for i in range(TOTAL):
            due = i < DUE
            created = now - timedelta(days=8 if due else 1)
            expires = now - timedelta(minutes=1 + i) if due else now + timedelta(days=1 + i % 6, minutes=i % 1440)
            yield store_sweep.pending_item(
                business_id, f"inv-{i:06d}", f"m-{i:06d}", f"person-{i:06d}@example.com", grants=grants,
                created_at=created, expires_at=expires,
                remind_at=None if due else expires - timedelta(hours=24) + timedelta(hours=1),
            )

    store_sweep.put_many(items())


def run() -> dict[str, Any]:
    from accessflow.adapters.clock import utcnow
    from accessflow.store.models import InvitationItem, bind
    from accessflow.usecases.business import bootstrap
    from infra.localstack import LocalStack

    with tempfile.TemporaryDirectory() as tmp, LocalStack(outbox_dir=Path(tmp), serve_http=False) as stack, \
            _no_table_snapshots():
        bind(stack.tables["AccessFlowTable"], "us-east-1")
        now = utcnow()
        bootstrap("bench-biz", "Bench Business", [("acct-1", "Account 1", "tiktok")], "admin@example.com",
                  "Admin", now=now)
        started = time.monotonic()
        _seed("bench-biz", now)
        seeded_in = time.monotonic() - started

        from accessflow.settings import SweepSettings, load

        load(SweepSettings)  # the function's cold start binds the store once; count on that client
        counter = QueryCounter()
        client = InvitationItem._get_connection().connection.client
        client.meta.events.register("after-call.dynamodb.*", counter)
        started = time.monotonic()
        report = stack.invoke("SweepFunction", {"id": "bench"})
        swept_in = time.monotonic() - started
        client.meta.events.unregister("after-call.dynamodb.*", counter)

        ratio = counter.scanned / DUE
        failed = report["expired"] != DUE or ratio > TARGET_RATIO
        return {
            "sweep_table_invitations": TOTAL,
            "sweep_due": DUE,
            "sweep_expired": report["expired"],
            "sweep_items_read": counter.scanned,
            "sweep_read_ratio": round(ratio, 3),
            "sweep_query_pages": counter.pages,
            "sweep_point_reads": counter.get_items,
            "sweep_seed_seconds": round(seeded_in, 1),
            "sweep_run_seconds": round(swept_in, 2),
            **({"_failed": 1} if failed else {}),
        }
