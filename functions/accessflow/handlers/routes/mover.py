"""Route: a member's complete set of grants (a mover, by an admin). See docs/movers.md."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.errors import Conflict
from accessflow.handlers.http import ID_PATTERN, app, caller_member, ctx, settings, workflow
from accessflow.schemas import MoveBody
from accessflow.store import repository as store
from accessflow.usecases import mover

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


@app.put("/businesses/<business_id>/members/<member_id>/grants")
def move_member(business_id: IdPath, member_id: IdPath, body: Annotated[MoveBody, Body()]) -> Response[str]:
    """Replace an ACTIVE member's grants with the complete desired set. Removals and lowered roles
    apply at once; new accounts and raised roles are proposed for confirmation (``POST
    …/invitations/{invitation_id}/confirm`` by another Admin; automatic for non-Admin roles unless the
    business says otherwise). 200 when everything is applied, 202 when something awaits confirmation;
    the caller must be Admin of every account that changes. 409 ``member-not-active``, ``last-admin``,
    ``admin-limit``, ``change-pending``, ``account-retired``; 400 ``unknown-account``, ``empty-grants``
    (removing every access is an offboarding). ``Idempotency-Key`` honoured."""
    me = caller_member(business_id)
    roles = store.roles_of(business_id, me.member_id)

    def authorize(accounts: list[str]) -> None:
        if accounts:
            rules.require_admin_of(roles, accounts)
        else:  # nothing would change: still only for the business's admins
            rules.require_admin_of_any(roles)

    key = app.current_event.headers.get("idempotency-key")
    req = mover.MoveRequest(
        business_id=business_id, grants=body.grants, source="api", requested_by=f"member:{me.member_id}",
        member_id=member_id,
        move_id=mover.move_id_for(business_id, f"api:{me.member_id}:{member_id}:{key}") if key else None)
    move = mover.begin(req, ctx(me), utcnow(), authorize=authorize)
    if key and _desired(move.desired) != _desired(store.grants_json(body.grants)):
        # the key names an earlier request with another desired set: answering it would hide that
        # this one was not applied
        raise Conflict(f"Idempotency-Key {key} was used for another desired set of this member; nothing "
                       "changed. Use a new key for a new request.", move_id=move.move_id)
    arn = mover.start_workflow(move, req, workflow=workflow(), state_machine_arn=settings().mover_state_machine_arn)
    view = mover.view(move) | {"execution_arn": arn}
    return Response(status_code=202 if view["pending"] else 200, content_type="application/json",
                    body=json.dumps(view))


def _desired(grants: Any) -> list[tuple[str, str]]:
    return sorted((g["account_id"], g["role"]) for g in grants or [])
