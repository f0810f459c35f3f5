"""Who is calling, as a member of a business."""

from __future__ import annotations

import contextlib
from datetime import datetime

from accessflow.domain import rules
from accessflow.domain.errors import NotFound
from accessflow.domain.model import MemberStatus
from accessflow.domain.roles import Role
from accessflow.domain.tokens import normalise_email
from accessflow.store import repository as store
from accessflow.store.models import MemberItem
from accessflow.usecases.onboarding import Caller


def active_member(business_id: str, caller: Caller, *, request_id: str | None, now: datetime) -> MemberItem:
    """The caller's ACTIVE membership in the business, by linked login. A member created without a
    login (the bootstrapped first Admin) is linked on first sign-in with the same verified e-mail.
    Anyone else — another business's member, a former member, an invitee not yet active — gets 404, as
    if the business did not exist, so nothing leaks across businesses."""
    member = store.member_by_login(business_id, caller.sub)
    if member is None and caller.email and caller.email_verified:
        candidate = store.member_by_email(business_id, normalise_email(caller.email))
        if candidate is not None and candidate.status == MemberStatus.ACTIVE.value and not candidate.login_sub:
            # a concurrent first request may have linked it: the lookup below decides
            with contextlib.suppress(store.ConditionFailed):
                store.link_login(candidate, caller.sub,
                                 store.Context(actor=f"member:{candidate.member_id}", request_id=request_id), now)
            member = store.member_by_login(business_id, caller.sub)
    if member is None or member.status != MemberStatus.ACTIVE.value:
        raise NotFound(f"Business {business_id} not found.")
    return member


def require_admin_mfa(member: MemberItem, caller: Caller) -> None:
    """The business's ``require_mfa_for_admins``: an admin (Admin of any account) whose login did not
    use MFA is refused. One read of the business when the policy is off; the roles only when on."""
    if rules.used_mfa(caller.amr):
        return
    business = store.get_business(member.business_id)
    if business is None or not store.policy_of(business).require_mfa_for_admins:
        return
    is_admin = Role.ADMIN in store.roles_of(member.business_id, member.member_id).values()
    rules.check_admin_mfa(store.policy_of(business), is_admin=is_admin, amr=caller.amr)
