"""Movers: an HR event or an admin gives the member's complete desired set of grants; the difference
with today's applies now where it takes something away, and is proposed for confirmation where it
gives something (see docs/movers.md).

Both entry points share :func:`begin`: the HR event through the mover workflow's first step, the
admin route directly (it answers with what was applied), after which it starts the same workflow,
which announces ``member.changed`` and waits for the confirmation when one is needed.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.workflow import Workflow
from accessflow.domain import mover as rules
from accessflow.domain.errors import (
    AccountRetired,
    AdminLimitReached,
    Conflict,
    DomainError,
    Forbidden,
    LastAdmin,
    NotFound,
    TransactionConflict,
    UnknownAccount,
    UnknownBusiness,
    VerificationFailed,
)
from accessflow.domain.model import Grant, InvitationStatus, MemberStatus
from accessflow.domain.mover import ChangePending, EmptyGrants, MemberNotActive, UnknownMember
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role
from accessflow.observability import logger
from accessflow.store import mover as move_store
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.store.models import BusinessItem, GrantItem, MemberItem, MoveItem
from accessflow.usecases.offboarding import resolve_member

#: How long a proposal waits for an Admin (the workflow's AwaitConfirmation timeout says the same).
CONFIRMATION_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class MoveRequest:
    business_id: str
    grants: list[Grant]
    source: str  # "hr" | "api"
    requested_by: str  # hr: the HR system's requester; api: "member:{id}"
    member_id: str | None = None
    employee_id: str | None = None
    email: str | None = None
    idempotency_key: str | None = None
    move_id: str | None = None

    @property
    def actor(self) -> str:
        return self.requested_by if self.source == "api" else f"{self.source}:{self.requested_by}"

    def as_payload(self) -> dict[str, Any]:
        return {"business_id": self.business_id, "member_id": self.member_id, "employee_id": self.employee_id,
                "email": self.email, "grants": store.grants_json(self.grants), "requested_by": self.requested_by,
                "idempotency_key": self.idempotency_key}


def move_id_for(business_id: str, idempotency_key: str) -> str:
    """Deterministic: every delivery of one HR event (or one API call with the same Idempotency-Key)
    names the same move, invitation and execution."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"accessflow:{business_id}:move:{idempotency_key}").hex


def execution_name(move_id: str) -> str:
    return f"mov-{move_id}"


@dataclass(frozen=True)
class Plan:
    business: BusinessItem
    policy: BusinessPolicy
    member: MemberItem
    current: dict[str, GrantItem]
    diff: rules.MoveDiff
    replaces_pending: str | None = None  # the pending marker's move, read and found no longer waiting


def plan(req: MoveRequest, authorize: Callable[[list[str]], None] | None = None) -> Plan:
    """Read and decide; write nothing. ``authorize`` is given the accounts the move changes (the
    admin route: the caller must be Admin of each) before any rule that depends on the member's state
    is checked. Every refusal is a DomainError whose slug is the reason code (``unknown-business``,
    ``unknown-member``, ``empty-grants``, ``unknown-account``, ``member-not-active``,
    ``account-retired``, ``change-pending``, ``last-admin``, ``admin-limit``)."""
    b = req.business_id
    business = store.get_business(b)
    if business is None:
        raise UnknownBusiness(f"Business {b} does not exist.")
    member = resolve_member(b, member_id=req.member_id, employee_id=req.employee_id, email=req.email)
    if member is None:
        named = ", ".join(f"{k}={v}" for k, v in (("member_id", req.member_id), ("employee_id", req.employee_id),
                                                  ("email", req.email)) if v)
        raise UnknownMember(f"No member of this business matches {named}.")
    if not req.grants:
        raise EmptyGrants("The desired set is empty. To remove every access, offboard the member "
                          "(POST …/members/{id}/offboard or the member.offboarding.requested event): the "
                          "offboarding verifies nothing is left and keeps a receipt.")
    accounts = {a.account_id: a for a in store.get_accounts(b, include_retired=True)}
    unknown = sorted({g.account_id for g in req.grants} - set(accounts))
    if unknown:
        raise UnknownAccount(f"Unknown account(s) in business {b}: {', '.join(unknown)}.", accounts=unknown)
    current = {g.account_id: g for g in store.grants_of(b, member.member_id)}
    diff = rules.diff({a: Role(g.role) for a, g in current.items()}, req.grants)
    if authorize is not None:
        authorize(diff.accounts)
    if member.status != MemberStatus.ACTIVE.value:
        raise MemberNotActive(f"The member is {member.status}; only an ACTIVE member's grants can change.",
                              member_id=member.member_id, member_status=member.status)
    retired = sorted(c.account_id for c in diff.proposals if store.is_retired(accounts[c.account_id]))
    if retired:
        raise AccountRetired(f"Account(s) {', '.join(retired)} are retired; nobody can be given a role on them.",
                             accounts=retired)
    waiting = [w.invitation_id for w in move_store.open_proposals(b, member.email)]
    marker = move_store.pending_move_id(b, member.member_id)
    if marker is not None and not waiting:  # the index may lag; the marker is read consistently
        other = move_store.get_move(b, marker)
        if other is not None and other.status == move_store.AWAITING:
            waiting = [marker]
    if waiting:
        raise ChangePending(
            f"Change {waiting[0]} of this member awaits an Admin's confirmation; confirm or reject "
            "it first.", invitation_id=waiting[0])
    policy = store.policy_of(business)
    moving_admins = [c.account_id for c in (*diff.reductions, *diff.proposals) if c.admin_delta]
    rules.check_admin_rules(diff, off_store.admin_counts(b, moving_admins), policy)
    return Plan(business, policy, member, current, diff, replaces_pending=marker)


