"""Expiry of unaccepted invitations: one code path for the sweep and the execution's own timeout."""

from __future__ import annotations

from datetime import datetime, timedelta

from accessflow.adapters.workflow import Workflow
from accessflow.domain.model import InvitationStatus
from accessflow.store import repository as store


def expire_one(
    business_id: str, invitation_id: str, *, workflow: Workflow | None, ctx: store.Context, now: datetime
) -> str:
    """Expire the invitation if it is still pending and due (a conditional write: a racing accept
    or revoke wins or loses whole). Returns the invitation's status afterwards. When ``workflow`` is
    given, the waiting execution is failed with ``InvitationExpired`` so it ends on its Expired branch."""
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        return "MISSING"
    if inv.status != InvitationStatus.PENDING.value:
        return inv.status
    if inv.expires_at > now:
        return InvitationStatus.PENDING.value
    business = store.get_business(business_id)
    retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
    try:
        store.close_invitation(inv, from_status=InvitationStatus.PENDING, to_status=InvitationStatus.EXPIRED,
                               action="invitation.expired", ctx=ctx, now=now, retention=retention, due_only=True)
    except store.ConditionFailed:
        fresh = store.get_invitation(business_id, invitation_id)
        return fresh.status if fresh else "MISSING"
    if workflow is not None and inv.task_token:
        workflow.fail(inv.task_token, "InvitationExpired", f"invitation {invitation_id} expired")
    return InvitationStatus.EXPIRED.value
