"""The store side of movers: the move record, its reductions and its proposal, and the confirmation.

Two transactions, each with its audit entries:

- :func:`apply_move` writes the move record (conditional on not existing: a retry or a duplicate
  delivery applies nothing twice), checks the member is still ACTIVE, applies every reduction (a grant
  revoked as the offboarding revokes one, ``ACTIVE → REVOKED`` off the per-account index; a role
  lowered), each conditional on the grant being exactly what was read, with the Admin counter's
  last-Admin bound, and records the proposals as an invitation of the same id, already ``ACCEPTED``
  (the member is active and signed in: there is nothing to accept), so the confirmation queue and
  ``POST …/invitations/{id}/confirm`` handle it like any other.
- :func:`confirm_move` applies the kept proposals (``ACCEPTED → CONFIRMED``) with the Admin cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from accessflow.domain.model import Grant, GrantStatus, InvitationStatus, MemberStatus
from accessflow.domain.mover import LOWER, REMOVE, Change
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role
from accessflow.store.models import AccountItem, GrantItem, InvitationItem, MemberItem, MoveItem, MovePendingItem
from accessflow.store.repository import (
    AuditDraft,
    Context,
    Tx,
    _grant_item,
    account_key,
    account_open,
    biz_pk,
    close_tx,
)

SOURCE = "mover"  # the invitation's source: what the confirmation route dispatches on
APPLIED = "APPLIED"
AWAITING = "AWAITING_CONFIRMATION"
CONFIRMED = "CONFIRMED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"


def move_sk(move_id: str) -> str:
    return f"MOVE#{move_id}"


def get_move(business_id: str, move_id: str) -> MoveItem | None:
    try:
        return MoveItem.get(biz_pk(business_id), move_sk(move_id), consistent_read=True)
    except DoesNotExist:
        return None


def pending_sk(member_id: str) -> str:
    return f"MOVEPENDING#{member_id}"


def pending_move_id(business_id: str, member_id: str) -> str | None:
    """The move named by the member's pending marker (strongly consistent), waiting or not."""
    try:
        return str(MovePendingItem.get(biz_pk(business_id), pending_sk(member_id), consistent_read=True).move_id)
    except DoesNotExist:
        return None


def open_proposals(business_id: str, email: str) -> list[InvitationItem]:
    """The member's mover proposals still waiting for an Admin (GSI1, by e-mail)."""
    items = InvitationItem.by_email.query(
        f"BIZ#{business_id}#EMAIL#{email}", InvitationItem.gsi1sk.startswith("INV#"),
        filter_condition=(InvitationItem.status == InvitationStatus.ACCEPTED.value) & (InvitationItem.source == SOURCE))
    return list(items)


def _grant_state(account_id: str, role: Role | str | None, **extra: Any) -> dict[str, Any] | None:
    if role is None:
        return None
    return {"account_id": account_id, "role": str(role.value if isinstance(role, Role) else role)} | extra


def _set_role(tx: Tx, b: str, member_id: str, change: Change, current: GrantItem | None, *, action: str,
              invited_by: str, confirmed_by: str, invitation_id: str | None, now: datetime) -> None:
    assert change.after is not None
    item = _grant_item(b, member_id, Grant(account_id=change.account_id, role=change.after), now,
                       invited_by=current.invited_by if current and current.invited_by else invited_by,
                       confirmed_by=confirmed_by, invitation_id=invitation_id)
    item.updated_by = tx.ctx.actor
    item.last_action = action
    unchanged = (GrantItem.pk.does_not_exist() | (GrantItem.status == GrantStatus.REVOKED.value)
                 if change.before is None
                 else (GrantItem.status == GrantStatus.ACTIVE.value) & (GrantItem.role == change.before.value))
    tx.save(f"grant:{change.account_id}", item, condition=unchanged)


