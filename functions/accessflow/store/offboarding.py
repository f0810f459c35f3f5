"""The store side of offboarding: the offboarding record (claimed once per member), the member's
``OFFBOARDING`` and ``REMOVED`` moves, and the grant revocation in batched transactions.

Cost matters here (a member may hold a grant on every account of a large business), so grants are
revoked in chunks: each chunk is ONE ``TransactWriteItems`` of at most 100 items holding, per grant,
its conditional update ``ACTIVE → REVOKED`` (which also drops its GSI1 keys so it leaves the
per-account admin index), the account's ``admin_count`` decrement for an Admin grant, and the
grant's audit entry. A change and its audit entry stay in one transaction, as everywhere else.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from accessflow.domain.model import GrantStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.store.models import AccountItem, GrantItem, InvitationItem, MemberItem, OffboardingItem
from accessflow.store.repository import AuditDraft, ConditionFailed, Context, Tx, _actor_identity, _iso, biz_pk

#: TransactWriteItems takes at most 100 items.
MAX_TX_ITEMS = 100

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"

#: Member statuses an offboarding may start from.
OFFBOARDABLE = (MemberStatus.ACTIVE.value, MemberStatus.INVITED.value, MemberStatus.NEVER_JOINED.value)


def offboard_sk(member_id: str) -> str:
    return f"OFFBOARD#{member_id}"


# --- the offboarding record ----------------------------------------------------------------------


def get_offboarding(business_id: str, member_id: str) -> OffboardingItem | None:
    try:
        return OffboardingItem.get(biz_pk(business_id), offboard_sk(member_id), consistent_read=True)
    except DoesNotExist:
        return None


def claim_offboarding(
    member: MemberItem, *, source: str, requested_by: str, reason: str, previous_id: str | None,
    ctx: Context, now: datetime,
) -> OffboardingItem | None:
    """Create the member's offboarding record, once: the put is conditional on the record we read
    (none, or the completed one of an earlier membership), so any number of racing requests leave
    exactly one winner. Returns the new record, or None when another request won (re-read it)."""
    b, m = member.business_id, member.member_id
    item = OffboardingItem(
        pk=biz_pk(b), sk=offboard_sk(m), business_id=b, member_id=m, offboarding_id=uuid.uuid4().hex,
        status=IN_PROGRESS, source=source, requested_by=requested_by, reason=reason, started_at=now,
        attempt=1, attempts=[new_attempt(1, source=source, requested_by=requested_by, reason=reason, now=now)],
    )
    # who asked, as they are now: the workflow's later audit entries name them the same way
    item.requester_email, item.requester_name = _actor_identity(b, ctx)
    condition = (OffboardingItem.pk.does_not_exist() if previous_id is None
                 else OffboardingItem.offboarding_id == previous_id)
    tx = Tx(b, ctx, now)
    tx.save("offboarding", item, condition=condition)
    tx.check("member", MemberItem, biz_pk(b), f"MEMBER#{m}", MemberItem.status.is_in(*OFFBOARDABLE))
    tx.audit(AuditDraft("offboarding.requested", member_id=m, subject=item.offboarding_id, reason=reason,
                        after={"source": source, "requested_by": requested_by, "member_status": member.status}))
    try:
        tx.commit()
    except ConditionFailed:
        return None
    return item


def set_execution(item: OffboardingItem, execution_arn: str) -> None:
    item.update(actions=[OffboardingItem.execution_arn.set(execution_arn)],
                condition=OffboardingItem.offboarding_id == item.offboarding_id)


def new_attempt(number: int, *, source: str, requested_by: str, reason: str, now: datetime) -> dict[str, Any]:
    return {"attempt": number, "started_at": _iso(now), "source": source, "requested_by": requested_by,
            "reason": reason, "outcome": IN_PROGRESS, "ended_at": None, "error": None, "execution_arn": None}


def attempts_of(item: OffboardingItem) -> list[dict[str, Any]]:
    """The record's attempts (a record written before re-runs existed had exactly one)."""
    if item.attempts:
        return [dict(a) for a in item.attempts]
    return [new_attempt(1, source=item.source, requested_by=item.requested_by, reason=item.reason,
                        now=item.started_at) | {"outcome": item.status, "execution_arn": item.execution_arn}]


def current_attempt(item: OffboardingItem) -> int:
    return int(item.attempt or len(attempts_of(item)))


def closed_attempts(item: OffboardingItem, outcome: str, now: datetime, *, error: str | None = None,
                    execution_arn: str | None = None) -> list[dict[str, Any]]:
    """The attempts with the current one ended (``outcome`` COMPLETED or FAILED)."""
    attempts = attempts_of(item)
    attempts[-1] |= {"outcome": outcome, "ended_at": _iso(now), "error": error,
                     "execution_arn": execution_arn or attempts[-1].get("execution_arn")}
    return attempts


def _same_attempt(item: OffboardingItem) -> Any:
    """Condition: the record is still the one read, at the same attempt (IN_PROGRESS)."""
    condition = (OffboardingItem.offboarding_id == item.offboarding_id) & (OffboardingItem.status == IN_PROGRESS)
    if item.attempt is None:
        return condition & OffboardingItem.attempt.does_not_exist()
    return condition & (OffboardingItem.attempt == int(item.attempt))


