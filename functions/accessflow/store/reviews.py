"""The store side of access review campaigns (issue 11). Keys (see ``store/models.py``):

* campaign ``BIZ#{b}`` / ``REVIEW#{c}`` (campaign ids sort by start time: newest first is a reverse
  query), and the lock ``BIZ#{b}`` / ``REVIEWOPEN`` that exists while one is open;
* items ``REVIEW#{b}#{c}`` / ``ITEM#{m}.{a}``, one per snapshotted grant, in their own partition so
  listing a campaign's items reads nothing else;
* assignments ``REVIEW#{b}#{c}`` / ``ASSIGN#{reviewer}#{m}.{a}``, keys only: a reviewer's inbox.

Every read is a key query or a batched point read. The snapshot reads the active grants through the
per-account index (GSI1, which holds only active grants), so it reads what it snapshots and nothing
more. The close writes in ``TransactWriteItems`` of up to 100 items: per removed grant its revocation
(the offboarding path's update), its audit entry and the review item's outcome, plus one admin-counter
update per account and transaction.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from accessflow.domain import review as rules
from accessflow.domain.errors import InvalidInput
from accessflow.domain.model import GrantStatus
from accessflow.domain.roles import Role
from accessflow.store import cursors
from accessflow.store import offboarding as off_store
from accessflow.store.models import (
    AccountItem,
    GrantItem,
    ReviewAssignmentItem,
    ReviewCampaignItem,
    ReviewItem,
    ReviewLockItem,
)
from accessflow.store.repository import AuditDraft, ConditionFailed, Context, Tx, account_gsi, biz_pk

MAX_TX_ITEMS = off_store.MAX_TX_ITEMS
LOCK_SK = "REVIEWOPEN"


def campaign_sk(campaign_id: str) -> str:
    return f"REVIEW#{campaign_id}"


def items_pk(business_id: str, campaign_id: str) -> str:
    return f"REVIEW#{business_id}#{campaign_id}"


def item_id(member_id: str, account_id: str) -> str:
    return f"{member_id}.{account_id}"


def new_campaign_id(now: datetime) -> str:
    return f"rv-{now.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"


# --- cursors -------------------------------------------------------------------------------------


def decode_cursor(cursor: str | None, pk: str) -> dict[str, Any] | None:
    """A cursor is the last key of the previous page; one of another campaign is refused (400)."""
    if not cursor:
        return None
    try:
        key = cursors.decode(cursor)
        if key["pk"]["S"] != pk or not str(key["sk"]["S"]).startswith(("ITEM#", "ASSIGN#")):
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("The cursor is not one this listing gave.") from exc
    return dict(key)


# --- campaigns -----------------------------------------------------------------------------------


def get_campaign(business_id: str, campaign_id: str) -> ReviewCampaignItem | None:
    try:
        return ReviewCampaignItem.get(biz_pk(business_id), campaign_sk(campaign_id), consistent_read=True)
    except DoesNotExist:
        return None


def list_campaigns(business_id: str) -> list[ReviewCampaignItem]:
    return list(ReviewCampaignItem.query(biz_pk(business_id), ReviewCampaignItem.sk.startswith("REVIEW#"),
                                         scan_index_forward=False))


def open_campaign_id(business_id: str) -> str | None:
    try:
        return str(ReviewLockItem.get(biz_pk(business_id), LOCK_SK, consistent_read=True).campaign_id)
    except DoesNotExist:
        return None


@dataclass(frozen=True)
class Snapshot:
    grants: list[GrantItem]
    accounts: list[str]


def snapshot(business_id: str) -> Snapshot:
    """Every active grant of the business: the accounts (one query), then each account's active
    grants through GSI1 (active grants only: revoked ones are never read)."""
    accounts = [a.account_id for a in AccountItem.query(biz_pk(business_id), AccountItem.sk.startswith("ACCOUNT#"))]
    grants: list[GrantItem] = []
    for account_id in accounts:
        grants.extend(GrantItem.by_account.query(account_gsi(business_id, account_id)))
    return Snapshot([g for g in grants if g.status == GrantStatus.ACTIVE.value], accounts)


#: parallel batch writers at start: a campaign of 10,000 grants is ~1,200 BatchWriteItem calls, which
#: one after the other would come close to the API's 30-second integration timeout
WRITERS = 8


def write_items(items: Sequence[ReviewItem], assignments: Sequence[ReviewAssignmentItem]) -> None:
    """Batched puts (25 per call), in parallel slices. Written before the campaign exists: until it
    does, nothing reads them, and writing them again (a retried start) writes the same keys."""
    everything: list[Any] = [*items, *assignments]
    size = max(25, -(-len(everything) // WRITERS))

    def write(part: Sequence[Any]) -> None:
        with ReviewItem.batch_write() as batch:
            for item in part:
                batch.save(item)

    parts = [everything[i:i + size] for i in range(0, len(everything), size)]
    if len(parts) <= 1:
        for part in parts:
            write(part)
        return
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        for done in [pool.submit(write, part) for part in parts]:
            done.result()


def create_campaign(campaign: ReviewCampaignItem, ctx: Context, now: datetime) -> None:
    """The campaign, the business's one-open-campaign lock and the audit entry, in one transaction;
    ``ConditionFailed(["lock"])`` when a campaign is already open."""
    b = campaign.business_id
    tx = Tx(b, ctx, now)
    tx.save("lock", ReviewLockItem(pk=biz_pk(b), sk=LOCK_SK, campaign_id=campaign.campaign_id),
            condition=ReviewLockItem.pk.does_not_exist())
    tx.save("campaign", campaign, condition=ReviewCampaignItem.pk.does_not_exist())
    tx.audit(AuditDraft("review.started", subject=campaign.campaign_id, after={
        "name": campaign.name, "items": int(campaign.items), "flagged": int(campaign.flagged),
        "deadline": campaign.deadline.strftime("%Y-%m-%dT%H:%M:%SZ"), "undecided_policy": campaign.undecided_policy,
        "started_by": campaign.started_by}))
    tx.commit()


def set_execution(campaign: ReviewCampaignItem, arn: str) -> None:
    campaign.update(actions=[ReviewCampaignItem.execution_arn.set(arn)])


def claim_notice(campaign: ReviewCampaignItem, which: str, now: datetime) -> bool:
    """Mark the start notice (``notified_at``) or the halfway reminder (``reminder_sent_at``) as sent,
    once, with its audit entry: True for the one caller that may send it."""
    attr = ReviewCampaignItem.notified_at if which == "start" else ReviewCampaignItem.reminder_sent_at
    tx = Tx(campaign.business_id, Context(actor="system:review", actor_name="Access review"), now)
    tx.update("campaign", campaign, [attr.set(now)], condition=attr.does_not_exist())
    tx.audit(AuditDraft("review.notified" if which == "start" else "review.reminded", subject=campaign.campaign_id))
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


# --- items ---------------------------------------------------------------------------------------


def get_items(business_id: str, campaign_id: str, ids: Iterable[str]) -> dict[str, ReviewItem]:
    pk = items_pk(business_id, campaign_id)
    keys = [(pk, f"ITEM#{i}") for i in dict.fromkeys(ids)]
    return {item.item_id: item for item in ReviewItem.batch_get(keys, consistent_read=True)} if keys else {}


def items_page(business_id: str, campaign_id: str, *, limit: int, cursor: str | None,
               decided: bool | None = None) -> tuple[list[ReviewItem], str | None]:
    pk = items_pk(business_id, campaign_id)
    condition: Any = None
    if decided is True:
        condition = ReviewItem.decision.exists()
    elif decided is False:
        condition = ReviewItem.decision.does_not_exist()
    result = ReviewItem.query(pk, ReviewItem.sk.startswith("ITEM#"), filter_condition=condition, limit=limit,
                              page_size=limit, last_evaluated_key=decode_cursor(cursor, pk))
    items = list(result)
    return items, cursors.encode(result.last_evaluated_key)


def assigned_page(business_id: str, campaign_id: str, reviewer_id: str, *, limit: int, cursor: str | None,
                  decided: bool | None = None) -> tuple[list[ReviewItem], str | None]:
    """A reviewer's items: their pointers (one key range), then the items (one batched read)."""
    pk = items_pk(business_id, campaign_id)
    result = ReviewAssignmentItem.query(pk, ReviewAssignmentItem.sk.startswith(f"ASSIGN#{reviewer_id}#"),
                                        limit=limit, page_size=limit, last_evaluated_key=decode_cursor(cursor, pk))
    ids = [p.item_id for p in result]
    found = get_items(business_id, campaign_id, ids)
    items = [found[i] for i in ids if i in found]
    if decided is not None:
        items = [i for i in items if (i.decision is not None) == decided]
    return items, cursors.encode(result.last_evaluated_key)