def apply_move(
    member: MemberItem, *, move_id: str, source: str, requested_by: str, desired: Sequence[Grant],
    reductions: Sequence[Change], proposals: Sequence[Change], needs_confirmation: bool,
    current: Mapping[str, GrantItem], confirmation_window: timedelta, ctx: Context, now: datetime,
    replaces_pending: str | None = None,
) -> MoveItem:
    """The move record, the reductions and the proposal, in ONE transaction (see the module's doc).
    Raises ``ConditionFailed`` naming what lost: ``move`` (recorded already), ``member`` (no longer
    ACTIVE), ``grant:{a}`` (changed meanwhile), ``admins:{a}`` (the last Admin), ``account:{a}``
    (retired meanwhile), ``pending`` (another move recorded a proposal since ``replaces_pending``, the
    marker's move the caller read and found no longer waiting, or None if there was none)."""
    b, m = member.business_id, member.member_id
    reduction_views = [c.as_dict() for c in reductions]
    proposal_views = [c.as_dict() for c in proposals]
    move = MoveItem(
        pk=biz_pk(b), sk=move_sk(move_id), business_id=b, move_id=move_id, member_id=m, source=source,
        requested_by=requested_by, status=(AWAITING if proposals else APPLIED),
        desired=[{"account_id": g.account_id, "role": g.role.value} for g in desired],
        reductions=reduction_views, proposals=proposal_views, needs_confirmation=needs_confirmation,
        created_at=now, updated_at=now,
    )
    tx = Tx(b, ctx, now)
    tx.save("move", move, condition=MoveItem.pk.does_not_exist())
    tx.check("member", MemberItem, biz_pk(b), member.sk, MemberItem.status == MemberStatus.ACTIVE.value)
    tx.audit(AuditDraft("member.change.requested", member_id=m, subject=move_id, after={
        "source": source, "requested_by": requested_by, "desired": move.desired, "reductions": reduction_views,
        "proposals": proposal_views, "needs_confirmation": needs_confirmation}))
    for change in reductions:
        grant = current[change.account_id]
        a = change.account_id
        if change.kind == REMOVE:  # as the offboarding revokes a grant (store.offboarding.revoke_grants)
            tx.update(f"grant:{a}", grant, [
                GrantItem.status.set(GrantStatus.REVOKED.value), GrantItem.updated_at.set(now),
                GrantItem.updated_by.set(ctx.actor), GrantItem.last_action.set("grant.revoked"),
                GrantItem.gsi1pk.remove(), GrantItem.gsi1sk.remove(),
            ], condition=(GrantItem.status == GrantStatus.ACTIVE.value) & (GrantItem.role == grant.role))
            tx.audit(AuditDraft("grant.revoked", member_id=m, subject=a,
                                before={"account_id": a, "role": grant.role, "status": GrantStatus.ACTIVE.value},
                                after={"status": GrantStatus.REVOKED.value, "move_id": move_id}))
        else:
            assert change.kind == LOWER
            _set_role(tx, b, m, change, grant, action="grant.changed", invited_by=ctx.actor,
                      confirmed_by=ctx.actor, invitation_id=grant.invitation_id, now=now)
            tx.audit(AuditDraft("grant.changed", member_id=m, subject=a, before=_grant_state(a, change.before),
                                after=_grant_state(a, change.after, move_id=move_id)))
        if change.admin_delta < 0:  # never the last Admin: a mover is not a termination
            tx.update(f"admins:{a}", account_key(b, a), [AccountItem.admin_count.add(-1)],
                      condition=AccountItem.pk.exists() & (AccountItem.admin_count > 1))
    if proposals:
        tx.save("pending", MovePendingItem(pk=biz_pk(b), sk=pending_sk(m), move_id=move_id),
                condition=MovePendingItem.pk.does_not_exist() if replaces_pending is None
                else MovePendingItem.move_id == replaces_pending)
        grants = [{"account_id": c.account_id, "role": c.after.value} for c in proposals if c.after]
        tx.save("invitation", InvitationItem(
            pk=biz_pk(b), sk=f"INV#{move_id}", business_id=b, invitation_id=move_id, member_id=m,
            email=member.email, display_name=member.display_name, grants=grants,
            status=InvitationStatus.ACCEPTED.value, source=SOURCE, requested_by=requested_by,
            idempotency_key=move_id, created_at=now, updated_at=now, expires_at=now + confirmation_window,
            accepted_sub=member.login_sub, accepted_at=now, needs_confirmation=needs_confirmation,
            delivery="NOT_SENT", gsi1pk=f"BIZ#{b}#EMAIL#{member.email}", gsi1sk=f"INV#{move_id}",
        ), condition=InvitationItem.pk.does_not_exist())
        for change in proposals:
            a = change.account_id
            # the account must be open; naming it bumps its version (a retirement conditions on it)
            tx.update(f"account:{a}", account_key(b, a), [AccountItem.version.add(1)], condition=account_open())
            tx.audit(AuditDraft("grant.proposed", member_id=m, subject=a, before=_grant_state(a, change.before),
                                after=_grant_state(a, change.after, move_id=move_id,
                                                   needs_confirmation=needs_confirmation)))
    tx.commit()
    return move