def mark_failed(item: OffboardingItem, error: str, cause: str, ctx: Context, now: datetime) -> None:
    """The offboarding could not prove the member's access is gone: keep it visible as FAILED (and
    the current attempt's outcome), until someone re-runs it."""
    attempts = closed_attempts(item, FAILED, now, error=error, execution_arn=ctx.execution_arn)
    tx = Tx(item.business_id, ctx, now)
    tx.update("offboarding", item, [OffboardingItem.status.set(FAILED), OffboardingItem.completed_at.set(now),
                                    OffboardingItem.attempts.set(attempts),
                                    OffboardingItem.receipt.set({"error": error, "cause": cause[:2000],
                                                                 "attempts": attempts})],
              condition=_same_attempt(item))
    tx.audit(AuditDraft("offboarding.failed", member_id=item.member_id, subject=item.offboarding_id,
                        after={"error": error, "cause": cause[:500], "attempt": current_attempt(item)}))
    with contextlib.suppress(ConditionFailed):  # already recorded by an earlier attempt
        tx.commit()


def rerun(item: OffboardingItem, *, source: str, requested_by: str, reason: str, ctx: Context,
          now: datetime) -> OffboardingItem | None:
    """FAILED → IN_PROGRESS as a new attempt of the SAME offboarding (same id, same start, so the
    receipt covers every grant revoked by any attempt), audited. Conditional on the record we read
    (FAILED, at that attempt) and on the member not being REMOVED, so racing re-runs (an HR event and
    an admin) give one new attempt. None when another request won (re-read it)."""
    number = current_attempt(item) + 1
    attempts = [*attempts_of(item), new_attempt(number, source=source, requested_by=requested_by,
                                                reason=reason, now=now)]
    condition = (OffboardingItem.offboarding_id == item.offboarding_id) & (OffboardingItem.status == FAILED)
    condition &= (OffboardingItem.attempt == int(item.attempt) if item.attempt is not None
                  else OffboardingItem.attempt.does_not_exist())
    b, m = item.business_id, item.member_id
    tx = Tx(b, ctx, now)
    tx.update("offboarding", item, [OffboardingItem.status.set(IN_PROGRESS), OffboardingItem.attempt.set(number),
                                    OffboardingItem.attempts.set(attempts), OffboardingItem.completed_at.remove(),
                                    OffboardingItem.receipt.remove()], condition=condition)
    tx.check("member", MemberItem, biz_pk(b), f"MEMBER#{m}",
             MemberItem.status.is_in(MemberStatus.OFFBOARDING.value, *OFFBOARDABLE))
    tx.audit(AuditDraft("offboarding.rerun", member_id=m, subject=item.offboarding_id, reason=reason,
                        before={"status": FAILED, "attempt": number - 1,
                                "error": (item.receipt or {}).get("error")},
                        after={"status": IN_PROGRESS, "attempt": number, "source": source,
                               "requested_by": requested_by}))
    try:
        tx.commit()
    except ConditionFailed:
        return None
    return get_offboarding(b, m)


# --- member moves --------------------------------------------------------------------------------


def mark_offboarding(member: MemberItem, offboarding_id: str, ctx: Context, now: datetime) -> bool:
    """ACTIVE | INVITED | NEVER_JOINED → OFFBOARDING, conditional. False if the member is not in a
    state an offboarding starts from (the caller re-reads: a retry finds it already OFFBOARDING)."""
    tx = Tx(member.business_id, ctx, now)
    tx.update("member", member, [MemberItem.status.set(MemberStatus.OFFBOARDING.value),
                                 MemberItem.updated_at.set(now)],
              condition=MemberItem.status.is_in(*OFFBOARDABLE))
    tx.audit(AuditDraft("member.offboarding", member_id=member.member_id, subject=offboarding_id,
                        before={"status": member.status}, after={"status": MemberStatus.OFFBOARDING.value}))
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


def complete(item: OffboardingItem, receipt: dict[str, Any], ctx: Context, now: datetime) -> None:
    """OFFBOARDING → REMOVED, the receipt stored (with every attempt) and the audit entry, in one
    transaction."""
    b, m = item.business_id, item.member_id
    tx = Tx(b, ctx, now)
    tx.update("member", MemberItem(pk=biz_pk(b), sk=f"MEMBER#{m}"),
              [MemberItem.status.set(MemberStatus.REMOVED.value), MemberItem.updated_at.set(now)],
              condition=MemberItem.status == MemberStatus.OFFBOARDING.value)
    tx.update("offboarding", item, [OffboardingItem.status.set(COMPLETED), OffboardingItem.completed_at.set(now),
                                    OffboardingItem.receipt.set(receipt),
                                    OffboardingItem.attempts.set(receipt.get("attempts") or attempts_of(item))],
              condition=_same_attempt(item))
    tx.audit(AuditDraft("member.removed", member_id=m, subject=item.offboarding_id,
                        before={"status": MemberStatus.OFFBOARDING.value},
                        after={"status": MemberStatus.REMOVED.value,
                               "grants_revoked": len(receipt.get("grants_revoked", [])),
                               "invitations_revoked": len(receipt.get("invitations_revoked", [])),
                               "orphaned_accounts": receipt.get("orphaned_accounts", [])}))
    tx.commit()


