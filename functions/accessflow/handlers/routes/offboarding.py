"""Routes: offboarding a member (admins) and reading the receipt."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.errors import NotFound
from accessflow.handlers.http import app, caller_member, settings, workflow
from accessflow.schemas import OffboardBody, RerunOffboardingBody
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.usecases import offboarding

# --- routes: offboarding ---------------------------------------------------------------------------


@app.post("/businesses/<business_id>/members/<member_id>/offboard")
def offboard(business_id: str, member_id: str, body: Annotated[OffboardBody, Body()]) -> Response[str]:
    """Offboard a member: every grant revoked, pending invitations cancelled, sessions revoked, then
    verified and receipted. The caller must be Admin on every account the member holds (403 names the
    others); removing the last Admin of an account is refused (409). Idempotent: a second request
    answers with the offboarding already under way (or done)."""
    me = caller_member(business_id)
    member = offboarding.require_member(business_id, member_id)
    offboarding.authorize_admin(store.roles_of(business_id, me.member_id), member)
    requester = offboarding.Requester("api", f"member:{me.member_id}", body.reason, email=me.email,
                                      name=me.display_name)
    item = offboarding.start(member, requester, workflow=workflow(),
                             state_machine_arn=settings().offboarding_state_machine_arn, now=utcnow(),
                             request_id=app.current_event.request_context.request_id,
                             before_claim=offboarding.check_last_admin)
    return Response(status_code=202, content_type="application/json", body=json.dumps(off_store.view(item)),
                    headers={"Location": f"/businesses/{business_id}/members/{member_id}/offboarding"})


@app.post("/businesses/<business_id>/members/<member_id>/offboarding/rerun")
def rerun_offboarding(business_id: str, member_id: str,
                      body: Annotated[RerunOffboardingBody, Body()]) -> Response[str]:
    """Re-run a FAILED offboarding once its cause is fixed: the same offboarding (id, receipt), a new
    attempt recorded on it (when, who, why, outcome), a new execution; grants an earlier attempt
    revoked are not revoked again. The caller must be Admin on every account the member still holds
    or is invited to. 202 with the offboarding; asked again while it runs, the same attempt; 409 if
    it completed; 404 if there is none."""
    me = caller_member(business_id)
    member = offboarding.require_member(business_id, member_id)
    offboarding.authorize_admin(store.roles_of(business_id, me.member_id), member)
    requester = offboarding.Requester("api", f"member:{me.member_id}", body.reason)
    item = offboarding.rerun(member, requester, workflow=workflow(),
                             state_machine_arn=settings().offboarding_state_machine_arn, now=utcnow(),
                             request_id=app.current_event.request_context.request_id)
    return Response(status_code=202, content_type="application/json", body=json.dumps(off_store.view(item)),
                    headers={"Location": f"/businesses/{business_id}/members/{member_id}/offboarding"})


@app.get("/businesses/<business_id>/members/<member_id>/offboarding")
def get_offboarding(business_id: str, member_id: str) -> dict[str, Any]:
    """The member's offboarding: its status and, once done, the receipt (what was removed, when,
    by whom, why, which execution). Admins only."""
    me = caller_member(business_id)
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))
    item = off_store.get_offboarding(business_id, member_id)
    if item is None:
        raise NotFound(f"Member {member_id} has no offboarding.")
    view = off_store.view(item)
    if item.status == off_store.COMPLETED:  # issue 11: can the member be reinstated now, and until when
        from accessflow.usecases.reinstate import availability

        view["reinstatement"] = availability(business_id, member_id, utcnow())
    return view
