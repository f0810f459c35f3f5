"""Routes (issue 11): held offboardings (the leaver guard) and reinstating a removed member."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import InvalidInput
from accessflow.handlers.http import admin_caller, app, caller_member, ctx, invitation_view, settings, workflow
from accessflow.schemas import CancelOffboardingBody, ReleaseOffboardingBody
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.usecases import invitations, leaver_guard, offboarding, reinstate


@app.get("/businesses/<business_id>/offboardings")
def list_offboardings(business_id: str, status: Annotated[str, Query()] = "HELD") -> dict[str, Any]:
    """The business's held offboardings (``status=HELD``, the only status listed): leaver requests
    beyond the guard's limit, waiting for an Admin to release or cancel them. Admins of any account."""
    admin_caller(business_id)
    if status != leaver_guard.HELD:
        raise InvalidInput("Only held offboardings are listed: status=HELD.")
    return {"offboardings": leaver_guard.list_held(business_id)}


@app.post("/businesses/<business_id>/offboardings/release")
def release_all(business_id: str, body: Annotated[ReleaseOffboardingBody, Body()]) -> dict[str, Any]:
    """Release every held offboarding: each proceeds (its execution starts). The caller must be Admin
    of every account each of them holds (403 names the others; nothing is released)."""
    me = admin_caller(business_id)
    released = leaver_guard.release_all(
        business_id, store.roles_of(business_id, me.member_id), workflow=workflow(),
        state_machine_arn=settings().offboarding_state_machine_arn, ctx=ctx(me, reason=body.reason), now=utcnow(),
        reason=body.reason)
    return {"released": released}


def _decider(business_id: str, member_id: str) -> Any:
    me = caller_member(business_id)
    member = offboarding.require_member(business_id, member_id)
    offboarding.authorize_admin(store.roles_of(business_id, me.member_id), member)
    return me


@app.post("/businesses/<business_id>/members/<member_id>/offboarding/release")
def release_one(business_id: str, member_id: str, body: Annotated[ReleaseOffboardingBody, Body()]) -> Response[str]:
    """Release one held offboarding: it proceeds. 409 ``offboarding-not-held`` if it is not held."""
    me = _decider(business_id, member_id)
    item = leaver_guard.release(business_id, member_id, workflow=workflow(),
                                state_machine_arn=settings().offboarding_state_machine_arn,
                                ctx=ctx(me, reason=body.reason), now=utcnow(), reason=body.reason)
    return Response(status_code=202, content_type="application/json", body=json.dumps(off_store.view(item)),
                    headers={"Location": f"/businesses/{business_id}/members/{member_id}/offboarding"})


@app.post("/businesses/<business_id>/members/<member_id>/offboarding/cancel")
def cancel_one(business_id: str, member_id: str, body: Annotated[CancelOffboardingBody, Body()]) -> dict[str, Any]:
    """Cancel one held offboarding, with a reason: the member keeps every grant and stays as they are.
    409 ``offboarding-not-held`` if it is not held."""
    me = _decider(business_id, member_id)
    item = leaver_guard.cancel(business_id, member_id, body.reason, ctx=ctx(me, reason=body.reason), now=utcnow())
    return off_store.view(item)


@app.post("/businesses/<business_id>/members/<member_id>/reinstate")
def reinstate_member(business_id: str, member_id: str) -> Response[str]:
    """Reinstate a REMOVED member: their last grants (the offboarding receipt's) proposed again as a new
    invitation through the normal onboarding (they accept with the same verified e-mail; Admin grants
    need confirmation). Within ``reinstatable_until`` and while every account of the receipt is still
    open; otherwise 409 ``reinstatement-unavailable`` with the reason. Admin of those accounts."""
    me = admin_caller(business_id)
    inv = reinstate.reinstate(business_id, member_id, me, ctx=ctx(me), now=utcnow())
    arn = invitations.start(inv, workflow=workflow(), state_machine_arn=settings().onboarding_state_machine_arn)
    view = invitation_view(inv) | {"execution_arn": arn}
    return Response(status_code=201, content_type="application/json", body=json.dumps(view),
                    headers={"Location": f"/businesses/{business_id}/invitations/{inv.invitation_id}"})
