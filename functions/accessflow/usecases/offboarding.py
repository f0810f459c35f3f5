"""Offboarding: revoke everything a member holds, verify it is gone, leave a receipt.

Two entry points (the HR leaver event and the admin route) share :func:`start`; the state machine's
tasks (``workflows/offboarding.asl.json``) call the other functions, one each. Every step is safe to
retry: each write is conditional and each step re-reads what is left before acting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.workflow import Workflow
from accessflow.domain import rules
from accessflow.domain.errors import Conflict, Forbidden, MemberNotOffboardable, NotFound, VerificationFailed
from accessflow.domain.model import InvitationStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.domain.tokens import normalise_email
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.store.models import MemberItem, OffboardingItem


@dataclass(frozen=True)
class Requester:
    """Who asks for the offboarding, and why."""

    source: str  # "hr" | "api"
    requested_by: str
    reason: str
    email: str | None = None  # the requesting member's e-mail and name (API), for the audit trail
    name: str | None = None

    @property
    def actor(self) -> str:
        return self.requested_by if self.source == "api" else f"{self.source}:{self.requested_by}"


def execution_name(offboarding_id: str, attempt: int = 1) -> str:
    """One execution per attempt (Step Functions never reuses a name): ``off-{id}``, then
    ``off-{id}-2``, ``off-{id}-3``... for re-runs."""
    return f"off-{offboarding_id}" if attempt <= 1 else f"off-{offboarding_id}-{attempt}"


def resolve_member(
    business_id: str, *, member_id: str | None = None, employee_id: str | None = None, email: str | None = None,
) -> MemberItem | None:
    """The member an HR event names, by whichever identifier it carries."""
    if member_id:
        return store.get_member(business_id, member_id)
    if employee_id:
        return store.member_by_employee_id(business_id, employee_id)
    if email:
        return store.member_by_email(business_id, normalise_email(email))
    return None


def require_member(business_id: str, member_id: str) -> MemberItem:
    member = store.get_member(business_id, member_id)
    if member is None:
        raise NotFound(f"Member {member_id} not found.")
    return member


# --- the admin's rules ----------------------------------------------------------------------------


def authorize_admin(caller_roles: dict[str, Role], member: MemberItem) -> None:
    """The actor must be Admin on every account the member holds or is invited to (403 names the
    accounts). A member with nothing at all may be removed by any Admin of the business."""
    b, m = member.business_id, member.member_id
    accounts = {g.account_id for g in store.grants_of(b, m)}
    for inv in store.pending_invitations_for_email(b, member.email):
        accounts.update(g["account_id"] for g in inv.grants)
    if accounts:
        rules.require_admin_of(caller_roles, accounts)
    elif Role.ADMIN not in caller_roles.values():
        raise Forbidden("Only an Admin of the business can remove a member.")


def check_last_admin(member: MemberItem) -> None:
    """An admin may not remove the last Admin of any account (409, nothing changes)."""
    admin_accounts = [g.account_id for g in store.grants_of(member.business_id, member.member_id)
                      if g.role == Role.ADMIN.value]
    rules.check_not_last_admin_anywhere(admin_accounts, off_store.admin_counts(member.business_id, admin_accounts))


# --- starting (both triggers) ----------------------------------------------------------------------


def start(
    member: MemberItem, requester: Requester, *, workflow: Workflow, state_machine_arn: str, now: datetime,
    request_id: str | None = None, before_claim: Callable[[MemberItem], None] | None = None,
    guard: Any = None,
) -> OffboardingItem:
    """Start the member's offboarding, or return the one already under way (or done): one
    offboarding per membership however many requests race. The execution is named after the
    offboarding record and its attempt, so starting it again (a retry after a crash) starts nothing
    new. A FAILED offboarding is resumed: a new attempt of the same offboarding (see :func:`rerun`).

    ``guard`` (a :class:`accessflow.usecases.leaver_guard.Guard`; HR and SCIM leavers) counts the
    request against the business's leaver window in the claim's transaction: beyond the limit the
    offboarding is claimed HELD and not started. An unguarded request (an Admin's, an ``immediate``
    HR event) for a member whose offboarding is HELD releases it."""
    from accessflow.usecases import leaver_guard

    ctx = store.Context(actor=requester.actor, request_id=request_id, reason=requester.reason,
                        actor_email=requester.email, actor_name=requester.name)
    for _ in range(8):  # guarded requests race on the window counter too: a few more rounds
        existing = off_store.get_offboarding(member.business_id, member.member_id)
        if existing is not None and existing.status == leaver_guard.HELD:
            if guard is not None:
                return existing
            released = leaver_guard.release_record(existing, ctx, now=now)
            if released is None:
                continue
            item = released
        elif existing is not None and existing.status == off_store.FAILED:
            resumed = off_store.rerun(existing, source=requester.source, requested_by=requester.requested_by,
                                      reason=requester.reason, ctx=ctx, now=now)
            if resumed is None:  # another request resumed it first, or the member moved: look again
                member = require_member(member.business_id, member.member_id)
                continue
            item = resumed
        elif existing is not None and (
            existing.status not in (off_store.COMPLETED, leaver_guard.CANCELLED)
            or member.status in (MemberStatus.OFFBOARDING.value, MemberStatus.REMOVED.value)
        ):
            item = existing
        else:
            if member.status not in off_store.OFFBOARDABLE:
                raise Conflict(f"The member is {member.status}; there is nothing to offboard.",
                               member_status=member.status)
            if before_claim is not None:
                before_claim(member)
            ticket = guard.ticket(member.business_id, now) if guard is not None else None
            claimed = off_store.claim_offboarding(
                member, source=requester.source, requested_by=requester.requested_by, reason=requester.reason,
                previous_id=existing.offboarding_id if existing else None, ctx=ctx, now=now,
                extend=_guarded(ticket, member, now))
            if claimed is None:  # another request won the race, the window moved, or the member moved
                member = require_member(member.business_id, member.member_id)
                continue
            item = claimed
            if item.status == leaver_guard.HELD:
                guard.held(item, now)
                return item
        if item.status == off_store.IN_PROGRESS:
            _run(item, workflow, state_machine_arn)
        return item
    raise Conflict("The member changed while the offboarding was being requested; try again.")


def _guarded(ticket: Any, member: MemberItem,
             now: datetime) -> Callable[[store.Tx, OffboardingItem], dict[str, Any]] | None:
    """The leaver guard's part of the claim's transaction (None: unguarded)."""
    if ticket is None:
        return None

    def extend(tx: store.Tx, item: OffboardingItem) -> dict[str, Any]:
        result: dict[str, Any] = ticket.apply(tx, item, member, now)
        return result

    return extend


def _run(item: OffboardingItem, workflow: Workflow, state_machine_arn: str) -> None:
    """Start (or find, by its name) the execution of the record's current attempt."""
    arn = workflow.start(state_machine_arn, execution_name(item.offboarding_id, off_store.current_attempt(item)), {
        "business_id": item.business_id, "member_id": item.member_id, "offboarding_id": item.offboarding_id})
    if item.execution_arn != arn:
        off_store.set_execution(item, arn)
        item.execution_arn = arn


