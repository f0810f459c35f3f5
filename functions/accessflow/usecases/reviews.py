"""Access review campaigns (issue 11): start, decide, read, and the state machine's steps (notify,
remind, close). Contract with the console and the schedule: ``/work``'s ``REVIEW_CONTRACT.md``,
user documentation: ``docs/reviews.md``.

A campaign snapshots every active grant of the business and assigns each to the Admins of its
account, never to its holder (see :func:`accessflow.domain.review.assign`). ``workflows/review.asl.json``
then waits until halfway (reminders), waits until the deadline, and closes: removals go through the
offboarding path's revocation (verified), undecided grants follow the policy snapshotted at start.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.mailer import DeliveryFailed, Mailer
from accessflow.adapters.workflow import Workflow
from accessflow.domain import review as rules
from accessflow.domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TransactionConflict,
    UnknownBusiness,
    VerificationFailed,
)
from accessflow.domain.export import csv_text
from accessflow.domain.roles import Role
from accessflow.observability import logger
from accessflow.store import activity
from accessflow.store import repository as store
from accessflow.store import reviews as rv
from accessflow.store.models import GrantItem, MemberItem, ReviewAssignmentItem, ReviewCampaignItem, ReviewItem
from accessflow.usecases import messages

SCHEDULE = "schedule"
DEFAULT_DURATION_DAYS = 14


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _ctx(started_by: str, request_id: str | None = None) -> store.Context:
    if started_by == SCHEDULE:
        return store.Context(actor="system:review-schedule", request_id=request_id)
    return store.Context(actor=f"member:{started_by}", request_id=request_id)


# --- views ---------------------------------------------------------------------------------------


def campaign_view(c: ReviewCampaignItem) -> dict[str, Any]:
    items, decided, flagged = int(c.items or 0), int(c.decided or 0), int(c.flagged or 0)
    return {
        "campaign_id": c.campaign_id, "business_id": c.business_id, "name": c.name, "status": c.status,
        "started_at": _iso(c.started_at), "started_by": c.started_by, "halfway_at": _iso(c.halfway_at),
        "deadline": _iso(c.deadline), "closed_at": _iso(c.closed_at), "undecided_policy": c.undecided_policy,
        "idle_after_days": int(c.idle_after_days or 90),
        "counts": {"items": items, "decided": decided, "keep": int(c.keep or 0), "remove": int(c.remove or 0),
                   "undecided": items - decided, "flagged": flagged},
        "reminder_sent_at": _iso(c.reminder_sent_at), "applied": c.applied,
    }


class _People:
    """Members named in a page of items, read in one batch (holders, reviewers, deciders)."""

    def __init__(self, business_id: str, items: Sequence[ReviewItem]) -> None:
        ids: list[str] = []
        for item in items:
            ids.append(item.member_id)
            ids.extend(item.reviewers or [])
            if item.decided_by:
                ids.append(item.decided_by)
        self.by_id: dict[str, MemberItem] = store.members_by_id(business_id, ids)
        self.accounts = {a.account_id: a.name for a in store.get_accounts(business_id, include_retired=True)}
        holders = list(dict.fromkeys(i.member_id for i in items))
        self.activity = activity.last_activity(business_id, holders) if holders else {}

    def person(self, member_id: str | None) -> dict[str, Any] | None:
        if not member_id:
            return None
        m = self.by_id.get(member_id)
        return {"member_id": member_id, "email": m.email if m else None, "name": m.display_name if m else None}


def item_view(item: ReviewItem, people: _People, campaign: ReviewCampaignItem, now: datetime) -> dict[str, Any]:
    holder = people.by_id.get(item.member_id)
    last = people.activity.get(item.member_id)
    return {
        "item_id": item.item_id, "member_id": item.member_id, "member_email": holder.email if holder else None,
        "member_name": holder.display_name if holder else None, "account_id": item.account_id,
        "account_name": people.accounts.get(item.account_id), "role": item.role,
        "reviewers": [people.person(r) for r in item.reviewers or []], "flagged": bool(item.flagged),
        "escalated": bool(item.escalated), "decision": item.decision, "decided_by": people.person(item.decided_by),
        "decided_at": _iso(item.decided_at), "note": item.note, "last_activity_at": _iso(last),
        "idle": rules.is_idle(last, item.since, now, int(campaign.idle_after_days or 90)),
    }


def report_row(item: ReviewItem, people: _People, campaign: ReviewCampaignItem, now: datetime) -> dict[str, Any]:
    row = item_view(item, people, campaign, now)
    outcome: str | None = item.outcome
    if outcome is None and campaign.status == rules.CLOSED:
        outcome = rules.outcome(item.decision, campaign.undecided_policy).value
    applied = item.applied or ("unchanged" if outcome else None)
    return row | {"outcome": outcome, "applied": applied, "applied_at": _iso(item.applied_at)}


REPORT_COLUMNS = ("item_id", "member_id", "member_email", "member_name", "account_id", "account_name", "role",
                  "reviewers", "flagged", "decision", "decided_by", "decided_at", "note", "last_activity_at", "idle",
                  "outcome", "applied", "applied_at")


def report_csv(rows: Sequence[dict[str, Any]]) -> str:
    def flat(row: dict[str, Any]) -> dict[str, Any]:
        decided = row.get("decided_by") or {}
        return row | {"reviewers": "; ".join(r["email"] or r["member_id"] for r in row["reviewers"]),
                      "decided_by": decided.get("email") or decided.get("member_id"),
                      "flagged": str(row["flagged"]).lower(), "idle": str(row["idle"]).lower()}
    return csv_text(REPORT_COLUMNS, [flat(r) for r in rows])


# --- reading -------------------------------------------------------------------------------------


def require_campaign(business_id: str, campaign_id: str) -> ReviewCampaignItem:
    campaign = rv.get_campaign(business_id, campaign_id)
    if campaign is None:
        raise NotFound(f"Review campaign {campaign_id} not found.")
    return campaign


def list_campaigns(business_id: str) -> list[dict[str, Any]]:
    return [campaign_view(c) for c in rv.list_campaigns(business_id)]


def list_items(business_id: str, campaign_id: str, *, reviewer_id: str | None, decided: bool | None,
               cursor: str | None, limit: int, now: datetime) -> dict[str, Any]:
    campaign = require_campaign(business_id, campaign_id)
    if reviewer_id:
        items, next_cursor = rv.assigned_page(business_id, campaign_id, reviewer_id, limit=limit, cursor=cursor,
                                              decided=decided)
    else:
        items, next_cursor = rv.items_page(business_id, campaign_id, limit=limit, cursor=cursor, decided=decided)
    people = _People(business_id, items)
    return {"items": [item_view(i, people, campaign, now) for i in items], "next_cursor": next_cursor}


def report(business_id: str, campaign_id: str, *, now: datetime, cursor: str | None = None,
           limit: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """Every snapshotted grant exactly once (the items' partition, in key order): all of them, or a
    page of ``limit`` from ``cursor`` (a large campaign's JSON would exceed Lambda's 6 MB response)."""
    campaign = require_campaign(business_id, campaign_id)
    next_cursor: str | None = None
    if limit is None and cursor is None:
        items = rv.all_items(business_id, campaign_id)
    else:
        items, next_cursor = rv.items_page(business_id, campaign_id, limit=limit or 1000, cursor=cursor)
    people = _People(business_id, items)
    return campaign_view(campaign), [report_row(i, people, campaign, now) for i in items], next_cursor


# --- start ---------------------------------------------------------------------------------------


def start_campaign(business_id: str, *, started_by: str, name: str | None, duration_days: int = DEFAULT_DURATION_DAYS,
                   workflow: Workflow, state_machine_arn: str, now: datetime,
                   request_id: str | None = None) -> dict[str, Any]:
    """Snapshot every active grant, assign reviewers, open the campaign and start its workflow.
    ``started_by`` is the starting Admin's member id, or ``"schedule"``. 409 ``review-in-progress``
    while another campaign of the business is open (the lock is a conditional put)."""
    now = now.replace(microsecond=0)
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    if rv.open_campaign_id(business_id):
        raise rules.ReviewInProgress("Another access review of this business is open; close it first.")
    policy = store.policy_of(business)
    halfway, deadline = rules.schedule(now, duration_days)
    campaign_id = rv.new_campaign_id(now)
    snap = rv.snapshot(business_id)

    account_admins: dict[str, list[str]] = defaultdict(list)
    for g in snap.grants:
        if g.role == Role.ADMIN.value:
            account_admins[g.account_id].append(g.member_id)
    business_admins = {m for admins in account_admins.values() for m in admins}
    pk = rv.items_pk(business_id, campaign_id)
    items: list[ReviewItem] = []
    pointers: list[ReviewAssignmentItem] = []
    assigned: Counter[str] = Counter()
    for g in snap.grants:
        who = rules.assign(rules.SnapshotGrant(g.member_id, g.account_id, g.role), account_admins, business_admins)
        iid = rv.item_id(g.member_id, g.account_id)
        items.append(ReviewItem(pk=pk, sk=f"ITEM#{iid}", business_id=business_id, campaign_id=campaign_id, item_id=iid,
                                member_id=g.member_id, account_id=g.account_id, role=g.role, since=g.updated_at,
                                reviewers=list(who.reviewers), flagged=who.flagged, escalated=who.escalated))
        for r in who.reviewers:
            pointers.append(ReviewAssignmentItem(pk=pk, sk=f"ASSIGN#{r}#{iid}", item_id=iid))
            assigned[r] += 1
    campaign = ReviewCampaignItem(
        pk=store.biz_pk(business_id), sk=rv.campaign_sk(campaign_id), business_id=business_id,
        campaign_id=campaign_id, name=(name or f"Access review {now:%Y-%m-%d}")[:200], status=rules.OPEN,
        started_at=now, started_by=started_by, halfway_at=halfway, deadline=deadline,
        undecided_policy=policy.review_undecided, idle_after_days=policy.review_idle_after_days,
        items=len(items), decided=0, keep=0, remove=0, flagged=sum(1 for i in items if i.flagged),
        assigned=dict(assigned))
    rv.write_items(items, pointers)
    try:
        rv.create_campaign(campaign, _ctx(started_by, request_id), now)
    except store.ConditionFailed as exc:
        raise rules.ReviewInProgress("Another access review of this business is open; close it first.") from exc
    arn = workflow.start(state_machine_arn, campaign_id, {
        "business_id": business_id, "campaign_id": campaign_id,
        "halfway_at": _iso(halfway), "deadline": _iso(deadline)})
    rv.set_execution(campaign, arn)
    logger.info("review started", extra={"business_id": business_id, "campaign_id": campaign_id,
                                         "items": len(items), "reviewers": len(assigned)})
    return campaign_view(campaign)


# --- decisions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    item_id: str
    decision: str
    note: str | None = None


def _refusal(item_id: str, error: DomainError) -> dict[str, Any]:
    problem = error.problem()
    return {"item_id": item_id, "status": "refused",
            "problem": {"type": problem["type"], "title": problem["title"], "detail": problem["detail"]}}


def decide(business_id: str, campaign_id: str, reviewer: MemberItem, decisions: Sequence[DecisionInput], *,
           now: datetime, request_id: str | None = None) -> list[dict[str, Any]]:
    """Record keep/remove decisions, each only by an assigned reviewer of its item (never the
    holder: they are never assigned). A decision may change until the campaign closes. Each result
    is ``recorded`` or ``refused`` with the problem; 409 ``review-closed`` once it is not OPEN."""
    campaign = require_campaign(business_id, campaign_id)
    rules.check_open(campaign.status)
    ctx = store.Context.of_member(reviewer, request_id=request_id)
    results: dict[int, dict[str, Any]] = {}
    wanted: dict[str, tuple[int, DecisionInput]] = {}
    for n, d in enumerate(decisions):
        if d.item_id in wanted:
            results[n] = _refusal(d.item_id, InvalidInput("The same grant appears twice in this request."))
        else:
            wanted[d.item_id] = (n, d)
    pending = dict(wanted)
    for _attempt in range(3):
        items = rv.get_items(business_id, campaign_id, pending)
        changes: list[tuple[int, rv.Change]] = []
        for iid, (n, d) in pending.items():
            item = items.get(iid)
            if item is None:
                results[n] = _refusal(iid, NotFound(f"No grant {iid} in this campaign."))
            elif reviewer.member_id == item.member_id:
                results[n] = _refusal(iid, Forbidden("Nobody reviews their own access."))
            elif reviewer.member_id not in (item.reviewers or []):
                results[n] = _refusal(iid, Forbidden("You are not a reviewer of this grant: its account's "
                                                     "Admins are."))
            else:
                changes.append((n, rv.Change(item, d.decision, d.note or None)))
        retry: dict[str, tuple[int, DecisionInput]] = {}
        for start in range(0, len(changes), rv.DECISIONS_PER_TX):
            chunk = changes[start:start + rv.DECISIONS_PER_TX]
            try:
                rv.record_decisions(campaign, [c for _, c in chunk], ctx, now, reviewer.member_id)
            except store.ConditionFailed as exc:
                if "campaign" in exc.labels:
                    closed = rules.ReviewClosed("The campaign closed before these decisions were recorded.")
                    for n, c in changes[start:]:
                        results[n] = _refusal(c.item.item_id, closed)
                    retry = {}
                    break
                retry.update({c.item.item_id: wanted[c.item.item_id] for _, c in chunk})  # raced: read again
                continue
            for n, c in chunk:
                results[n] = {"item_id": c.item.item_id, "status": "recorded", "problem": None}
        pending = retry
        if not pending:
            break
    for iid, (n, _) in pending.items():
        results[n] = _refusal(iid, TransactionConflict("Another decision on this grant was being "
                                                             "recorded; try again."))
    return [results[n] for n in sorted(results)]


# --- the state machine's steps -------------------------------------------------------------------


def _send(campaign: ReviewCampaignItem, pending: dict[str, int], *, mailer: Mailer, public_base_url: str,
          reminder: bool) -> int:
    business = store.get_business(campaign.business_id)
    reviewers = store.members_by_id(campaign.business_id, pending)
    link = (f"{public_base_url.rstrip('/')}/console#/businesses/{campaign.business_id}/reviews/"
            f"{campaign.campaign_id}")
    sent = 0
    for member_id, count in sorted(pending.items()):
        member = reviewers.get(member_id)
        if member is None or count <= 0 or member.status != "ACTIVE":
            continue
        try:
            mailer.send(messages.review_request(to=member.email, name=member.display_name,
                                        business=business.name if business else campaign.business_id,
                                        campaign=campaign, pending=count, link=link, reminder=reminder))
            sent += 1
        except DeliveryFailed as exc:  # one bad address never stops the others
            logger.warning("review e-mail not delivered", extra={"member_id": member_id, "error": str(exc)})
    return sent


def notify_start(business_id: str, campaign_id: str, *, mailer: Mailer, public_base_url: str,
                 now: datetime) -> dict[str, Any]:
    """Each reviewer, once: how many grants they have to review and by when."""
    campaign = require_campaign(business_id, campaign_id)
    if not rv.claim_notice(campaign, "start", now):
        return {"sent": 0, "already": True}
    return {"sent": _send(campaign, dict(campaign.assigned or {}), mailer=mailer, public_base_url=public_base_url,
                          reminder=False)}


def remind(business_id: str, campaign_id: str, *, mailer: Mailer, public_base_url: str,
           now: datetime) -> dict[str, Any]:
    """Halfway, once (a conditional claim on the campaign): each reviewer who still has undecided
    grants, with how many."""
    campaign = require_campaign(business_id, campaign_id)
    if campaign.status != rules.OPEN or not rv.claim_notice(campaign, "reminder", now):
        return {"sent": 0, "already": True}
    pending: Counter[str] = Counter()
    for item in rv.all_items(business_id, campaign_id):
        if item.decision is None:
            pending.update(item.reviewers or [])
    return {"sent": _send(campaign, dict(pending), mailer=mailer, public_base_url=public_base_url, reminder=True)}


def _task_ctx(campaign: ReviewCampaignItem, execution_arn: str | None) -> store.Context:
    return store.Context(actor="system:review", execution_arn=execution_arn,
                         reason=f"access review {campaign.campaign_id}", actor_name="Access review")


def begin_close(business_id: str, campaign_id: str, *, execution_arn: str | None, now: datetime) -> dict[str, Any]:
    campaign = require_campaign(business_id, campaign_id)
    if campaign.status == rules.OPEN:
        rv.begin_close(campaign, _task_ctx(campaign, execution_arn), now)
    return {"status": rules.CLOSING}


EMPTY_TOTALS = {"revoked": 0, "already_revoked": 0, "changed_since_snapshot": 0, "kept_last_admin": 0,
                "kept": 0, "kept_undecided": 0}


def apply_outcomes(business_id: str, campaign_id: str, cursor: str | None, totals: dict[str, int] | None, *,
                   page: int, execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """One page of the close: each grant's outcome (decision, else the policy); the removals go
    through the offboarding path's revocation in transactions of up to 100 items, each verified by
    reading the grants back. Returns the next cursor (``done`` when none). Safe to retry: items
    already applied are skipped, and a transaction that meets a changed grant is re-read."""
    campaign = require_campaign(business_id, campaign_id)
    ctx = _task_ctx(campaign, execution_arn)
    totals = {**EMPTY_TOTALS, **(totals or {})}
    items, next_cursor = rv.items_from(business_id, campaign_id, cursor, page)
    removals: list[rv.Removal] = []
    for item in items:
        result = rules.outcome(item.decision, campaign.undecided_policy)
        if rules.removes(result) and item.applied is None:
            removals.append(rv.Removal(item, result.value))
        elif rules.removes(result):  # applied by an earlier try of this page
            totals[str(item.applied).replace("-", "_")] += 1
        elif not rules.removes(result):
            totals["kept" if result == rules.Outcome.KEPT else "kept_undecided"] += 1
    removals, last_admin = _spare_last_admins(business_id, removals)
    unapplied = [(r.item, r.outcome, "kept-last-admin") for r in last_admin]
    totals["kept_last_admin"] += len(last_admin)
    for chunk in rv.pack(removals):
        try:
            rv.revoke_chunk(campaign, chunk, ctx, now)
        except store.ConditionFailed:
            revoked, skipped = _one_by_one(campaign, chunk, ctx, now)
            totals["revoked"] += revoked
            for item, outcome, why in skipped:
                totals[why.replace("-", "_")] += 1
                unapplied.append((item, outcome, why))
            continue
        _verify(business_id, [r.item for r in chunk])
        totals["revoked"] += len(chunk)
    rv.mark_unapplied(campaign, unapplied, ctx, now)
    return {"cursor": next_cursor, "done": next_cursor is None, "totals": totals}


def _spare_last_admins(business_id: str, removals: list[rv.Removal]) -> tuple[list[rv.Removal], list[rv.Removal]]:
    """An account keeps at least one Admin: of its Admin grants to remove, as many as would leave
    it without one are kept (reported ``kept-last-admin``), as when an Admin removes a grant."""
    admin_accounts = [r.item.account_id for r in removals if r.item.role == Role.ADMIN.value]
    if not admin_accounts:
        return removals, []
    counts = rv.admin_counts(business_id, admin_accounts)
    keep, spared = [], []
    for r in removals:
        if r.item.role == Role.ADMIN.value:
            if counts.get(r.item.account_id, 0) <= 1:
                spared.append(r)
                continue
            counts[r.item.account_id] -= 1
        keep.append(r)
    return keep, spared


def _one_by_one(campaign: ReviewCampaignItem, chunk: Sequence[rv.Removal], ctx: store.Context,
                now: datetime) -> tuple[int, list[tuple[ReviewItem, str, str]]]:
    """A chunk's transaction met a grant that changed since the snapshot (or a retry after a lost
    response): read the grants and apply each removal that still holds, alone."""
    current = rv.current_grants(campaign.business_id, [r.item for r in chunk])
    fresh = rv.get_items(campaign.business_id, campaign.campaign_id, [r.item.item_id for r in chunk])
    revoked = 0
    skipped: list[tuple[ReviewItem, str, str]] = []
    for r in chunk:
        item = fresh.get(r.item.item_id, r.item)
        if item.applied is not None:
            revoked += int(item.applied == "revoked")
            continue
        grant: GrantItem | None = current.get(item.item_id)
        if grant is None or grant.status != "ACTIVE":
            skipped.append((item, r.outcome, "already-revoked"))
        elif grant.role != item.role:
            skipped.append((item, r.outcome, "changed-since-snapshot"))
        else:
            try:
                rv.revoke_chunk(campaign, [rv.Removal(item, r.outcome)], ctx, now)
            except store.ConditionFailed:
                skipped.append((item, r.outcome, "changed-since-snapshot"))
                continue
            _verify(campaign.business_id, [item])
            revoked += 1
    return revoked, skipped


def _verify(business_id: str, items: Sequence[ReviewItem]) -> None:
    """Read the revoked grants back: none may still be active (else the step fails and retries)."""
    current = rv.current_grants(business_id, items)
    left = sorted(i.item_id for i in items if (g := current.get(i.item_id)) is not None and g.status == "ACTIVE")
    if left:
        raise VerificationFailed(f"grants still active after the review's revocation: {left}")


def finish(business_id: str, campaign_id: str, totals: dict[str, int], *, events: EventPublisher,
           execution_arn: str | None, now: datetime) -> dict[str, Any]:
    """CLOSED with what was applied, the lock released (a new campaign may start), ``review.closed``."""
    campaign = require_campaign(business_id, campaign_id)
    applied = {**EMPTY_TOTALS, **totals}
    if campaign.status == rules.CLOSING:
        rv.finish(campaign, applied, _task_ctx(campaign, execution_arn), now)
        campaign = require_campaign(business_id, campaign_id)
    events.publish("review.closed", {"business_id": business_id, "campaign_id": campaign_id,
                                     "closed_at": _iso(campaign.closed_at), "applied": campaign.applied or applied})
    return {"status": campaign.status, "applied": campaign.applied or applied}
