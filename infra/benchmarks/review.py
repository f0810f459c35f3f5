"""Access review cost (issue 11, acceptance 6): a campaign of 10,000 grants on the local stack.

Population (written with batch writes through the store models, not measured): 10 accounts, each with
2 Admins (20 reviewers, 20 grants), and 998 members holding a role on every account (9,980 grants).
The business's policy removes undecided grants, so the close revokes every grant but the 10 Admin
grants the last-Admin rule keeps (the heaviest close there is).

Every DynamoDB call of the process is observed (botocore ``_make_api_call``: PynamoDB's connections,
transactions and batches alike, as in ``sweep.py``). Items read = the sum of ``ScannedCount`` over
Query pages plus one per key of GetItem / BatchGetItem / TransactGetItems.

* ``review_read_ratio``: items read by the campaign's start (snapshot + assignment: the use case the
  route and the schedule call) ÷ grants. Target ≤ 1.2.
* ``review_close_write_ratio``: DynamoDB write calls from the deadline to the end of the execution ÷
  ceil(items written ÷ 100). Items written counts each item a call writes: one per PutItem /
  UpdateItem / DeleteItem, one per request of a BatchWriteItem, one per Put / Update / Delete of a
  TransactWriteItems (its ConditionChecks write nothing and are not counted). 1.0 is every call a full
  100-item transaction. Target ≤ 1.5.
* Informative: ``review_list_read_ratio`` (reading every item page by page through the listing use
  case, with the people on each page) and ``review_close_read_ratio`` (the close's reads, its
  verification included) ÷ grants.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra.benchmarks.sweep import ReadCounter, _no_table_snapshots

ACCOUNTS = 10
ADMINS_PER_ACCOUNT = 2
MEMBERS = 998
GRANTS = ACCOUNTS * ADMINS_PER_ACCOUNT + MEMBERS * ACCOUNTS  # 10,000
READ_TARGET = 1.2
WRITE_TARGET = 1.5
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class Counting(ReadCounter):
    """Reads as ``sweep.ReadCounter`` counts them, plus write calls and the items they write."""

    def __init__(self) -> None:
        super().__init__()
        self.write_calls = 0
        self.items_written = 0
        self.write_ops: Counter[str] = Counter()
        self.on = False
        self._wlock = threading.Lock()

    def observe(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        if not self.on:
            return
        super().observe(operation, params, response)
        if operation not in WRITES:
            return
        if operation == "TransactWriteItems":
            items = sum(1 for t in params.get("TransactItems", []) if "ConditionCheck" not in t)
        elif operation == "BatchWriteItem":
            items = sum(len(v) for v in params.get("RequestItems", {}).values())
        else:
            items = 1
        with self._wlock:
            self.write_calls += 1
            self.items_written += items
            self.write_ops[operation] += 1

    @property
    def items_read(self) -> int:
        return self.scanned + self.point_reads

    def reset(self) -> None:
        self.calls.clear()
        self.pages = self.scanned = self.point_reads = 0
        self.write_calls = self.items_written = 0
        self.write_ops.clear()

    @contextmanager
    def window(self) -> Iterator[None]:
        self.reset()
        self.on = True
        try:
            yield
        finally:
            self.on = False


def _seed(business_id: str) -> None:
    from accessflow.adapters.clock import utcnow
    from accessflow.domain.model import Grant
    from accessflow.domain.policy import BusinessPolicy
    from accessflow.domain.roles import Role
    from accessflow.store import repository as store
    from accessflow.store.models import AccountItem, GrantItem, MemberItem
    from accessflow.usecases.business import bootstrap

    now = utcnow() - timedelta(days=30)
    accounts = [f"acct-{i:02d}" for i in range(ACCOUNTS)]
    bootstrap(business_id, "Bench Co", [(accounts[0], "Account 0", "tiktok")], "owner@bench.example", "Owner",
              now=now, policy=BusinessPolicy(review_undecided="remove"))
    # the bootstrap's Admin would be an extra grant: the population is exactly GRANTS
    for g in store.all_grants(business_id):
        g.delete()
    pk = store.biz_pk(business_id)

    def member(member_id: str, n: int) -> MemberItem:
        return MemberItem(pk=pk, sk=f"MEMBER#{member_id}", business_id=business_id, member_id=member_id,
                          email=f"{member_id}@bench.example", display_name=f"Person {n}", status="ACTIVE",
                          created_at=now, updated_at=now)

    with AccountItem.batch_write() as batch:
        for a in accounts:
            batch.save(AccountItem(pk=pk, sk=f"ACCOUNT#{a}", business_id=business_id, account_id=a, name=a,
                                   admin_count=ADMINS_PER_ACCOUNT))
    with GrantItem.batch_write() as batch:
        n = 0
        for a in accounts:
            for _ in range(ADMINS_PER_ACCOUNT):
                mid = f"adm-{n:03d}"
                batch.save(member(mid, n))
                batch.save(store._grant_item(business_id, mid, Grant(account_id=a, role=Role.ADMIN), now,
                                             invited_by="bench", confirmed_by="bench", invitation_id=None))
                n += 1
        for i in range(MEMBERS):
            mid = f"mem-{i:04d}"
            batch.save(member(mid, n + i))
            for a in accounts:
                batch.save(store._grant_item(business_id, mid, Grant(account_id=a, role=Role.EDITOR), now,
                                             invited_by="bench", confirmed_by="bench", invitation_id=None))


class _Deferred:
    """Records the start of the execution instead of starting it, so that the measured start is the
    use case alone (the execution's first step, e-mailing reviewers, would otherwise overlap it)."""

    def __init__(self) -> None:
        self.started: tuple[str, str, dict[str, Any]] | None = None

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self.started = (state_machine_arn, name, payload)
        return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def succeed(self, task_token: str, output: dict[str, Any]) -> bool:
        return False

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        return False


def run() -> dict[str, Any]:
    from infra.localstack import LocalStack

    counter = Counting()
    with tempfile.TemporaryDirectory() as tmp, LocalStack(outbox_dir=Path(tmp), serve_http=False) as stack, \
            _no_table_snapshots(), counter.counting():
        from accessflow.adapters.clock import utcnow
        from accessflow.adapters.workflow import StepFunctionsWorkflow
        from accessflow.store import reviews as rv
        from accessflow.store.models import bind
        from accessflow.usecases import reviews

        bind(stack.tables["AccessFlowTable"], stack.region)
        business_id = f"bench-{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        _seed(business_id)
        seed_seconds = time.monotonic() - started

        deferred = _Deferred()
        arn = stack.state_machines["ReviewStateMachine"]
        started = time.monotonic()
        with counter.window():
            campaign = reviews.start_campaign(business_id, started_by="schedule", name="bench", duration_days=14,
                                              workflow=deferred, state_machine_arn=arn, now=utcnow())
            start_reads, start_calls = counter.items_read, dict(counter.calls)
        start_seconds = time.monotonic() - started
        cid = campaign["campaign_id"]
        assert deferred.started is not None and campaign["counts"]["items"] == GRANTS, campaign["counts"]

        with counter.window():
            cursor, listed = None, 0
            while True:
                page = reviews.list_items(business_id, cid, reviewer_id=None, decided=None, cursor=cursor,
                                          limit=500, now=utcnow())
                listed += len(page["items"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
            list_reads = counter.items_read

        execution = StepFunctionsWorkflow(stack.client("stepfunctions")).start(*deferred.started)
        stack.advance(timedelta(days=7, minutes=1), coalesce=True)  # halfway: the reminder (not measured)
        stack.wait_for_state(execution, "WaitUntilDeadline", timeout=300)

        started = time.monotonic()
        with counter.window():
            stack.advance(timedelta(days=7), coalesce=True)
            result = stack.wait_execution(execution, timeout=1800)
            close_reads, close_calls, items_written = counter.items_read, counter.write_calls, counter.items_written
            write_ops = dict(counter.write_ops)
        close_seconds = time.monotonic() - started
        closed = rv.get_campaign(business_id, cid)
        applied = closed.applied if closed else None

    read_ratio = start_reads / GRANTS
    write_ratio = close_calls / math.ceil(items_written / 100)
    print(f"   start: DynamoDB calls {dict(sorted(start_calls.items()))}; close: {result['status']}, applied "
          f"{applied}, write calls {write_ops}, items written {items_written}")
    ok = (result["status"] == "SUCCEEDED" and closed is not None and closed.status == "CLOSED"
          and listed == GRANTS and read_ratio <= READ_TARGET and write_ratio <= WRITE_TARGET)
    return {
        "review_grants": GRANTS,
        "review_start_items_read": start_reads,
        "review_read_ratio": round(read_ratio, 3),
        "review_list_read_ratio": round(list_reads / GRANTS, 3),
        "review_close_write_calls": close_calls,
        "review_close_items_written": items_written,
        "review_close_write_ratio": round(write_ratio, 3),
        "review_close_read_ratio": round(close_reads / GRANTS, 3),
        "review_seed_seconds": round(seed_seconds, 1),
        "review_start_seconds": round(start_seconds, 2),
        "review_close_seconds": round(close_seconds, 2),
        **({} if ok else {"_failed": 1}),
    }


if __name__ == "__main__":
    print(run())