def rerun(member: MemberItem, requester: Requester, *, workflow: Workflow, state_machine_arn: str, now: datetime,
          request_id: str | None = None) -> OffboardingItem:
    """An admin resumes the member's FAILED offboarding once its cause is fixed: the same offboarding
    (id, start, receipt), a new attempt recorded on it, a new execution. The steps re-read what is
    left, so grants an earlier attempt revoked are not revoked (or counted, or audited) twice.
    Asking again while the new attempt runs answers with it (idempotent); a COMPLETED offboarding
    has nothing to re-run (409)."""
    item = off_store.get_offboarding(member.business_id, member.member_id)
    if item is None:
        raise NotFound(f"Member {member.member_id} has no offboarding to re-run.")
    if item.status == off_store.COMPLETED:
        raise Conflict("This offboarding completed; there is nothing to re-run.", offboarding_status=item.status)
    return start(member, requester, workflow=workflow, state_machine_arn=state_machine_arn, now=now,
                 request_id=request_id)


def reject_request(business_id: str, reason: str, payload: dict[str, Any], *, events: EventPublisher,
                   ctx: store.Context, now: datetime) -> None:
    """A valid HR request that names nobody we know: recorded and announced, never dropped."""
    if store.get_business(business_id) is not None:
        store.record_audit(business_id, store.AuditDraft("offboarding.rejected", reason=reason, after=payload),
                           ctx, now)
    events.publish("member.offboarding.rejected", {"business_id": business_id, "reason": reason,
                                                   "request": payload})


# --- the state machine's steps ---------------------------------------------------------------------


def _record(business_id: str, member_id: str, offboarding_id: str) -> OffboardingItem:
    item = off_store.get_offboarding(business_id, member_id)
    if item is None or item.offboarding_id != offboarding_id:
        raise MemberNotOffboardable(f"Offboarding {offboarding_id} of member {member_id} does not exist.")
    return item


