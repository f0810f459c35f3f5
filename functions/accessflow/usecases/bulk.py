"""Bulk onboarding (issue 11): validate a file as a whole, then one onboarding per person.

``submit`` validates (a dry run stops there and writes nothing) and records the import and its rows,
then starts the bulk workflow (``workflows/bulk.asl.json``), whose Map runs :func:`onboard_row` once
per person: record the invitation (``source`` ``bulk``) and start the existing onboarding workflow
for it, under deterministic names, so a repeated import, a retried task or a re-run Map creates
nothing twice. ``status`` reads the import's progress and per-row results.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessflow.adapters.workflow import Workflow
from accessflow.domain import bulk, rules
from accessflow.domain.errors import Conflict, DomainError, NotFound, TransactionConflict, UnknownBusiness
from accessflow.domain.model import Grant
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role
from accessflow.domain.tokens import normalise_email
from accessflow.store import bulk as bulk_store
from accessflow.store import repository as store
from accessflow.store.models import ImportItem, ImportRowItem, MemberItem
from accessflow.usecases import onboarding

SOURCE = "bulk"


def execution_name(import_id: str) -> str:
    return f"bulk-{import_id}"


def invitation_id_for(business_id: str, import_id: str, email: str) -> str:
    """One invitation per person per import, whatever retries happen."""
    return onboarding.invitation_id_for(business_id, f"bulk:{import_id}:{email}")


# --- validation ------------------------------------------------------------------------------------


def business_view(business_id: str, rows: list[bulk.Row], caller: MemberItem) -> bulk.BusinessView:
    """The snapshot validation needs, in a fixed number of calls whatever the file's size: the business,
    its accounts, the caller's grants, and the members the file's e-mails and employee ids name
    (BatchGetItem, 100 keys a call)."""
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    accounts = store.get_accounts(business_id, include_retired=True)
    emails = {normalise_email(r.email) for r in rows if bulk.is_email(r.email)}  # only keys DynamoDB takes
    employee_ids = {r.employee_id for r in rows if r.employee_id and len(r.employee_id) <= bulk.MAX_EMPLOYEE_ID}
    return bulk.BusinessView(
        policy=store.policy_of(business),
        accounts={a.account_id: store.is_retired(a) for a in accounts},
        admin_counts={a.account_id: int(a.admin_count or 0) for a in accounts},
        caller_roles=bulk_store.caller_roles(business_id, caller.member_id),
        member_status=bulk_store.members_by_email(business_id, emails),
        employee_owner=bulk_store.employee_owners(business_id, employee_ids),
    )


def validate(business_id: str, rows: list[bulk.Row], caller: MemberItem) -> tuple[bulk.Validation, BusinessPolicy]:
    view = business_view(business_id, rows, caller)
    return bulk.validate(rows, view), view.policy


# --- submission ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    import_id: str
    created: bool  # False: this import id existed (nothing was written or started)
    view: dict[str, Any]


def dry_run(business_id: str, rows: list[bulk.Row], caller: MemberItem) -> dict[str, Any]:
    """The verdict of every row, and nothing written: no member, invitation, audit entry or execution."""
    result, _ = validate(business_id, rows, caller)
    return {"dry_run": True, "counts": result.counts(), "rows": [v.as_dict() for v in result.verdicts]}


def submit(
    business_id: str, rows: list[bulk.Row], caller: MemberItem, *, import_id: str | None, workflow: Workflow,
    state_machine_arn: str, ctx: store.Context, now: datetime,
) -> Submitted:
    """Validate, record the import and its rows, start the workflow. The same import id again (the
    client's retry) returns that import as it is now and starts nothing new; with other rows it is
    refused (409), so a reused id never hides a different file."""
    import_id = import_id or uuid.uuid4().hex
    digest = bulk.digest(rows)
    existing = bulk_store.get_import(business_id, import_id)
    if existing is not None:
        return Submitted(import_id, False, _repeat(existing, digest, workflow, state_machine_arn))
    result, policy = validate(business_id, rows, caller)
    by_lead = {p.lead: p for p in result.people}
    stored = []
    for v in result.verdicts:
        d = v.as_dict()
        d["account"] = v.row.account
        person = by_lead.get(v.row.row)
        if person is not None:
            d["grants"] = [{"account_id": a, "role": r.value} for a, r in person.grants]
        elif v.status == bulk.VALID:
            d["lead"] = next(p.lead for p in result.people if v.row.row in p.rows)
        stored.append(d)
    counts = result.counts()
    try:
        item = bulk_store.create_import(business_id, import_id, digest=digest, rows=stored, counts=counts,
                                        completed=not result.people, ctx=ctx, now=now)
    except store.ConditionFailed:  # the same import id, submitted concurrently
        again = bulk_store.get_import(business_id, import_id)
        if again is None:
            raise
        return Submitted(import_id, False, _repeat(again, digest, workflow, state_machine_arn))
    if result.people:
        _start(item, result.people, policy, ctx, workflow, state_machine_arn)
    return Submitted(import_id, True, status_view(item, bulk_store.rows_of(business_id, import_id)))


def _start(item: ImportItem, people: list[bulk.Person], policy: BusinessPolicy, ctx: store.Context,
           workflow: Workflow, state_machine_arn: str) -> str:
    """The workflow's input carries row numbers only (at most 1,000 small integers): the rows are in
    DynamoDB, far from the 256 KB payload limit."""
    arn = workflow.start(state_machine_arn, execution_name(item.import_id), {
        "business_id": item.business_id, "import_id": item.import_id, "leads": [p.lead for p in people],
        "policy": policy.model_dump(mode="json"),
        "requested_by": ctx.actor, "actor_email": ctx.actor_email, "actor_name": ctx.actor_name,
        "request_id": ctx.request_id,
    })
    if item.execution_arn != arn:
        bulk_store.set_execution(item, arn)
    return arn


def _repeat(item: ImportItem, digest: str, workflow: Workflow, state_machine_arn: str) -> dict[str, Any]:
    if item.digest != digest:
        raise Conflict(f"Import {item.import_id} already exists with other rows; use a new import id for another "
                       "file.", import_id=item.import_id)
    rows = bulk_store.rows_of(item.business_id, item.import_id)
    if item.status == "RUNNING" and not item.execution_arn:
        # recorded, but the start was lost (a crash in between): start it now, under the same name
        leads = [r for r in rows if r.status == bulk_store.PENDING and r.lead is None]
        people = [bulk.Person(lead=int(r.row), email=r.email, name=r.name or r.email, employee_id=r.employee_id,
                              grants=tuple((g["account_id"], Role(g["role"])) for g in r.grants or []), rows=())
                  for r in leads]
        business = store.get_business(item.business_id)
        policy = store.policy_of(business) if business else BusinessPolicy()
        _start(item, people, policy, store.Context(actor=item.requested_by), workflow, state_machine_arn)
    return status_view(item, rows)


# --- progress --------------------------------------------------------------------------------------


def status(business_id: str, import_id: str) -> dict[str, Any]:
    item = bulk_store.get_import(business_id, import_id)
    if item is None:
        raise NotFound(f"Import {import_id} not found.")
    return status_view(item, bulk_store.rows_of(business_id, import_id))


def status_view(item: ImportItem, rows: list[ImportRowItem]) -> dict[str, Any]:
    """Progress and per-row results. A person's other rows share their first row's result."""
    by_row = {int(r.row): r for r in rows}
    out = []
    for r in rows:
        state, reason, detail, invitation_id = r.status, r.reason, r.detail, r.invitation_id
        if r.lead is not None and state == bulk_store.PENDING:
            lead = by_row.get(int(r.lead))
            if lead is not None:
                state, reason, invitation_id = lead.status, lead.reason, lead.invitation_id
                detail = lead.detail if lead.status != bulk_store.CREATED else f"With row {lead.row}."
        out.append({"row": int(r.row), "email": r.email, "name": r.name, "account": r.account_id, "role": r.role,
                    "employee_id": r.employee_id, "status": state, "reason": reason, "detail": detail,
                    "invitation_id": invitation_id})
    counts = Counter(o["status"] for o in out)
    return {
        "import_id": item.import_id, "business_id": item.business_id, "status": item.status,
        "created_at": store._iso(item.created_at), "completed_at": store._iso(item.completed_at),
        "requested_by": item.requested_by, "execution_arn": item.execution_arn,
        "submitted": item.counts,
        "counts": {"rows": len(out), **{k: counts.get(k, 0) for k in
                                        ("pending", "created", "duplicate", "refused", "failed")}},
        "invitations_created": sum(1 for r in rows if r.lead is None and r.status == bulk_store.CREATED),
        "rows": out,
    }


# --- the workflow's tasks ----------------------------------------------------------------------------


def _ctx(event: dict[str, Any]) -> store.Context:
    """The importing admin, as they were: no read per row to name them on the audit trail."""
    return store.Context(actor=str(event.get("requested_by") or "system:bulk"), request_id=event.get("request_id"),
                         execution_arn=event.get("execution_arn"), actor_email=event.get("actor_email"),
                         actor_name=event.get("actor_name") or event.get("requested_by"))


def onboard_row(event: dict[str, Any], *, workflow: Workflow, state_machine_arn: str, now: datetime) -> dict[str, Any]:
    """One person of the import: record their invitation (member, invitation, audit: one transaction)
    and start its onboarding execution, then keep the row's result. Idempotent: the invitation id and
    the execution name are deterministic (a retry finds the invitation it recorded and starts nothing
    new) and the result is written once."""
    b, import_id, number = str(event["business_id"]), str(event["import_id"]), int(event["row"])
    row = bulk_store.get_row(b, import_id, number)
    if row is None:
        raise NotFound(f"Row {number} of import {import_id} does not exist.")
    policy = BusinessPolicy.model_validate(event.get("policy") or {})
    grants = [Grant.model_validate(g) for g in row.grants or []]
    ctx = _ctx(event)
    invitation_id = invitation_id_for(b, import_id, row.email)
    new = store.NewInvitation(
        business_id=b, invitation_id=invitation_id, email=row.email, display_name=row.name or row.email,
        grants=grants, employee_id=row.employee_id, source=SOURCE, requested_by=ctx.actor,
        inviter_email=ctx.actor_email, idempotency_key=None, expires_at=rules.expiry_for(now, policy),
        needs_confirmation=rules.needs_confirmation(grants, policy),
    )
    try:
        inv = store.create_invitation(new, ctx, now)
    except TransactionConflict:
        raise  # passes: the task's Retry tries again
    except DomainError as error:
        existing = store.get_invitation(b, invitation_id)
        if existing is None:  # refused now (the business changed since validation): said per row
            bulk_store.finish_row(b, import_id, number, status="refused", reason=error.slug, detail=error.detail,
                                  now=now)
            return {"row": number, "status": "refused"}
        inv = existing  # a retry after the invitation was recorded
    arn = workflow.start(state_machine_arn, onboarding.execution_name(inv.invitation_id), {
        "business_id": b, "invitation_id": inv.invitation_id, "source": SOURCE,
        "request": {"email": inv.email, "display_name": inv.display_name, "grants": inv.grants,
                    "requested_by": inv.requested_by},
    })
    bulk_store.finish_row(b, import_id, number, status=bulk_store.CREATED, invitation_id=inv.invitation_id,
                          execution_arn=arn, now=now)
    return {"row": number, "status": bulk_store.CREATED}


def row_failed(event: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A row whose task failed after its retries: its result says so, and the others go on."""
    b, import_id, number = str(event["business_id"]), str(event["import_id"]), int(event["row"])
    error = event.get("error") or {}
    detail = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:500]}"
    bulk_store.finish_row(b, import_id, number, status=bulk_store.FAILED, reason="internal-error", detail=detail,
                          now=now)
    return {"row": number, "status": bulk_store.FAILED}


def finish(event: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The import's final counts (one query of its rows) and its audit entry. ``input`` is the
    workflow's state (with ``error`` when the Map itself failed)."""
    event = {**(event.get("input") or {}), **{k: v for k, v in event.items() if k != "input"}}
    b, import_id = str(event["business_id"]), str(event["import_id"])
    item = bulk_store.get_import(b, import_id)
    if item is None:
        raise NotFound(f"Import {import_id} not found.")
    view = status_view(item, bulk_store.rows_of(b, import_id))
    error = event.get("error")
    state = "FAILED" if error else "COMPLETED"
    final = view["counts"] | {"invitations_created": view["invitations_created"]}
    bulk_store.complete_import(item, status=state, final_counts=final,
                               error=str(error) if error else None, ctx=_ctx(event), now=now)
    return {"status": state, **final}
