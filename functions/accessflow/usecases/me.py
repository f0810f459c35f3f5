"""``GET /me``: who the caller is, and the businesses where they are an active member.

The memberships come from the directory items filed under the caller's login and verified e-mail
(``store/directory.py``); each is then checked against its member item with the same rule as a
call to the business (``usecases.identity.active_member``): the member is ACTIVE, and either linked
to this login, or not linked yet and invited with this verified e-mail (the first call to that
business links it). So the list is exactly the businesses whose routes would answer the caller.
"""

from __future__ import annotations

from typing import Any

from accessflow.domain.model import MemberStatus
from accessflow.domain.tokens import normalise_email
from accessflow.store import directory
from accessflow.store import repository as store
from accessflow.store.models import MemberItem
from accessflow.usecases.onboarding import Caller


def _usable(member: MemberItem | None, caller: Caller, email: str | None) -> bool:
    if member is None or member.status != MemberStatus.ACTIVE.value:
        return False
    if member.login_sub:
        return member.login_sub == caller.sub
    return email is not None and member.email == email


def whoami(caller: Caller, *, name: str | None = None) -> dict[str, Any]:
    email = normalise_email(caller.email) if caller.email and caller.email_verified else None
    chosen: dict[str, MemberItem] = {}
    for business_id, member_id, how in directory.memberships(email=email, sub=caller.sub):
        if business_id in chosen and how == "email":
            continue  # the login's own membership wins, as in identity.active_member
        member = store.get_member(business_id, member_id)
        if _usable(member, caller, email):
            assert member is not None
            chosen[business_id] = member
    businesses = []
    for business_id, member in chosen.items():
        business = store.get_business(business_id)
        if business is None:
            continue
        accounts = {a.account_id: a for a in store.get_accounts(business_id, include_retired=True)}
        roles = []
        for grant in sorted(store.grants_of(business_id, member.member_id), key=lambda g: g.account_id):
            account = accounts.get(grant.account_id)
            roles.append({"account_id": grant.account_id, "role": grant.role,
                          "display_name": account.name if account else grant.account_id,
                          "platform": account.platform if account else None})
        businesses.append({
            "business_id": business_id, "name": business.name, "member_id": member.member_id,
            "display_name": member.display_name, "email": member.email, "roles": roles,
            "is_admin": any(r["role"] == "Admin" for r in roles),
        })
    businesses.sort(key=lambda b: (str(b["name"]).lower(), str(b["business_id"])))
    display = name or next((b["display_name"] for b in businesses), None)
    return {"sub": caller.sub, "email": caller.email, "email_verified": caller.email_verified, "name": display,
            "businesses": businesses}
