"""The e-mails AccessFlow sends: plain text plus a small HTML twin."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessflow.adapters.mailer import Message
from accessflow.domain.model import Grant

if TYPE_CHECKING:
    from accessflow.store.models import ReviewCampaignItem


def _grants_text(grants: list[Grant]) -> str:
    return "\n".join(f"  - {g.role.value} on account {g.account_id}" for g in grants)


def _html(paragraphs: list[str], link: str | None = None, label: str = "") -> str:
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    if link:
        body += f'<p><a href="{html.escape(link)}">{html.escape(label)}</a></p>'
    return f"<!doctype html><html><body>{body}</body></html>"


def invitation(
    *, to: str, name: str, business: str, grants: list[Grant], link: str, expires_at: datetime, reminder: bool = False
) -> Message:
    when = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    lead = "Reminder: your invitation expires within a day." if reminder else "You have been invited."
    text = (
        f"Hello {name},\n\n{lead}\n{business} invites you to join its team on AccessFlow with these roles:\n"
        f"{_grants_text(grants)}\n\nOpen this link and sign in with {to} to accept:\n{link}\n\n"
        f"The link works until {when}. Opening it does not accept anything; only you can, once signed in.\n"
    )
    subject = f"{'Reminder: ' if reminder else ''}{business} invites you to AccessFlow"
    paragraphs = [*text.split("\n\n")[:-2], f"The link works until {when}."]
    return Message(to=to, subject=subject, text=text, html=_html(paragraphs, link, "Review the invitation"))


def confirmation_needed(*, to: str, invitee: str, business: str, grants: list[Grant], invitation_id: str,
                        api_hint: str, mover: bool = False) -> Message:
    what = (f"{invitee}'s roles in {business} are to change (a mover): these roles are proposed"
            if mover else f"{invitee} accepted an invitation to {business} with these roles")
    text = (
        f"{what}:\n{_grants_text(grants)}\n\n"
        f"An Admin other than the invitee must confirm (or narrow, or reject) the role before it is active.\n"
        f"Invitation {invitation_id}: {api_hint}\n"
    )
    return Message(to=to, subject=f"Confirm {invitee}'s role in {business}", text=text, html=_html([text]))


def outcome(*, to: str, invitee: str, business: str, outcome: str, detail: str) -> Message:
    text = f"The invitation of {invitee} to {business} is {outcome.lower()}.\n\n{detail}\n"
    return Message(to=to, subject=f"{invitee}: invitation {outcome.lower()} ({business})", text=text,
                   html=_html([text]))


def reminder(*, to: str, name: str, business: str, grants: list[Grant], expires_at: datetime,
             sent_at: datetime | None) -> Message:
    """The one reminder before an invitation expires. It carries no link: the link token is stored
    only as a hash, and minting a new one would kill the link the invitee may be about to use."""
    when = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    sent = f" on {sent_at.strftime('%Y-%m-%d')}" if sent_at else ""
    text = (
        f"Hello {name},\n\nReminder: {business} invited you to join its team on AccessFlow with these roles:\n"
        f"{_grants_text(grants)}\n\nYour invitation expires at {when}. To accept, open the link in the e-mail "
        f"\"{business} invites you to AccessFlow\" we sent you{sent} and sign in with {to}.\n"
        "If you cannot find it, ask an administrator of the business to resend it.\n"
    )
    return Message(to=to, subject=f"Reminder: your invitation to {business} expires soon", text=text,
                   html=_html(text.split("\n\n")))


def offboardings_held(*, to: str, business: str, held: int, limit: Any, window_end: Any, link: str) -> Message:
    """To each Admin, once per burst of the leaver guard (issue 11)."""
    text = (
        f"More leaver requests than the business allows in one window arrived for {business} "
        f"(limit {limit}). {held} offboarding(s) are held: nobody's access has been removed for them.\n\n"
        f"Review them and release (they proceed) or cancel (with a reason) in the console:\n{link}\n\n"
        f"Further requests until {window_end} beyond the limit are held too; this is the only e-mail for "
        "this burst.\n")
    return Message(to=to, subject=f"{business}: leaver requests held for review", text=text,
                   html=_html([p for p in text.split("\n\n") if p.strip()], link, "Review held offboardings"))


def review_request(*, to: str, name: str, business: str, campaign: ReviewCampaignItem, pending: int,
                   link: str, reminder: bool) -> Message:
    """To each reviewer of an access review campaign: at its start, and the halfway reminder (issue 11)."""
    deadline = campaign.deadline.strftime("%Y-%m-%d %H:%M UTC")
    lead = (f"Reminder: {pending} grant(s) still wait for your decision." if reminder
            else f"An access review has started: {pending} grant(s) wait for your decision.")
    text = (f"Hello {name},\n\n{lead}\nCampaign: {campaign.name} ({business}).\n"
            f"For each grant, keep it or remove it (with a note if you like) before {deadline}. Undecided "
            f"grants are {'removed' if campaign.undecided_policy == 'remove' else 'kept'} at the deadline, "
            f"and reported as undecided.\n\nReview them here:\n{link}\n\n"
            f"Or with the CLI: accessflow review {campaign.business_id} items {campaign.campaign_id} --mine\n")
    subject = f"{'Reminder: ' if reminder else ''}Access review of {business}: {pending} grant(s) to review"
    return Message(to=to, subject=subject, text=text, html=_html(text.split("\n\n")),
                   tags={"kind": "review-reminder" if reminder else "review-started"})