def all_items(business_id: str, campaign_id: str) -> list[ReviewItem]:
    return list(ReviewItem.query(items_pk(business_id, campaign_id), ReviewItem.sk.startswith("ITEM#")))


# --- decisions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    item: ReviewItem  # as read
    decision: str
    note: str | None


#: decisions per transaction: each is its item's update and its audit entry, plus the campaign's counters
DECISIONS_PER_TX = (MAX_TX_ITEMS - 1) // 2


def record_decisions(campaign: ReviewCampaignItem, changes: Sequence[Change], ctx: Context, now: datetime,
                     reviewer_id: str) -> None:
    """One transaction: the items (each conditional on the decision we read, so the counters stay
    exact under races), the campaign's counters (conditional on OPEN) and one audit entry per item."""
    counts: Counter[str] = Counter()
    b = campaign.business_id
    tx = Tx(b, ctx, now)
    for change in changes:
        item, before = change.item, change.item.decision
        if before is None:
            counts["decided"] += 1
        if before != change.decision:
            counts[change.decision] += 1
            if before is not None:
                counts[before] -= 1
        condition = (ReviewItem.decision.does_not_exist() if before is None else ReviewItem.decision == before)
        actions = [ReviewItem.decision.set(change.decision), ReviewItem.decided_by.set(reviewer_id),
                   ReviewItem.decided_at.set(now)]
        actions.append(ReviewItem.note.set(change.note) if change.note else ReviewItem.note.remove())
        tx.update(f"item:{item.item_id}", item, actions, condition=condition & ReviewItem.pk.exists())
        tx.audit(AuditDraft("review.decided", member_id=item.member_id, subject=campaign.campaign_id,
                            before={"account_id": item.account_id, "role": item.role, "decision": before},
                            after={"decision": change.decision, "note": change.note, "item_id": item.item_id}))
    counters: list[Any] = [getattr(ReviewCampaignItem, k).add(v) for k, v in counts.items() if v]
    if counters:
        tx.update("campaign", campaign, counters, condition=ReviewCampaignItem.status == rules.OPEN)
    else:
        tx.check("campaign", ReviewCampaignItem, biz_pk(b), campaign_sk(campaign.campaign_id),
                 ReviewCampaignItem.status == rules.OPEN)
    tx.commit()