def begin(req: MoveRequest, ctx: store.Context, now: datetime, *,
          authorize: Callable[[list[str]], None] | None = None) -> MoveItem:
    """Apply the reductions and record the proposals, once per move id; confirm the proposals at once
    when none needs an Admin (``auto_confirm_non_admin``). Running it again returns the move."""
    move_id = req.move_id or (move_id_for(req.business_id, req.idempotency_key) if req.idempotency_key
                              else uuid.uuid4().hex)
    existing = move_store.get_move(req.business_id, move_id)
    for attempt in range(3):
        if existing is not None:
            break
        p = plan(req, authorize)
        d = p.diff
        needs = rules.needs_confirmation(d.proposals, p.policy)
        try:
            existing = move_store.apply_move(
                p.member, move_id=move_id, source=req.source, requested_by=req.actor, desired=req.grants,
                reductions=d.reductions, proposals=d.proposals, needs_confirmation=needs, current=p.current,
                confirmation_window=CONFIRMATION_WINDOW, ctx=ctx, now=now, replaces_pending=p.replaces_pending)
        except store.ConditionFailed as exc:
            existing = move_store.get_move(req.business_id, move_id)  # a racing duplicate: same effect
            replan = all(label.startswith("grant:") or label == "pending" for label in exc.labels)
            if existing is None and (attempt == 2 or not replan):
                raise _apply_error(exc, p) from exc
            # else a grant changed, or another move recorded a proposal, between the read and the
            # write: plan again from what is there now (that move's proposal is then change-pending)
        else:
            _verify(p.member, d)
    assert existing is not None
    if existing.status == move_store.AWAITING and not existing.needs_confirmation:
        try:
            _confirm(existing, None, decided_by="system:auto-confirm", ctx=ctx, now=now)
        except DomainError as exc:  # e.g. the Admin cap reached meanwhile: an admin decides instead
            if isinstance(exc, TransactionConflict):
                raise
            logger.warning("automatic confirmation refused; the proposal waits for an admin",
                           extra={"move_id": move_id, "problem": exc.slug})
        existing = move_store.get_move(req.business_id, move_id) or existing
    return existing


def _apply_error(exc: store.ConditionFailed, p: Plan) -> DomainError:
    named = {label.split(":", 1)[0]: label.split(":", 1)[1] for label in exc.labels if ":" in label}
    if "member" in exc.labels:
        return MemberNotActive("The member stopped being active meanwhile; nothing changed.")
    if "admins" in named:
        return LastAdmin(f"The member became the last Admin of {named['admins']} meanwhile; nothing changed.",
                         accounts=[named["admins"]])
    if "account" in named:
        return AccountRetired(f"Account {named['account']} was retired meanwhile; nothing changed.",
                              accounts=[named["account"]])
    return Conflict("The member's grants changed while the move was applied; nothing changed. Try again.")


