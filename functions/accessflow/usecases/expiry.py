"""Expiry of unaccepted invitations and their one reminder.

One code path expires an invitation, whoever notices it is due: the scheduled sweep
(:func:`sweep`) or the execution's own wait timing out (``ExpireOnTimeout`` → :func:`expire_one`).
The conditional write ``PENDING → EXPIRED`` decides; only its winner fails the waiting execution,
and the inviter's e-mail is sent by the execution's NotifyExpired state, once, thanks to the
``outcome_notified`` claim. So a sweep and a timeout (or two sweeps) never double-notify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from accessflow.adapters.mailer import DeliveryFailed, Mailer
from accessflow.adapters.workflow import Workflow
from accessflow.domain.model import InvitationStatus
from accessflow.store import repository as store
from accessflow.store import sweep as due_index
from accessflow.store.models import BusinessItem, InvitationItem
from accessflow.usecases import messages

DEFAULT_MAX_ITEMS = 500
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Expiry:
    status: str  # the invitation's status afterwards (or "MISSING")
    changed: bool  # True only for the caller whose conditional write expired it


def expire(
    business_id: str, invitation_id: str, *, workflow: Workflow | None, ctx: store.Context, now: datetime
) -> Expiry:
    """Expire the invitation if it is still pending and due (a conditional write: a racing accept
    or revoke wins or loses whole). When ``workflow`` is given, the winner fails the waiting
    execution with ``InvitationExpired`` so it ends on its Expired branch."""
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        return Expiry("MISSING", False)
    if inv.status != InvitationStatus.PENDING.value:
        return Expiry(inv.status, False)
    if inv.expires_at > now:
        return Expiry(InvitationStatus.PENDING.value, False)
    business = store.get_business(business_id)
    retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
    try:
        store.close_invitation(inv, from_status=InvitationStatus.PENDING, to_status=InvitationStatus.EXPIRED,
                               action="invitation.expired", ctx=ctx, now=now, retention=retention, due_only=True)
    except store.ConditionFailed:
        fresh = store.get_invitation(business_id, invitation_id)
        return Expiry(fresh.status if fresh else "MISSING", False)
    if workflow is not None:
        fresh = store.get_invitation(business_id, invitation_id)  # the newest task token, if the wait was renewed
        token = (fresh.task_token if fresh else None) or inv.task_token
        if token:
            workflow.fail(token, "InvitationExpired", f"invitation {invitation_id} expired")
    return Expiry(InvitationStatus.EXPIRED.value, True)


def expire_one(
    business_id: str, invitation_id: str, *, workflow: Workflow | None, ctx: store.Context, now: datetime
) -> str:
    """:func:`expire`, returning only the status afterwards (the ExpireOnTimeout task's answer)."""
    return expire(business_id, invitation_id, workflow=workflow, ctx=ctx, now=now).status


def remind_entry(inv: InvitationItem, business_name: str, *, mailer: Mailer, ctx: store.Context,
                 now: datetime) -> bool:
    """Send the one reminder of a pending invitation, as its RemindIndex entry holds it (the projected
    attributes are all this reads). The claim (a conditional write that also takes the invitation out
    of the RemindIndex) comes first, so however many sweeps run, at most one sends. A delivery failure
    after the claim is audited, not retried: a reminder is a courtesy."""
    if inv.status != InvitationStatus.PENDING.value or inv.expires_at <= now:
        return False
    if not due_index.claim_reminder(inv, ctx, now):
        return False
    message = messages.reminder(to=inv.email, name=inv.display_name, business=business_name,
                                grants=store.grants_from_json(inv.grants), expires_at=inv.expires_at,
                                sent_at=inv.last_sent_at)
    try:
        mailer.send(message)
    except DeliveryFailed as exc:
        store.record_audit(inv.business_id, store.AuditDraft("notification.failed", member_id=inv.member_id,
                                                             subject=inv.invitation_id, reason=str(exc),
                                                             after={"to": inv.email, "kind": "reminder"}), ctx, now)
        return False
    return True


class _Businesses:
    """The businesses one sweep run has read, each once (retention policy, name for the e-mail)."""

    def __init__(self) -> None:
        self._items: dict[str, BusinessItem | None] = {}

    def get(self, business_id: str) -> BusinessItem | None:
        if business_id not in self._items:
            self._items[business_id] = store.get_business(business_id)
        return self._items[business_id]

    def retention(self, business_id: str) -> timedelta:
        business = self.get(business_id)
        return timedelta(days=store.policy_of(business).retention_days if business else 90)

    def name(self, business_id: str) -> str:
        business = self.get(business_id)
        return business.name if business else business_id


@dataclass
class SweepReport:
    expired: int = 0
    expiry_skipped: int = 0  # due in the index but no longer pending/due when we tried: someone else won
    reminded: int = 0
    reminder_skipped: int = 0
    more: bool = False  # the run stopped at its bound; the next run continues

    def as_dict(self) -> dict[str, int | bool]:
        return {"expired": self.expired, "expiry_skipped": self.expiry_skipped, "reminded": self.reminded,
                "reminder_skipped": self.reminder_skipped, "more": self.more}


def sweep(
    now: datetime, *, workflow: Workflow | None, mailer: Mailer, ctx: store.Context,
    max_items: int = DEFAULT_MAX_ITEMS, page_size: int = DEFAULT_PAGE_SIZE,
) -> SweepReport:
    """One run of the scheduled sweep: expire the due invitations, then send the due reminders.
    The index entries are all it reads (plus each business once); the conditional writes decide.
    Each part reads at most ``max_items`` index entries, ``page_size`` per query page, oldest first;
    what is left is picked up by the next run (``more``). Safe to run concurrently with itself,
    with acceptances, revocations and the executions' own timeouts: every action is a conditional
    write and only its winner acts."""
    report = SweepReport()
    businesses = _Businesses()
    seen = 0
    for entry in due_index.due_for_expiry(now, limit=max_items, page_size=page_size):
        seen += 1
        if due_index.expire_due(entry, ctx, now, businesses.retention(entry.business_id)):
            report.expired += 1
            if workflow is not None and entry.task_token:  # the write's condition: still this token
                workflow.fail(entry.task_token, "InvitationExpired", f"invitation {entry.invitation_id} expired")
        else:
            report.expiry_skipped += 1
    report.more = seen >= max_items
    seen = 0
    for entry in due_index.due_for_reminder(now, limit=max_items, page_size=page_size):
        seen += 1
        if remind_entry(entry, businesses.name(entry.business_id), mailer=mailer, ctx=ctx, now=now):
            report.reminded += 1
        else:
            report.reminder_skipped += 1
    report.more = report.more or seen >= max_items
    return report