def confirm_move(
    move: MoveItem, inv: InvitationItem, kept: Sequence[Change], *, decided_by: str, policy: BusinessPolicy,
    ctx: Context, now: datetime,
) -> None:
    """ACCEPTED → CONFIRMED: the kept proposals become active grants (a raise to Admin under the
    business's cap, atomically), one audit entry per grant. Conditional on the invitation still being
    ACCEPTED, the member ACTIVE and each grant still what the move read."""
    b, m = move.business_id, move.member_id
    views = [c.as_dict() for c in kept]
    tx = Tx(b, ctx, now)
    tx.update("invitation", inv, [
        InvitationItem.status.set(InvitationStatus.CONFIRMED.value),
        InvitationItem.final_grants.set([{"account_id": c.account_id, "role": c.after.value} for c in kept
                                         if c.after]),
        InvitationItem.decided_by.set(decided_by), InvitationItem.decided_at.set(now),
        InvitationItem.updated_at.set(now),
    ], condition=InvitationItem.status == InvitationStatus.ACCEPTED.value)
    tx.update("move", move, [MoveItem.status.set(CONFIRMED), MoveItem.confirmed.set(views),
                             MoveItem.decided_by.set(decided_by), MoveItem.updated_at.set(now)],
              condition=MoveItem.status == AWAITING)
    tx.check("member", MemberItem, biz_pk(b), f"MEMBER#{m}", MemberItem.status == MemberStatus.ACTIVE.value)
    for change in kept:
        a = change.account_id
        action = "grant.added" if change.before is None else "grant.changed"
        _set_role(tx, b, m, change, None, action=action, invited_by=move.requested_by, confirmed_by=decided_by,
                  invitation_id=move.move_id, now=now)
        if change.admin_delta > 0:
            tx.update(f"admins:{a}", account_key(b, a), [AccountItem.admin_count.add(1), AccountItem.version.add(1)],
                      condition=account_open() & (AccountItem.admin_count < policy.max_admins_per_account))
        else:
            tx.update(f"account:{a}", account_key(b, a), [AccountItem.version.add(1)], condition=account_open())
        tx.audit(AuditDraft(action, member_id=m, subject=a, before=_grant_state(a, change.before),
                            after=_grant_state(a, change.after, move_id=move.move_id, confirmed_by=decided_by)))
    tx.commit()


def close_move(move: MoveItem, inv: InvitationItem | None, outcome: str, *, ctx: Context, now: datetime,
               retention: timedelta) -> None:
    """The proposal ended without confirmation: ``REJECTED`` (an admin declined it: the invitation is
    closed already, with its entry) or ``EXPIRED`` (nobody decided within the window: the invitation
    closes here, ``ACCEPTED → REJECTED``, audited as ``member.change.expired``). Conditional on the
    move still waiting; a retry finds it closed (``ConditionFailed``)."""
    if outcome == EXPIRED and inv is not None:
        tx = close_tx(inv, from_status=InvitationStatus.ACCEPTED, to_status=InvitationStatus.REJECTED,
                      action="member.change.expired", ctx=ctx, now=now, retention=retention,
                      condition=InvitationItem.status == InvitationStatus.ACCEPTED.value, member=None)
    else:
        tx = Tx(move.business_id, ctx, now)
        tx.audit(AuditDraft("member.change.declined", member_id=move.member_id, subject=move.move_id,
                            after={"declined": move.proposals}))
    tx.update("move", move, [MoveItem.status.set(outcome), MoveItem.updated_at.set(now)],
              condition=MoveItem.status == AWAITING)
    tx.commit()
