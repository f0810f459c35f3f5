"""A business's accounts as its Admins manage them: list, add, rename, retire.

Who may do what (``docs/api.md``):

- list: Admin of any account of the business (reading the business, like members and the audit trail);
- add: Admin of at least one account; the adder gets the Admin grant on the new account in the same
  transaction, so a new account always has someone who can invite to it;
- rename, retire: Admin of that account. Retiring is refused (409 ``account-in-use``) while anyone
  else holds a role on the account or a pending or accepted invitation names it: the problem lists
  them; the retiring Admin's own grant ends with the retirement. A retired account keeps its id and
  history (grants, audit) but nobody can be invited to it or given a role on it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessflow.domain import rules
from accessflow.domain.errors import AccountInUse, AccountRetired, Conflict, NotFound, UnknownBusiness
from accessflow.domain.roles import Role
from accessflow.store import accounts as account_store
from accessflow.store import repository as store
from accessflow.store.models import AccountItem, MemberItem


def account_view(account: AccountItem, your_role: Role | None = None) -> dict[str, Any]:
    return {
        "account_id": account.account_id, "display_name": account.name, "platform": account.platform,
        "status": account.status or store.ACCOUNT_ACTIVE, "admin_count": int(account.admin_count or 0),
        "your_role": your_role.value if your_role else None,
        "created_at": store._iso(account.created_at), "retired_at": store._iso(account.retired_at),
    }


def list_accounts(business_id: str, me: MemberItem, *, status: str | None = None) -> list[dict[str, Any]]:
    roles = store.roles_of(business_id, me.member_id)
    rules.require_admin_of_any(roles)
    items = store.get_accounts(business_id, include_retired=True)
    return [account_view(a, roles.get(a.account_id)) for a in sorted(items, key=lambda a: a.account_id)
            if status is None or (a.status or store.ACCOUNT_ACTIVE) == status]


def _account(business_id: str, account_id: str) -> AccountItem:
    account = store.get_account(business_id, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    return account


def add(business_id: str, me: MemberItem, *, account_id: str, display_name: str, platform: str,
        ctx: store.Context, now: datetime) -> dict[str, Any]:
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))
    existing = store.get_account(business_id, account_id)
    if existing is not None:
        state = " (retired)" if store.is_retired(existing) else ""
        raise Conflict(f"Account {account_id} already exists in this business{state}; choose another id.",
                       account_id=account_id)
    try:
        item = account_store.add_account(business_id, account_id, display_name, platform, admin=me, ctx=ctx, now=now)
    except store.ConditionFailed as exc:
        if "business" in exc.labels:
            raise UnknownBusiness(f"Business {business_id} not found.") from exc
        if "account" in exc.labels:
            raise Conflict(f"Account {account_id} was added concurrently.", account_id=account_id) from exc
        raise Conflict("Your membership changed while the account was being added; try again.") from exc
    return account_view(item, Role.ADMIN)


def rename(business_id: str, me: MemberItem, account_id: str, *, display_name: str, ctx: store.Context,
           now: datetime) -> dict[str, Any]:
    roles = store.roles_of(business_id, me.member_id)
    rules.require_admin_of(roles, [account_id])
    account = _account(business_id, account_id)
    if store.is_retired(account):
        raise AccountRetired(f"Account {account_id} is retired; it cannot be renamed.", account_id=account_id)
    if account.name != display_name:
        try:
            account_store.rename_account(account, name=display_name, ctx=ctx, now=now)
        except store.ConditionFailed as exc:
            raise AccountRetired(f"Account {account_id} was retired meanwhile.", account_id=account_id) from exc
        account = _account(business_id, account_id)
    return account_view(account, roles.get(account_id))


def retire(business_id: str, me: MemberItem, account_id: str, *, ctx: store.Context, now: datetime) -> dict[str, Any]:
    rules.require_admin_of(store.roles_of(business_id, me.member_id), [account_id])
    account = _account(business_id, account_id)
    if store.is_retired(account):  # unreachable through the API (a retired account has no Admin)
        raise AccountRetired(f"Account {account_id} is already retired.", account_id=account_id)
    holders = account_store.active_grants_on(business_id, account_id)
    others = [g for g in holders if g.member_id != me.member_id]
    invitations = account_store.open_invitations_naming(business_id, account_id)
    if others or invitations:
        raise _in_use(business_id, account_id, others, invitations)
    own = next((g for g in holders if g.member_id == me.member_id), None)
    try:
        account_store.retire_account(account, own_grant=own, ctx=ctx, now=now)
    except store.ConditionFailed as exc:
        raise Conflict(f"Account {account_id} changed while it was being retired (someone was given a role on "
                       "it or invited to it); read it again and retry.", account_id=account_id) from exc
    return account_view(_account(business_id, account_id))


def _in_use(business_id: str, account_id: str, grants: list[Any], invitations: list[Any]) -> AccountInUse:
    people = []
    for g in sorted(grants, key=lambda g: g.member_id):
        member = store.get_member(business_id, g.member_id)
        people.append({"member_id": g.member_id, "email": member.email if member else None,
                       "display_name": member.display_name if member else None, "role": g.role})
    pending = [{"invitation_id": i.invitation_id, "email": i.email, "status": i.status}
               for i in sorted(invitations, key=lambda i: i.invitation_id)]
    parts = []
    if people:
        parts.append(f"remove the roles of {', '.join(p['email'] or p['member_id'] for p in people)}")
    if pending:
        parts.append(f"revoke or decide the invitations of {', '.join(sorted({p['email'] for p in pending}))}")
    return AccountInUse(f"Account {account_id} is still in use: {' and '.join(parts)} first.",
                        account_id=account_id, grants=people, invitations=pending)
