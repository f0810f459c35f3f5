"""An admin's fixes for an invitation: resend (a lost e-mail), revoke (a typo, a change of mind),
re-issue (it expired), and the business's invitation lifetime."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from accessflow.adapters.mailer import Mailer
from accessflow.adapters.workflow import Workflow
from accessflow.domain import rules
from accessflow.domain.errors import AccountRetired, Conflict, InvalidInput, NotFound, UnknownBusiness
from accessflow.domain.model import InvitationStatus
from accessflow.domain.policy import BusinessPolicy
from accessflow.store import repository as store
from accessflow.store.models import InvitationItem
from accessflow.usecases import expiry, onboarding

PENDING = InvitationStatus.PENDING.value


def _invitation(business_id: str, invitation_id: str) -> InvitationItem:
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} not found.")
    return inv


def _policy(business_id: str) -> BusinessPolicy:
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    return store.policy_of(business)


def _not_pending(inv: InvitationItem, now: datetime, action: str) -> Conflict:
    """Why ``action`` is refused on an invitation that is not (or no longer) pending."""
    base = f"/businesses/{inv.business_id}/invitations/{inv.invitation_id}"
    if inv.status == InvitationStatus.EXPIRED.value or (inv.status == PENDING and inv.expires_at <= now):
        return Conflict(f"This invitation has expired and cannot be {action}; re-issue it instead.",
                        current_status=InvitationStatus.EXPIRED.value, reissue=f"{base}/reissue")
    return Conflict(f"This invitation is {inv.status} and cannot be {action}; only a pending invitation can.",
                    current_status=inv.status)


def resend(
    business_id: str, invitation_id: str, *, mailer: Mailer, public_base_url: str, ctx: store.Context,
    now: datetime,
) -> InvitationItem:
    """Rotate the link (the old one stops working at once), reset the expiry to now + the business's
    lifetime, and e-mail the new link. At most ``resend_max_sends`` sends per invitation, and not
    more often than ``resend_min_interval_seconds``: past that, 429 with ``Retry-After``. The waiting
    execution is untouched: it keeps waiting on the same task token, and when its own wait runs out
    before the new expiry, ExpireOnTimeout finds the invitation pending and waits again."""
    inv = _invitation(business_id, invitation_id)
    if inv.status != PENDING or inv.expires_at <= now:
        raise _not_pending(inv, now, "resent")
    policy = _policy(business_id)
    rules.check_resend(send_count=int(inv.send_count), last_sent_at=inv.last_sent_at, now=now, policy=policy)
    onboarding.deliver(inv, task_token=None, execution_arn=None, mailer=mailer, public_base_url=public_base_url,
                       ctx=ctx, now=now, expires_at=rules.expiry_for(now, policy), resend=True)
    return _invitation(business_id, invitation_id)


def revoke(
    business_id: str, invitation_id: str, *, workflow: Workflow, ctx: store.Context, now: datetime,
) -> InvitationItem:
    """``PENDING → REVOKED`` (conditional: a racing acceptance or expiry wins or loses whole); the
    link is dead at once and the waiting execution ends with ``InvitationRevoked`` (its Revoked
    branch notifies the inviter and emits ``invitation.revoked``)."""
    inv = _invitation(business_id, invitation_id)
    if inv.status != PENDING:
        raise _not_pending(inv, now, "revoked")
    retention = timedelta(days=_policy(business_id).retention_days)
    try:
        store.close_invitation(inv, from_status=InvitationStatus.PENDING, to_status=InvitationStatus.REVOKED,
                               action="invitation.revoked", ctx=ctx, now=now, retention=retention)
    except store.ConditionFailed as exc:
        raise _not_pending(_invitation(business_id, invitation_id), now, "revoked") from exc
    fresh = _invitation(business_id, invitation_id)  # the newest task token, if the wait was renewed
    if fresh.task_token:
        workflow.fail(fresh.task_token, "InvitationRevoked", f"invitation {invitation_id} revoked by {ctx.actor}")
    return fresh


def reissue_id(business_id: str, invitation_id: str) -> str:
    """Deterministic: re-issuing the same expired invitation twice gives one new invitation."""
    return onboarding.invitation_id_for(business_id, f"reissue:{invitation_id}")


def reissue(
    business_id: str, invitation_id: str, *, requested_by: str, inviter_email: str | None,
    workflow: Workflow, state_machine_arn: str, ctx: store.Context, now: datetime,
) -> tuple[InvitationItem, str]:
    """A new invitation with the same e-mail, name and proposed grants as an expired one, through
    the same onboarding workflow. An invitation that is due but not yet swept is expired first
    (the sweep's own code path, so its execution ends on its Expired branch)."""
    inv = _invitation(business_id, invitation_id)
    if inv.status == PENDING and inv.expires_at <= now:
        expiry.expire(business_id, invitation_id, workflow=workflow, ctx=ctx, now=now)
        inv = _invitation(business_id, invitation_id)
    if inv.status != InvitationStatus.EXPIRED.value:
        raise Conflict(f"Only an expired invitation can be re-issued; this one is {inv.status}.",
                       current_status=inv.status)
    req = onboarding.OnboardingRequest(
        business_id=business_id, email=inv.email, display_name=inv.display_name,
        grants=store.grants_from_json(inv.grants), requested_by=requested_by, source="api",
        inviter_email=inviter_email, invitation_id=reissue_id(business_id, invitation_id),
    )
    new = onboarding.record(req, ctx, now)
    return new, start(new, workflow=workflow, state_machine_arn=state_machine_arn)


def start(inv: InvitationItem, *, workflow: Workflow, state_machine_arn: str) -> str:
    """Start (idempotently: the execution is named after the invitation) the onboarding execution of
    an invitation recorded through the API."""
    return workflow.start(state_machine_arn, onboarding.execution_name(inv.invitation_id), {
        "business_id": inv.business_id, "invitation_id": inv.invitation_id, "source": "api",
        "request": {"email": inv.email, "display_name": inv.display_name, "grants": inv.grants,
                    "requested_by": inv.requested_by},
    })


def change_policy(business_id: str, changes: dict[str, Any], *, ctx: store.Context, now: datetime,
                  amr: tuple[str, ...] = ()) -> BusinessPolicy:
    """Change some of the business's policy knobs (e.g. the invitation lifetime, 1-30 days). Applies
    to invitations sent (or resent) from now on; a pending invitation keeps the expiry its e-mail
    announced. Turning ``require_mfa_for_admins`` on needs the caller's own login (``amr``) to have
    used MFA, so nobody locks themselves out."""
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    current = store.policy_of(business)
    try:
        policy = BusinessPolicy.model_validate(current.model_dump() | changes)
    except ValidationError as exc:
        issues = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        raise InvalidInput("; ".join(f"{i['where']}: {i['problem']}" for i in issues), errors=issues) from exc
    rules.check_policy_change(current, policy, amr=amr)
    if policy != current:
        store.update_policy(business, policy, ctx, now)
    return policy


def refuse_retired(business_id: str, account_ids: list[str]) -> None:
    """Nobody is invited to a retired account: said plainly (409 ``account-retired`` naming them)
    rather than as the 403 its lack of Admins would otherwise give. The invitation's transaction
    enforces the same rule against a retirement that lands meanwhile."""
    retired = sorted({a for a in account_ids
                      if (account := store.get_account(business_id, a)) is not None and store.is_retired(account)})
    if retired:
        raise AccountRetired(f"Account(s) {', '.join(retired)} are retired; nobody can be invited to them.",
                             accounts=retired)