def _verify(member: MemberItem, diff: rules.MoveDiff) -> None:
    """Read back what the reductions were to leave, as the offboarding verifies its revocations."""
    now_held = {g.account_id: g.role for g in store.grants_of(member.business_id, member.member_id)}
    left = [c.account_id for c in diff.reductions
            if now_held.get(c.account_id) != (c.after.value if c.after else None)]
    if left:
        raise VerificationFailed(f"grants not reduced as recorded on {', '.join(left)}")


# --- confirmation ------------------------------------------------------------------------------------


def _confirm(move: MoveItem, requested: list[Grant] | None, *, decided_by: str, ctx: store.Context,
             now: datetime) -> list[rules.Change]:
    inv = store.get_invitation(move.business_id, move.move_id)
    if inv is None:
        raise NotFound(f"The proposal {move.move_id} does not exist.")
    if inv.status != InvitationStatus.ACCEPTED.value:
        if inv.status == InvitationStatus.CONFIRMED.value and decided_by.startswith("system:"):
            return []
        raise Conflict(f"The proposal is {inv.status}; only one awaiting confirmation can be confirmed.",
                       current_status=inv.status)
    kept = rules.narrow([rules.Change.from_dict(c) for c in move.proposals], requested)
    business = store.get_business(move.business_id)
    policy = store.policy_of(business) if business else BusinessPolicy()
    try:
        move_store.confirm_move(move, inv, kept, decided_by=decided_by, policy=policy, ctx=ctx, now=now)
    except store.ConditionFailed as exc:
        named = [label.split(":", 1) for label in exc.labels if ":" in label]
        full = [a for kind, a in named if kind == "admins"]
        if full:
            raise AdminLimitReached(f"Account(s) {', '.join(full)} already have {policy.max_admins_per_account} "
                                    "Admins, the most the business allows.", accounts=full) from exc
        retired = [a for kind, a in named if kind == "account"]
        if retired:
            raise AccountRetired(f"Account(s) {', '.join(retired)} were retired; narrow the confirmation to the "
                                 "other accounts, or reject it.", accounts=retired) from exc
        if "member" in exc.labels:
            raise MemberNotActive("The member is no longer active; reject the proposal.") from exc
        fresh = store.get_invitation(move.business_id, move.move_id)
        raise Conflict(f"The proposal is {fresh.status if fresh else 'gone'}, or the member's grants changed "
                       "meanwhile; read it again.", current_status=fresh.status if fresh else None) from exc
    return kept


def confirm(business_id: str, move_id: str, *, confirmer_member_id: str, grants: list[Grant] | None,
            workflow: Workflow | None, ctx: store.Context, now: datetime) -> dict[str, Any]:
    """A second admin confirms a proposal (``POST …/invitations/{id}/confirm``), possibly narrowing it.
    Never the member, nor the admin who asked for the change (a mover has no acceptance step: the
    second pair of eyes is the confirmation itself)."""
    move = move_store.get_move(business_id, move_id)
    if move is None:
        raise NotFound(f"Invitation {move_id} not found.")
    if confirmer_member_id in (move.member_id, store.actor_member_id(move.requested_by)):
        raise Forbidden("Another Admin must confirm this change: neither the member nor the admin who asked "
                        "for it can.")
    kept = _confirm(move, grants, decided_by=confirmer_member_id, ctx=ctx, now=now)
    inv = store.get_invitation(business_id, move_id)
    if workflow is not None and inv is not None and inv.confirm_task_token:
        workflow.succeed(inv.confirm_task_token, {"confirmed_by": confirmer_member_id})
    return {"status": InvitationStatus.CONFIRMED.value, "invitation_id": move_id, "move_id": move_id,
            "member_id": move.member_id, "grants": [{"account_id": c.account_id, "role": c.after.value}
                                                    for c in kept if c.after],
            "applied": [c.as_dict() for c in kept], "confirmed_by": confirmer_member_id}


def finish(business_id: str, move_id: str, outcome: str, *, ctx: store.Context, now: datetime) -> MoveItem:
    """The confirmation wait ended: CONFIRMED (already recorded by the confirmation), REJECTED or
    EXPIRED (the move closes, audited). Safe to retry."""
    move = move_store.get_move(business_id, move_id)
    if move is None:
        raise NotFound(f"Move {move_id} not found.")
    if outcome in (move_store.REJECTED, move_store.EXPIRED) and move.status == move_store.AWAITING:
        business = store.get_business(business_id)
        retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
        inv = store.get_invitation(business_id, move_id)
        # closed by an earlier try, or decided meanwhile: the record says which
        with contextlib.suppress(store.ConditionFailed):
            move_store.close_move(move, inv, outcome, ctx=ctx, now=now, retention=retention)
        move = move_store.get_move(business_id, move_id) or move
    return move