# --- grants --------------------------------------------------------------------------------------


def _grant_sk(member_id: str, account_id: str) -> str:
    return f"GRANT#{member_id}#{account_id}"


def active_grants_between(business_id: str, member_id: str, first: str, last: str) -> list[GrantItem]:
    """The member's active grants on accounts ``first``..``last`` (inclusive, sort-key order)."""
    items = GrantItem.query(
        biz_pk(business_id), GrantItem.sk.between(_grant_sk(member_id, first), _grant_sk(member_id, last)),
        consistent_read=True,
    )
    return [g for g in items if g.status == GrantStatus.ACTIVE.value]


def revoked_since(business_id: str, member_id: str, since: datetime) -> list[GrantItem]:
    """The member's grants revoked at or after ``since`` (what an offboarding removed)."""
    items = GrantItem.query(biz_pk(business_id), GrantItem.sk.startswith(f"GRANT#{member_id}#"),
                            consistent_read=True)
    return [g for g in items if g.status == GrantStatus.REVOKED.value and g.updated_at >= since]


def tx_items(role: str) -> int:
    """Items one grant's revocation takes in a transaction: the update and its audit entry, plus the
    account's admin counter for an Admin grant."""
    return 3 if role == Role.ADMIN.value else 2


def pack(grants: Sequence[tuple[str, str]], limit: int = MAX_TX_ITEMS) -> list[list[tuple[str, str]]]:
    """Split (account_id, role) pairs, in order, into groups that each fit one transaction."""
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    used = 0
    for account_id, role in grants:
        size = tx_items(role)
        if current and used + size > limit:
            chunks.append(current)
            current, used = [], 0
        current.append((account_id, role))
        used += size
    if current:
        chunks.append(current)
    return chunks


def revocation_actions(ctx: Context, now: datetime) -> list[Any]:
    """The update that revokes an active grant: REVOKED, stamped, and out of the per-account index.
    Shared by every revocation path (offboarding, access review close)."""
    return [GrantItem.status.set(GrantStatus.REVOKED.value), GrantItem.updated_at.set(now),
            GrantItem.updated_by.set(ctx.actor), GrantItem.last_action.set("grant.revoked"),
            GrantItem.gsi1pk.remove(), GrantItem.gsi1sk.remove()]


def revoke_grants(grants: Sequence[GrantItem], offboarding_id: str, ctx: Context, now: datetime) -> int:
    """Revoke the given active grants in ONE transaction (they must fit: see :func:`pack`). Each is
    conditional on still being ACTIVE, so a retry after a lost response cannot double-decrement an
    admin counter: the transaction is cancelled and the caller re-reads."""
    if not grants:
        return 0
    b = grants[0].business_id
    tx = Tx(b, ctx, now)
    for grant in grants:
        tx.update(f"grant:{grant.account_id}", grant, revocation_actions(ctx, now),
                  condition=GrantItem.status == GrantStatus.ACTIVE.value)
        if grant.role == Role.ADMIN.value:
            tx.update(f"admins:{grant.account_id}", AccountItem(pk=biz_pk(b), sk=f"ACCOUNT#{grant.account_id}"),
                      [AccountItem.admin_count.add(-1)])
        tx.audit(AuditDraft("grant.revoked", member_id=grant.member_id, subject=grant.account_id,
                            before={"account_id": grant.account_id, "role": grant.role,
                                    "status": GrantStatus.ACTIVE.value},
                            after={"status": GrantStatus.REVOKED.value, "offboarding_id": offboarding_id}))
    tx.commit()
    return len(grants)


def admin_counts(business_id: str, account_ids: Iterable[str]) -> dict[str, int]:
    """Current Admin counters of the given accounts (one batched read)."""
    keys = [(biz_pk(business_id), f"ACCOUNT#{a}") for a in account_ids]
    return {item.account_id: int(item.admin_count or 0) for item in AccountItem.batch_get(keys)} if keys else {}


# --- invitations ---------------------------------------------------------------------------------


def invitations_for_email(business_id: str, email: str) -> list[InvitationItem]:
    """Every invitation of this e-mail in the business, whatever its status (GSI1, by e-mail)."""
    return list(InvitationItem.by_email.query(f"BIZ#{business_id}#EMAIL#{email}",
                                              InvitationItem.gsi1sk.startswith("INV#")))


def view(item: OffboardingItem) -> dict[str, Any]:
    return {
        "business_id": item.business_id, "member_id": item.member_id, "offboarding_id": item.offboarding_id,
        "status": item.status, "source": item.source, "requested_by": item.requested_by, "reason": item.reason,
        "started_at": _iso(item.started_at), "completed_at": _iso(item.completed_at),
        "execution_arn": item.execution_arn, "receipt": item.receipt,
        "attempt": current_attempt(item), "attempts": attempts_of(item),
    }