# --- the close -----------------------------------------------------------------------------------


def begin_close(campaign: ReviewCampaignItem, ctx: Context, now: datetime) -> bool:
    """OPEN → CLOSING (no decision is accepted after this), audited. False if it already moved."""
    tx = Tx(campaign.business_id, ctx, now)
    tx.update("campaign", campaign, [ReviewCampaignItem.status.set(rules.CLOSING)],
              condition=ReviewCampaignItem.status == rules.OPEN)
    tx.audit(AuditDraft("review.closing", subject=campaign.campaign_id,
                        after={"decided": int(campaign.decided), "items": int(campaign.items)}))
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


def items_from(business_id: str, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[ReviewItem],
                                                                                            str | None]:
    return items_page(business_id, campaign_id, limit=limit, cursor=cursor)


def admin_counts(business_id: str, account_ids: Iterable[str]) -> dict[str, int]:
    return off_store.admin_counts(business_id, list(dict.fromkeys(account_ids)))


@dataclass(frozen=True)
class Removal:
    item: ReviewItem
    outcome: str


def _tx_cost(removal: Removal, counters: set[str]) -> int:
    """Items a removal adds to a transaction: the grant, its audit entry, the review item, and the
    account's admin counter the first time an Admin grant of that account is in the transaction."""
    extra = 1 if removal.item.role == Role.ADMIN.value and removal.item.account_id not in counters else 0
    return 3 + extra


def pack(removals: Sequence[Removal], limit: int = MAX_TX_ITEMS) -> list[list[Removal]]:
    chunks: list[list[Removal]] = []
    current: list[Removal] = []
    counters: set[str] = set()
    used = 0
    for removal in removals:
        cost = _tx_cost(removal, counters)
        if current and used + cost > limit:
            chunks.append(current)
            current, counters, used = [], set(), 0
            cost = _tx_cost(removal, counters)
        current.append(removal)
        used += cost
        if removal.item.role == Role.ADMIN.value:
            counters.add(removal.item.account_id)
    if current:
        chunks.append(current)
    return chunks


