"""Routes: members and their grants (Admins of the accounts concerned)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from accessflow.adapters.clock import utcnow
from accessflow.api_models import MemberChange, MembersPage, SetRoleBody
from accessflow.domain.model import MemberStatus
from accessflow.domain.roles import Role
from accessflow.handlers.http import ID_PATTERN, app, caller_member, ctx
from accessflow.usecases import members

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


@app.get("/businesses/<business_id>/members")
def list_members(
    business_id: IdPath, status: Annotated[MemberStatus | None, Query()] = None,
) -> MembersPage:
    """Every member of the business with their active grants (Admins of any of its accounts)."""
    me = caller_member(business_id)
    members.require_reader(business_id, me)
    return MembersPage.model_validate({"members": members.list_members(business_id, status=status)})


@app.put("/businesses/<business_id>/members/<member_id>/grants/<account_id>")
def set_role(
    business_id: IdPath, member_id: IdPath, account_id: IdPath, body: Annotated[SetRoleBody, Body()],
) -> MemberChange:
    """Set an active member's role on one account (adds the account when they had no role on it).
    Only an Admin of that account; at most the business's maximum of Admins per account (409
    ``admin-limit``); the last Admin cannot be demoted (409 ``last-admin``)."""
    return _change(business_id, member_id, account_id, body.role)


@app.delete("/businesses/<business_id>/members/<member_id>/grants/<account_id>")
def remove_grant(business_id: IdPath, member_id: IdPath, account_id: IdPath) -> MemberChange:
    """Remove a member's role on one account. Only an Admin of that account; the last Admin cannot
    be removed (409 ``last-admin``)."""
    return _change(business_id, member_id, account_id, None)


def _change(business_id: str, member_id: str, account_id: str, role: Role | None) -> MemberChange:
    me = caller_member(business_id)
    view = members.set_grant(business_id, me, member_id, account_id, role, ctx=ctx(me), now=utcnow())
    return MemberChange.model_validate(view)
