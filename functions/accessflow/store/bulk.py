"""The store of bulk imports: the snapshot validation reads, the import and its rows.

An import's rows live in a partition of their own (``IMPORT#{b}#{i}``), so reading an import's
progress is one query, and the per-row results never travel in a state machine's payload. The rows
are written in batches (BatchWriteItem, 25 a call) before the import item: the import item and its
audit entry, one transaction, are the commit point (an import without it does not exist, and a
retry writes the same rows again under the same keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from accessflow.domain.roles import Role
from accessflow.store import repository as store
from accessflow.store.models import ImportItem, ImportResultItem, ImportRowItem, LookupItem

RETENTION = timedelta(days=90)  # import results (they hold e-mail addresses) are purged by TTL after this
PENDING, CREATED, FAILED = "pending", "created", "failed"


def rows_pk(business_id: str, import_id: str) -> str:
    return f"IMPORT#{business_id}#{import_id}"


def row_sk(row: int) -> str:
    return f"ROW#{row:05d}"


def result_sk(row: int) -> str:
    return f"RESULT#{row:05d}"


# --- what validation reads, in batches -------------------------------------------------------------


def _batch_lookups(business_id: str, sks: Iterable[str]) -> dict[str, str]:
    """Lookup items (``EMAIL#…``, ``EMPLOYEE#…``) by sort key → member id; BatchGetItem, 100 keys a call."""
    keys = [(store.biz_pk(business_id), sk) for sk in dict.fromkeys(sks)]
    return {item.sk: item.member_id for item in LookupItem.batch_get(keys, consistent_read=True)} if keys else {}


def members_by_email(business_id: str, emails: Iterable[str]) -> dict[str, str]:
    """Normalised e-mail → status of the member filed under it (absent: nobody)."""
    ids = _batch_lookups(business_id, (store.email_sk(e) for e in emails))
    members = store.members_by_id(business_id, ids.values(), consistent_read=True)
    out = {}
    for sk, member_id in ids.items():
        member = members.get(member_id)
        if member is not None:
            out[sk.removeprefix("EMAIL#")] = member.status
    return out


def employee_owners(business_id: str, employee_ids: Iterable[str]) -> dict[str, str]:
    """Employee id → e-mail of the member holding it."""
    ids = _batch_lookups(business_id, (store.employee_sk(e) for e in employee_ids))
    members = store.members_by_id(business_id, ids.values(), consistent_read=True)
    return {sk.removeprefix("EMPLOYEE#"): members[m].email for sk, m in ids.items() if m in members}


def caller_roles(business_id: str, member_id: str) -> dict[str, Role]:
    return store.roles_of(business_id, member_id)


# --- imports ---------------------------------------------------------------------------------------


def get_import(business_id: str, import_id: str) -> ImportItem | None:
    try:
        return ImportItem.get(store.biz_pk(business_id), f"IMPORT#{import_id}", consistent_read=True)
    except DoesNotExist:
        return None


def rows_of(business_id: str, import_id: str) -> list[ImportRowItem]:
    """The rows, each with its result applied (in memory) when the workflow wrote one."""
    pk = rows_pk(business_id, import_id)
    results = {int(r.row): r for r in ImportResultItem.query(pk, ImportResultItem.sk.startswith("RESULT#"),
                                                                consistent_read=True)}
    rows = list(ImportRowItem.query(pk, ImportRowItem.sk.startswith("ROW#"), consistent_read=True))
    for row in rows:
        result = results.get(int(row.row))
        if result is not None:
            row.status, row.reason, row.detail = result.status, result.reason, result.detail
            row.invitation_id, row.execution_arn = result.invitation_id, result.execution_arn
    return rows


def get_row(business_id: str, import_id: str, row: int) -> ImportRowItem | None:
    try:
        return ImportRowItem.get(rows_pk(business_id, import_id), row_sk(row), consistent_read=True)
    except DoesNotExist:
        return None


def create_import(
    business_id: str, import_id: str, *, digest: str, rows: Sequence[dict[str, Any]], counts: dict[str, int],
    completed: bool, ctx: store.Context, now: datetime,
) -> ImportItem:
    """Write the rows (batches), then the import item with its audit entry (one transaction, conditional
    on the import id being new). :class:`store.ConditionFailed` if the import id exists."""
    pk = rows_pk(business_id, import_id)
    ttl = now + RETENTION
    with ImportRowItem.batch_write() as batch:
        for r in rows:
            batch.save(ImportRowItem(
                pk=pk, sk=row_sk(int(r["row"])), row=int(r["row"]), email=str(r["email"]) or "(empty)",
                name=r.get("name") or None, account_id=r.get("account") or None, role=r.get("role") or None,
                employee_id=r.get("employee_id"), status=PENDING if r["status"] == "valid" else str(r["status"]),
                reason=r.get("reason"), detail=r.get("detail"), lead=r.get("lead"), grants=r.get("grants"),
                updated_at=now, ttl=ttl))
    item = ImportItem(
        pk=store.biz_pk(business_id), sk=f"IMPORT#{import_id}", business_id=business_id, import_id=import_id,
        status="COMPLETED" if completed else "RUNNING", digest=digest, requested_by=ctx.actor, counts=counts,
        final_counts=None, created_at=now, completed_at=now if completed else None, ttl=ttl)
    tx = store.Tx(business_id, ctx, now)
    tx.save("import", item, condition=ImportItem.pk.does_not_exist())
    tx.audit(store.AuditDraft("bulk_import.started", subject=import_id, after={"import_id": import_id, **counts}))
    tx.commit()
    return item


def set_execution(item: ImportItem, execution_arn: str) -> None:
    item.update(actions=[ImportItem.execution_arn.set(execution_arn)])


def finish_row(business_id: str, import_id: str, row: int, *, status: str, now: datetime,
               invitation_id: str | None = None, execution_arn: str | None = None, reason: str | None = None,
               detail: str | None = None) -> bool:
    """A lead row's result, once (a conditional put): False if it was already written."""
    item = ImportResultItem(pk=rows_pk(business_id, import_id), sk=result_sk(row), row=row, status=status,
                            reason=reason, detail=detail, invitation_id=invitation_id, execution_arn=execution_arn,
                            updated_at=now, ttl=now + RETENTION)
    try:
        item.save(condition=ImportResultItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def complete_import(item: ImportItem, *, status: str, final_counts: dict[str, int], error: str | None,
                    ctx: store.Context, now: datetime) -> None:
    """RUNNING → COMPLETED (or FAILED) with the final counts and its audit entry, in one transaction."""
    tx = store.Tx(item.business_id, ctx, now)
    actions: list[Any] = [ImportItem.status.set(status), ImportItem.final_counts.set(final_counts),
                          ImportItem.completed_at.set(now)]
    if error:
        actions.append(ImportItem.error.set(error[:1000]))
    tx.update("import", item, actions, condition=ImportItem.status == "RUNNING")
    tx.audit(store.AuditDraft("bulk_import.completed", subject=item.import_id,
                              after={"import_id": item.import_id, "status": status, **final_counts}))
    try:
        tx.commit()
    except store.ConditionFailed:
        return  # already completed (a retried task)
