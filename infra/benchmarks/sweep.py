"""The expiry sweep reads what is due, not the table: 50,000 pending invitations, 100 of them due.

The invitations are written with BatchWriteItem through the store layer (``store.sweep.put_many``),
not through 50,000 workflow executions. Then one sweep runs through the deployed function
(``SweepFunction``'s handler on the local stack), and every DynamoDB call of the process during it is
observed (every botocore client's ``_make_api_call``: PynamoDB's per-model connections and
transactions alike). Items read = the index items (the sum of ``ScannedCount`` over every Query
page) plus the point reads (one per GetItem, one per key of BatchGetItem / TransactGetItems).
Targets: index items / due (``sweep_read_ratio``) and all items read / due
(``sweep_total_read_ratio``) at most 1.2.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

TOTAL = int(os.environ.get("BENCH_SWEEP_TOTAL", "50000"))
DUE = 100
TARGET_RATIO = 1.2


class ReadCounter:
    """Items read by every DynamoDB call made while :meth:`counting` is active."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.pages = 0
        self.scanned = 0
        self.point_reads = 0
        self._lock = threading.Lock()

    def observe(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        with self._lock:
            self.calls[operation] += 1
            if operation == "Query":
                self.pages += 1
                self.scanned += int(response.get("ScannedCount", 0))
            elif operation == "GetItem":
                self.point_reads += 1
            elif operation == "BatchGetItem":
                self.point_reads += sum(len(t.get("Keys", [])) for t in params.get("RequestItems", {}).values())
            elif operation == "TransactGetItems":
                self.point_reads += len(params.get("TransactItems", []))

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
        counter = self

        def observed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                counter.observe(operation, params, response)
            return response

        botocore.client.BaseClient._make_api_call = observed  # type: ignore[attr-defined]
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined]


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
    from accessflow.store.models import MemberItem

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
    # The due invitations' invitees, INVITED as an invitation leaves them: expiring one moves its member
    # to NEVER_JOINED in the same transaction (a member who is not INVITED would cancel it once).
    with MemberItem.batch_write() as batch:
        for i in range(DUE):
            batch.save(MemberItem(pk=f"BIZ#{business_id}", sk=f"MEMBER#m-{i:06d}", business_id=business_id,
                                  member_id=f"m-{i:06d}", email=f"person-{i:06d}@example.com",
                                  display_name=f"person-{i:06d}", status="INVITED", created_at=now, updated_at=now))


def run() -> dict[str, Any]:
    from accessflow.adapters.clock import utcnow
    from accessflow.store.models import bind
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

        counter = ReadCounter()
        started = time.monotonic()
        with counter.counting():
            report = stack.invoke("SweepFunction", {"id": "bench"})
        swept_in = time.monotonic() - started

        ratio = counter.scanned / DUE
        total_ratio = (counter.scanned + counter.point_reads) / DUE
        print(f"   DynamoDB calls during the sweep: {dict(sorted(counter.calls.items()))}")
        failed = report["expired"] != DUE or ratio > TARGET_RATIO or total_ratio > TARGET_RATIO
        return {
            "sweep_table_invitations": TOTAL,
            "sweep_due": DUE,
            "sweep_expired": report["expired"],
            "sweep_items_read": counter.scanned,
            "sweep_read_ratio": round(ratio, 3),
            "sweep_query_pages": counter.pages,
            "sweep_point_reads": counter.point_reads,
            "sweep_total_read_ratio": round(total_ratio, 3),
            "sweep_seed_seconds": round(seeded_in, 1),
            "sweep_run_seconds": round(swept_in, 2),
            **({"_failed": 1} if failed else {}),
        }