def task_context(item: OffboardingItem, execution_arn: str | None) -> store.Context:
    """The workflow acts for whoever asked: their id, and their e-mail and name as recorded when they
    asked (``claim_offboarding``)."""
    requester = Requester(item.source, item.requested_by, item.reason)
    return store.Context(actor=requester.actor, execution_arn=execution_arn, reason=item.reason,
                         actor_email=item.requester_email, actor_name=item.requester_name)


def mark(business_id: str, member_id: str, offboarding_id: str, *, execution_arn: str | None,
         now: datetime) -> dict[str, Any]:
    """Member → OFFBOARDING (conditional; a retry finds it done). Returns who they are, for the
    steps that follow (e-mail for invitations, login for sessions)."""
    item = _record(business_id, member_id, offboarding_id)
    member = require_member(business_id, member_id)
    if member.status in off_store.OFFBOARDABLE:
        off_store.mark_offboarding(member, offboarding_id, task_context(item, execution_arn), now)
        member = require_member(business_id, member_id)
    if member.status != MemberStatus.OFFBOARDING.value:
        raise MemberNotOffboardable(f"Member {member_id} is {member.status}; it cannot be offboarded.")
    return {"member_id": member_id, "email": member.email, "login_sub": member.login_sub or "",
            "employee_id": member.employee_id or "", "display_name": member.display_name}


def plan(business_id: str, member_id: str) -> dict[str, Any]:
    """Split the member's active grants into chunks that each fit one transaction. A chunk is a key
    range (first..last account), not the grants themselves, so the state stays small however many
    grants there are; the revoke step re-reads its range."""
    grants = [(g.account_id, g.role) for g in store.grants_of(business_id, member_id)]
    chunks = [{"first": c[0][0], "last": c[-1][0], "grants": len(c)} for c in off_store.pack(grants)]
    return {"grants": len(grants), "chunks": chunks}


