"""Routes: invitations (admins)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.errors import NotFound
from accessflow.handlers.http import (
    app,
    caller,
    caller_member,
    ctx,
    invitation_view,
    settings,
    workflow,
)
from accessflow.schemas import ConfirmBody, InviteBody, RejectBody
from accessflow.store import repository as store
from accessflow.store.models import InvitationItem, MemberItem
from accessflow.usecases import invitations, onboarding

# --- routes: invitations ---------------------------------------------------------------------------


@app.post("/businesses/<business_id>/invitations")
def invite(business_id: str, body: Annotated[InviteBody, Body()]) -> Response[str]:
    """Invite someone by e-mail with a role per account (the caller must be Admin of each account)."""
    me = caller_member(business_id)
    invitations.refuse_retired(business_id, [g.account_id for g in body.grants])
    rules.require_admin_of(store.roles_of(business_id, me.member_id), [g.account_id for g in body.grants])
    key = app.current_event.headers.get("idempotency-key")
    invitation_id = onboarding.invitation_id_for(business_id, f"api:{key}") if key else None
    req = onboarding.OnboardingRequest(
        business_id=business_id, email=str(body.email), display_name=body.display_name, grants=body.grants,
        requested_by=f"member:{me.member_id}", source="api", employee_id=body.employee_id,
        inviter_email=me.email, invitation_id=invitation_id,
    )
    inv = onboarding.record(req, ctx(me), utcnow())
    arn = invitations.start(inv, workflow=workflow(), state_machine_arn=settings().onboarding_state_machine_arn)
    return _created(inv, arn)


def _created(inv: InvitationItem, execution_arn: str) -> Response[str]:
    view = invitation_view(inv) | {"execution_arn": execution_arn}
    return Response(status_code=201, content_type="application/json", body=json.dumps(view),
                    headers={"Location": f"/businesses/{inv.business_id}/invitations/{inv.invitation_id}"})


@app.get("/businesses/<business_id>/invitations/<invitation_id>")
def get_invitation(business_id: str, invitation_id: str) -> dict[str, Any]:
    rules.require_admin_of_any(store.roles_of(business_id, caller_member(business_id).member_id))
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} not found.")
    return invitation_view(inv)


def _admin_on_invitation(business_id: str, invitation_id: str) -> tuple[MemberItem, InvitationItem]:
    """The caller decides on an invitation: an Admin of its accounts, never its invitee. An invitee who
    accepted (login linked, not yet active) is told why they cannot confirm rather than a bare 404."""
    inv = store.get_invitation(business_id, invitation_id)
    invitee = store.member_by_login(business_id, caller().sub)
    if inv is not None and invitee is not None:
        rules.check_confirmer(confirmer_member_id=invitee.member_id, invitee_member_id=inv.member_id)
    me = caller_member(business_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} not found.")
    rules.check_confirmer(confirmer_member_id=me.member_id, invitee_member_id=inv.member_id)
    accounts = [g["account_id"] for g in inv.grants]
    rules.require_admin_of(store.roles_of(business_id, me.member_id), accounts)
    return me, inv


@app.post("/businesses/<business_id>/invitations/<invitation_id>/confirm")
def confirm(business_id: str, invitation_id: str, body: Annotated[ConfirmBody, Body()]) -> dict[str, Any]:
    """Confirm the role of an invitee who accepted (optionally narrowing it). Only an Admin of the
    accounts, and never the invitee."""
    me, inv = _admin_on_invitation(business_id, invitation_id)
    if inv.source == "mover":  # a mover's proposal (issue 11): its grants replace roles the member holds
        from accessflow.usecases import mover

        return mover.confirm(business_id, invitation_id, confirmer_member_id=me.member_id, grants=body.grants,
                             workflow=workflow(), ctx=ctx(me), now=utcnow())
    return onboarding.confirm(business_id, invitation_id, confirmer_member_id=me.member_id, grants=body.grants,
                              workflow=workflow(), ctx=ctx(me), now=utcnow())


@app.post("/businesses/<business_id>/invitations/<invitation_id>/reject")
def reject(business_id: str, invitation_id: str, body: Annotated[RejectBody, Body()]) -> dict[str, Any]:
    """Decline the proposed role of an invitee who accepted; nothing is granted."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    business = store.get_business(business_id)
    retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
    return onboarding.reject(business_id, invitation_id, decider_member_id=me.member_id, reason=body.reason,
                             workflow=workflow(), ctx=ctx(me), now=utcnow(), retention=retention)




def _mailer() -> Any:
    from accessflow.adapters.mailer import SesMailer

    s = settings()
    return SesMailer(s.sender_email, s.ses_configuration_set)


@app.post("/businesses/<business_id>/invitations/<invitation_id>/resend")
def resend(business_id: str, invitation_id: str) -> dict[str, Any]:
    """Send a pending invitation again with a new link (the old link stops working) and a new expiry
    (now + the business's lifetime). At most 5 sends, at least a minute apart: else 429 + Retry-After."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    inv = invitations.resend(business_id, invitation_id, mailer=_mailer(), public_base_url=settings().public_base_url,
                             ctx=ctx(me), now=utcnow())
    return invitation_view(inv)


@app.post("/businesses/<business_id>/invitations/<invitation_id>/revoke")
def revoke(business_id: str, invitation_id: str, body: Annotated[RejectBody | None, Body()] = None) -> dict[str, Any]:
    """Withdraw a pending invitation (optionally saying why, kept on the audit trail): the link is dead
    at once and its onboarding execution ends."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    audit_ctx = dataclasses.replace(ctx(me), reason=body.reason if body else None)
    inv = invitations.revoke(business_id, invitation_id, workflow=workflow(), ctx=audit_ctx, now=utcnow())
    return invitation_view(inv)


@app.post("/businesses/<business_id>/invitations/<invitation_id>/reissue")
def reissue(business_id: str, invitation_id: str) -> Response[str]:
    """Invite again, with the same proposed grants, someone whose invitation expired (one call; the
    same call again returns the same new invitation)."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    inv, arn = invitations.reissue(business_id, invitation_id, requested_by=f"member:{me.member_id}",
                                   inviter_email=me.email, workflow=workflow(),
                                   state_machine_arn=settings().onboarding_state_machine_arn,
                                   ctx=ctx(me), now=utcnow())
    return _created(inv, arn)