def cancel_proposals(business_id: str, email: str, *, workflow: Workflow, ctx: store.Context, now: datetime,
                     retention: timedelta) -> list[dict[str, Any]]:
    """The offboarding's step that cancels invitations: a member who leaves takes their waiting mover
    proposals with them (``ACCEPTED → REJECTED``, audited ``member.change.cancelled``); each waiting
    mover execution is failed with ``InvitationRevoked`` and closes the move."""
    cancelled: list[dict[str, Any]] = []
    for inv in move_store.open_proposals(business_id, email):
        try:
            store.close_invitation(inv, from_status=InvitationStatus.ACCEPTED, to_status=InvitationStatus.REJECTED,
                                   action="member.change.cancelled", ctx=ctx, now=now, retention=retention)
        except store.ConditionFailed:
            continue  # decided meanwhile
        ended = workflow.fail(inv.confirm_task_token, "InvitationRevoked", "the member was offboarded") \
            if inv.confirm_task_token else False
        cancelled.append({"invitation_id": inv.invitation_id, "grants": inv.grants,
                          "execution_arn": inv.execution_arn, "execution_signalled": ended})
    return cancelled


# --- what is announced and answered ------------------------------------------------------------------


def view(move: MoveItem, member: MemberItem | None = None) -> dict[str, Any]:
    """The move as the API answers it and ``member.changed`` carries it: what was applied, what waits
    for an Admin (``pending``), what an Admin declined, and the member's grants now."""
    b = move.business_id
    member = member or store.get_member(b, move.member_id)
    applied = list(move.reductions or []) + list(move.confirmed or [])
    pending = list(move.proposals or []) if move.status == move_store.AWAITING else []
    declined = list(move.proposals or []) if move.status in (move_store.REJECTED, move_store.EXPIRED) else []
    if move.status == move_store.CONFIRMED:  # narrowed away by the confirmer
        kept = {c["account_id"] for c in move.confirmed or []}
        declined = [c for c in move.proposals or [] if c["account_id"] not in kept]
    return {
        "business_id": b, "move_id": move.move_id, "member_id": move.member_id,
        "email": member.email if member else None, "status": move.status, "source": move.source,
        "requested_by": move.requested_by, "applied": applied, "pending": pending, "declined": declined,
        "needs_confirmation": bool(pending),  # an Admin must decide (the automatic one already ran)
        "invitation_id": move.move_id if move.proposals else None,
        "grants": store.grants_json(sorted((Grant(account_id=g.account_id, role=Role(g.role))
                                            for g in store.grants_of(b, move.member_id)),
                                           key=lambda g: g.account_id)),
    }


def start_workflow(move: MoveItem, request: MoveRequest, *, workflow: Workflow, state_machine_arn: str) -> str:
    """The admin route's execution (the HR event's was started by the intake): same name, so a
    repeated call starts nothing new."""
    return workflow.start(state_machine_arn, execution_name(move.move_id),
                          {"business_id": move.business_id, "move_id": move.move_id, "source": request.source,
                           "request": request.as_payload()})


def reject_request(business_id: str, problem: dict[str, Any], request: dict[str, Any], *, events: EventPublisher,
                   ctx: store.Context, now: datetime) -> dict[str, Any]:
    """An HR move that cannot be honoured: nothing changed; the reason goes on the audit trail (when
    the business exists) and to the integrator as ``member.change.rejected`` with a reason code."""
    code = str(problem.get("type", "")).rsplit("/", 1)[-1] or "rejected"
    reason = str(problem.get("detail") or problem.get("title") or code)
    member_id = problem.get("member_id")
    if store.get_business(business_id) is not None:
        store.record_audit(business_id, store.AuditDraft("member.change.rejected", member_id=member_id,
                                                         reason=reason, after={"code": code, "request": request}),
                           ctx, now)
    detail = {"business_id": business_id, "code": code, "reason": reason, "member_id": member_id,
              "idempotency_key": request.get("idempotency_key"), "request": request}
    events.publish("member.change.rejected", detail)
    return detail


def problem_of(exc: DomainError) -> str:
    return json.dumps(exc.problem())