def revoke_chunk(business_id: str, member_id: str, offboarding_id: str, first: str, last: str, *,
                 execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """Revoke the still-active grants of one chunk, normally in one transaction. A cancelled
    transaction (a grant changed meanwhile, or a retry after a lost response) is re-read and
    retried with what is still active."""
    ctx = task_context(_record(business_id, member_id, offboarding_id), execution_arn)
    revoked = 0
    for _ in range(3):
        active = off_store.active_grants_between(business_id, member_id, first, last)
        if not active:
            break
        try:
            for group in off_store.pack([(g.account_id, g.role) for g in active]):
                wanted = {account_id for account_id, _ in group}
                revoked += off_store.revoke_grants([g for g in active if g.account_id in wanted],
                                                   offboarding_id, ctx, now)
        except store.ConditionFailed:
            continue
        break
    return {"revoked": revoked}


def cancel_invitations(business_id: str, member_id: str, offboarding_id: str, email: str, *,
                       workflow: Workflow, execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """Every PENDING invitation to this person's e-mail → REVOKED, and its waiting onboarding
    execution failed with ``InvitationRevoked`` (it then ends on its Revoked branch). A retry also
    re-signals the invitations this offboarding already revoked (signalling a finished execution is
    harmless), so a crash between the two steps leaves no execution waiting."""
    item = _record(business_id, member_id, offboarding_id)
    ctx = task_context(item, execution_arn)
    business = store.get_business(business_id)
    retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
    cancelled: list[dict[str, Any]] = []
    for inv in off_store.invitations_for_email(business_id, email):
        if inv.status == InvitationStatus.PENDING.value:
            try:
                store.close_invitation(inv, from_status=InvitationStatus.PENDING, to_status=InvitationStatus.REVOKED,
                                       action="invitation.revoked", ctx=ctx, now=now, retention=retention)
            except store.ConditionFailed:
                fresh = store.get_invitation(business_id, inv.invitation_id)
                if fresh is None or fresh.status != InvitationStatus.REVOKED.value:
                    continue  # accepted or expired meanwhile: verification judges what is left
                inv = fresh
        elif not (inv.status == InvitationStatus.REVOKED.value and inv.decided_by == ctx.actor
                  and inv.decided_at is not None and inv.decided_at >= item.started_at):
            continue
        fresh = store.get_invitation(business_id, inv.invitation_id) or inv
        ended = workflow.fail(fresh.task_token, "InvitationRevoked",
                              f"the invitee was offboarded ({item.reason})") if fresh.task_token else False
        cancelled.append({"invitation_id": inv.invitation_id, "grants": inv.grants,
                          "execution_arn": fresh.execution_arn, "execution_signalled": ended})
    from accessflow.usecases.mover import cancel_proposals  # issue 11: a mover's proposal dies with the member

    cancelled += cancel_proposals(business_id, email, workflow=workflow, ctx=ctx, now=now, retention=retention)
    return {"invitations": cancelled}


def verify(business_id: str, member_id: str, email: str) -> dict[str, Any]:
    """Re-read: zero active grants and zero pending invitations, or ``VerificationFailed``."""
    grants = store.grants_of(business_id, member_id)
    pending = store.pending_invitations_for_email(business_id, email)
    if grants or pending:
        raise VerificationFailed(json.dumps({
            "active_grants": sorted(g.account_id for g in grants),
            "pending_invitations": sorted(i.invitation_id for i in pending)}))
    return {"active_grants": 0, "pending_invitations": 0}


def record_failure(business_id: str, member_id: str, offboarding_id: str, error: str, cause: str, *,
                   execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """The execution is about to fail: the offboarding record says so, with the reason, on the
    audit trail (the caller also counts it as a metric that raises an alarm)."""
    item = off_store.get_offboarding(business_id, member_id)
    if item is not None and item.offboarding_id == offboarding_id:
        off_store.mark_failed(item, error, cause, task_context(item, execution_arn), now)
    return {"error": error}


def finalize(business_id: str, member_id: str, offboarding_id: str, invitations: list[dict[str, Any]],
             sessions_event: str | None, *, execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """Member → REMOVED and the receipt, in one transaction with its audit entry. The receipt says
    what was removed (from the store: the grants this offboarding revoked), when, by whom, why, and
    which execution did it; and which accounts are left without an Admin."""
    item = _record(business_id, member_id, offboarding_id)
    if item.status == off_store.COMPLETED:
        return {"receipt": item.receipt}
    revoked = off_store.revoked_since(business_id, member_id, item.started_at)
    admin_accounts = [g.account_id for g in revoked if g.role == Role.ADMIN.value]
    counts = off_store.admin_counts(business_id, admin_accounts)
    member = require_member(business_id, member_id)
    receipt: dict[str, Any] = {
        "offboarding_id": offboarding_id,
        "member": {"member_id": member_id, "email": member.email, "display_name": member.display_name,
                   "employee_id": member.employee_id},
        "grants_revoked": [{"account_id": g.account_id, "role": g.role} for g in revoked],
        "invitations_revoked": invitations,
        "sessions_revoked": {"event": "member.sessions.revoke", "event_id": sessions_event},
        "orphaned_accounts": sorted(a for a in admin_accounts if counts.get(a, 0) <= 0),
        "source": item.source, "requested_by": item.requested_by, "reason": item.reason,
        "started_at": store._iso(item.started_at), "completed_at": store._iso(now), "execution_arn": execution_arn,
        "reinstatable_until": _reinstatable_until(business_id, now),
        "attempts": off_store.closed_attempts(item, off_store.COMPLETED, now, execution_arn=execution_arn),
    }
    off_store.complete(item, receipt, task_context(item, execution_arn), now)
    return {"receipt": receipt}


def _reinstatable_until(business_id: str, completed_at: datetime) -> str | None:
    """Until when the member can be reinstated from this receipt (the business's policy, 90 days by
    default), stated on the receipt itself (issue 11)."""
    from accessflow.domain.leavers import reinstatable_until

    business = store.get_business(business_id)
    return store._iso(reinstatable_until(completed_at, store.policy_of(business))) if business else None


def announce(business_id: str, member_id: str, offboarding_id: str, *, events: Any) -> dict[str, Any]:
    """``member.offboarded``, and ``account.orphaned`` for each account left without an Admin."""
    item = _record(business_id, member_id, offboarding_id)
    receipt = item.receipt or {}
    detail = {
        "business_id": business_id, "member_id": member_id, "offboarding_id": offboarding_id,
        "email": (receipt.get("member") or {}).get("email"), "source": item.source,
        "requested_by": item.requested_by, "reason": item.reason, "completed_at": receipt.get("completed_at"),
        "accounts": [g["account_id"] for g in receipt.get("grants_revoked", [])],
        "invitations": [i["invitation_id"] for i in receipt.get("invitations_revoked", [])],
        "orphaned_accounts": receipt.get("orphaned_accounts", []),
    }
    batch: list[tuple[str, dict[str, Any]]] = [("member.offboarded", detail)]
    batch += [("account.orphaned", {"business_id": business_id, "account_id": account_id,
                                    "former_admin_member_id": member_id, "offboarding_id": offboarding_id,
                                    "reason": item.reason, "source": item.source})
              for account_id in detail["orphaned_accounts"]]
    events.publish_many(batch)
    return {"events": len(batch)}
