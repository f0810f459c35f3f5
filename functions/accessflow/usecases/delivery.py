"""What SES tells us after it accepted a message: bounces, rejections, complaints.

An invitation that never reached its invitee must not look "sent": the invitation is marked
``delivery: FAILED`` with the reason (visible on ``GET …/invitations/{id}``), audited, and the inviter is
told how to fix it. Only messages tagged ``kind=invitation`` are acted on, so a bounced notification can
never cause another notification.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from accessflow.adapters.mailer import DeliveryFailed, Mailer
from accessflow.store import repository as store
from accessflow.usecases import messages


def reason_of(notification: dict[str, Any]) -> str | None:
    """A readable reason from an SES event-publishing notification, or None if it is no failure."""
    kind = notification.get("eventType") or notification.get("notificationType")
    if kind == "Bounce":
        bounce = notification.get("bounce", {})
        diagnostics = "; ".join(r.get("diagnosticCode", "") or r.get("emailAddress", "")
                                for r in bounce.get("bouncedRecipients", []))
        return f"bounced ({bounce.get('bounceType', 'Undetermined')}/{bounce.get('bounceSubType', '')}): " \
               f"{diagnostics}".rstrip(": ")
    if kind == "Reject":
        return f"rejected by SES: {notification.get('reject', {}).get('reason', 'unknown')}"
    if kind == "Complaint":
        return "the recipient marked the invitation as spam"
    return None


def _tag(notification: dict[str, Any], name: str) -> str | None:
    values = notification.get("mail", {}).get("tags", {}).get(name) or []
    return str(values[0]) if values else None


def record_event(notification: dict[str, Any], *, mailer: Mailer, now: datetime) -> str:
    """Returns what was done: ``ignored``, ``unknown-invitation``, ``duplicate`` or ``marked``."""
    reason = reason_of(notification)
    business_id, invitation_id = _tag(notification, "business_id"), _tag(notification, "invitation_id")
    if reason is None or _tag(notification, "kind") != "invitation" or not business_id or not invitation_id:
        return "ignored"
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        return "unknown-invitation"
    if not store.mark_delivery_failed(inv, reason, store.Context(actor="system:ses"), now):
        return "duplicate"
    if inv.inviter_email:
        business = store.get_business(business_id)
        with contextlib.suppress(DeliveryFailed):
            mailer.send(messages.outcome(
                to=inv.inviter_email, invitee=inv.email, business=business.name if business else business_id,
                outcome="UNDELIVERABLE",
                detail=f"SES reports: {reason}. Check the address; revoke this invitation and invite the right "
                       "address, or resend once the mailbox works."))
    return "marked"
