"""The sweep's reads and claims: the two sparse indexes and the reminder claim.

Both indexes hold only what is still to be done, sorted by when it falls due, so a query with the
key condition ``<= now`` reads the due items and nothing else:

- ``DueIndex`` (``due_pk``, ``expires_at``): ``due_pk`` exists only while the invitation is PENDING;
  every transition out of PENDING removes it (accept, expire, revoke in ``repository``).
- ``RemindIndex`` (``remind_pk``, ``remind_at``): set when the invitation e-mail went out, removed
  by the reminder claim below (and by every transition out of PENDING).

Each index projects what the sweep needs (``models.DUE_INDEX_ATTRIBUTES``, ``REMIND_INDEX_ATTRIBUTES``),
so an index entry is all the sweep reads: no point read per due invitation. Entries are eventually
consistent; every decision is made again by a conditional write (:func:`expire_due`,
:func:`claim_reminder`) whose condition restates what the entry said, so a stale entry or a second
sweep running at the same time can only lose, never act twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from accessflow.domain.model import InvitationStatus
from accessflow.store.models import InvitationItem, MemberItem
from accessflow.store.repository import (
    DUE_SHARD,
    REMIND_SHARD,
    AuditDraft,
    ConditionFailed,
    Context,
    Tx,
    biz_pk,
    close_tx,
)


def _query(index: Any, shard: str, key: Any, now: datetime, limit: int, page_size: int) -> Iterator[InvitationItem]:
    """Due entries of one sparse index, oldest first, at most ``limit``, ``page_size`` per request
    (DynamoDB pages; PynamoDB follows ``LastEvaluatedKey``). Each is an invitation holding only the
    index's projected attributes."""
    if limit <= 0:
        return
    yield from index.query(shard, key <= now, limit=limit, page_size=min(page_size, limit))


def due_for_expiry(now: datetime, *, limit: int, page_size: int = 100) -> Iterator[InvitationItem]:
    """PENDING invitations whose ``expires_at <= now`` (DueIndex query, never a scan)."""
    return _query(InvitationItem.due, DUE_SHARD, InvitationItem.expires_at, now, limit, page_size)


def due_for_reminder(now: datetime, *, limit: int, page_size: int = 100) -> Iterator[InvitationItem]:
    """PENDING invitations whose reminder time has come and whose reminder has not been claimed."""
    return _query(InvitationItem.remind, REMIND_SHARD, InvitationItem.remind_at, now, limit, page_size)


def expire_due(entry: InvitationItem, ctx: Context, now: datetime, retention: timedelta) -> bool:
    """Expire the invitation of a DueIndex entry without reading it: one conditional transaction,
    whose condition is what the entry claimed (still PENDING, in the index, due, and the same task
    token, so the caller fails the execution that is really waiting). False when it does not hold
    any more: accepted, revoked, renewed or expired by someone else meanwhile, or a stale entry (the
    next run sees the fresh one).

    The member is moved ``INVITED → NEVER_JOINED`` in the same transaction, conditionally; if that
    alone fails, the member is active elsewhere (an additive invitation) and the invitation is
    expired without it."""
    condition = ((InvitationItem.status == InvitationStatus.PENDING.value) & InvitationItem.due_pk.exists()
                 & (InvitationItem.expires_at <= now))
    if entry.task_token:
        condition = condition & (InvitationItem.task_token == entry.task_token)
    else:
        condition = condition & InvitationItem.task_token.does_not_exist()
    member = MemberItem(pk=biz_pk(entry.business_id), sk=f"MEMBER#{entry.member_id}")
    for with_member in (True, False):
        tx = close_tx(entry, from_status=InvitationStatus.PENDING, to_status=InvitationStatus.EXPIRED,
                      action="invitation.expired", ctx=ctx, now=now, retention=retention, condition=condition,
                      member=member if with_member else None)
        try:
            tx.commit()
        except ConditionFailed as exc:
            if with_member and exc.labels == ["member"]:
                continue
            return False
        except TransactWriteError as exc:
            if _conflict(exc):
                return False  # another sweep's or an acceptance's transaction on the same item
            raise
        return True
    return False


def _conflict(exc: TransactWriteError) -> bool:
    return any(r is not None and r.code == "TransactionConflict" for r in exc.cancellation_reasons or [])


def claim_reminder(inv: InvitationItem, ctx: Context, now: datetime) -> bool:
    """Claim the one reminder of this invitation: removes it from the RemindIndex and stamps
    ``reminder_sent_at``, with its audit entry, in one conditional transaction. False when the
    reminder was already claimed (another sweep) or the invitation is no longer pending."""
    tx = Tx(inv.business_id, ctx, now)
    tx.update("invitation", inv, [
        InvitationItem.reminder_sent_at.set(now),
        InvitationItem.remind_pk.remove(),
        InvitationItem.remind_at.remove(),
    ], condition=(InvitationItem.status == InvitationStatus.PENDING.value)
        & InvitationItem.remind_pk.exists()
        & InvitationItem.reminder_sent_at.does_not_exist()
        & (InvitationItem.remind_at <= now))
    tx.audit(AuditDraft("invitation.reminded", member_id=inv.member_id, subject=inv.invitation_id,
                        after={"to": inv.email, "expires_at": inv.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    try:
        tx.commit()
    except ConditionFailed:
        return False
    except TransactWriteError as exc:
        # A concurrent transaction on the same item: if it was the other claim it sends the reminder;
        # if it failed, the index entry is still there and the next sweep claims it.
        if _conflict(exc):
            return False
        raise
    return True


def put_many(items: Iterable[InvitationItem]) -> int:
    """Write many invitations with BatchWriteItem (25 per request, unprocessed items retried by
    PynamoDB). For seeding large tables (benchmarks, load tests), never for user actions: no
    conditions and no audit entries."""
    count = 0
    with InvitationItem.batch_write() as batch:
        for item in items:
            batch.save(item)
            count += 1
    return count


def pending_item(
    business_id: str, invitation_id: str, member_id: str, email: str, *, grants: list[dict[str, str]],
    created_at: datetime, expires_at: datetime, remind_at: datetime | None = None,
) -> InvitationItem:
    """A PENDING invitation item as ``create_invitation`` + a sent e-mail would leave it (index keys
    included), for :func:`put_many`."""
    return InvitationItem(
        pk=f"BIZ#{business_id}", sk=f"INV#{invitation_id}", business_id=business_id,
        invitation_id=invitation_id, member_id=member_id, email=email, display_name=email, grants=grants,
        status=InvitationStatus.PENDING.value, source="api", requested_by="seed", created_at=created_at,
        updated_at=created_at, expires_at=expires_at, delivery="SENT", send_count=1, last_sent_at=created_at,
        gsi1pk=f"BIZ#{business_id}#EMAIL#{email}", gsi1sk=f"INV#{invitation_id}", due_pk=DUE_SHARD,
        remind_pk=REMIND_SHARD if remind_at else None, remind_at=remind_at,
    )