def _grant_key(business_id: str, item: ReviewItem) -> GrantItem:
    return GrantItem(pk=biz_pk(business_id), sk=f"GRANT#{item.member_id}#{item.account_id}")


def revoke_chunk(campaign: ReviewCampaignItem, chunk: Sequence[Removal], ctx: Context, now: datetime) -> None:
    """ONE transaction: each grant revoked through the offboarding path's update (conditional on being
    still ACTIVE in the role that was reviewed), its audit entry, the review item's outcome
    (conditional on not applied yet: a retry after a lost response is cancelled, not doubled) and
    each account's admin counter once."""
    b, c = campaign.business_id, campaign.campaign_id
    tx = Tx(b, ctx, now)
    admin_removed: Counter[str] = Counter()
    for removal in chunk:
        item = removal.item
        tx.update(f"grant:{item.item_id}", _grant_key(b, item), off_store.revocation_actions(ctx, now),
                  condition=(GrantItem.status == GrantStatus.ACTIVE.value) & (GrantItem.role == item.role))
        tx.audit(AuditDraft("grant.revoked", member_id=item.member_id, subject=item.account_id,
                            before={"account_id": item.account_id, "role": item.role,
                                    "status": GrantStatus.ACTIVE.value},
                            after={"status": GrantStatus.REVOKED.value, "review_campaign_id": c,
                                   "outcome": removal.outcome}))
        tx.update(f"item:{item.item_id}", item, [ReviewItem.outcome.set(removal.outcome),
                                                 ReviewItem.applied.set("revoked"), ReviewItem.applied_at.set(now)],
                  condition=ReviewItem.applied.does_not_exist())
        if item.role == Role.ADMIN.value:
            admin_removed[item.account_id] += 1
    for account_id, n in admin_removed.items():
        tx.update(f"admins:{account_id}", AccountItem(pk=biz_pk(b), sk=f"ACCOUNT#{account_id}"),
                  [AccountItem.admin_count.add(-n)])
    tx.commit()


def mark_unapplied(campaign: ReviewCampaignItem, items: Sequence[tuple[ReviewItem, str, str]], ctx: Context,
                   now: datetime) -> None:
    """Removals that could not be applied (``already-revoked``, ``changed-since-snapshot``,
    ``kept-last-admin``): their outcome and why, in transactions of up to 100 items."""
    for start in range(0, len(items), MAX_TX_ITEMS):
        tx = Tx(campaign.business_id, ctx, now)
        for item, result, applied in items[start:start + MAX_TX_ITEMS]:
            tx.update(f"item:{item.item_id}", item, [ReviewItem.outcome.set(result), ReviewItem.applied.set(applied),
                                                     ReviewItem.applied_at.set(now)],
                      condition=ReviewItem.applied.does_not_exist())
        try:
            tx.commit()
        except ConditionFailed:
            continue  # a retry finds them already marked


def current_grants(business_id: str, items: Iterable[ReviewItem]) -> dict[str, GrantItem]:
    """The grants behind the items now (one batched read; the verification's and the fallback's)."""
    keys = [(biz_pk(business_id), f"GRANT#{i.member_id}#{i.account_id}") for i in items]
    return {f"{g.member_id}.{g.account_id}": g for g in GrantItem.batch_get(keys, consistent_read=True)} if keys \
        else {}


def finish(campaign: ReviewCampaignItem, applied: dict[str, int], ctx: Context, now: datetime) -> bool:
    """CLOSING → CLOSED, the lock released, the audit entry: one transaction. False if already done."""
    b = campaign.business_id
    tx = Tx(b, ctx, now)
    tx.update("campaign", campaign, [ReviewCampaignItem.status.set(rules.CLOSED), ReviewCampaignItem.closed_at.set(now),
                                     ReviewCampaignItem.applied.set(applied)],
              condition=ReviewCampaignItem.status == rules.CLOSING)
    tx.delete("lock", ReviewLockItem(pk=biz_pk(b), sk=LOCK_SK),
              condition=ReviewLockItem.campaign_id == campaign.campaign_id)
    tx.audit(AuditDraft("review.closed", subject=campaign.campaign_id, after=applied))
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True
