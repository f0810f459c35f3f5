"""Store: an admin's changes to a member's grants (change a role, add an account, remove a grant).

Each change is ONE transaction: the grant write (conditional on the grant being exactly what the
caller read, so a racing change loses cleanly), the account's atomic ``admin_count`` (+1 under the
business's cap when promoting to Admin, -1 only while another Admin remains when demoting or removing
one), a check that the member is still active, and the audit entry with before and after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from accessflow.domain.model import Grant, GrantStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.store.models import AccountItem, GrantItem, MemberItem
from accessflow.store.repository import AuditDraft, Context, Tx, _grant_item, account_open, biz_pk

ADMINS_LABEL = "admins"
ACCOUNT_LABEL = "account"
GRANT_LABEL = "grant"
MEMBER_LABEL = "member"


def get_grant(business_id: str, member_id: str, account_id: str) -> GrantItem | None:
    """The member's ACTIVE grant on the account, or None."""
    from pynamodb.exceptions import DoesNotExist

    try:
        item = GrantItem.get(biz_pk(business_id), f"GRANT#{member_id}#{account_id}", consistent_read=True)
    except DoesNotExist:
        return None
    return item if item.status == GrantStatus.ACTIVE.value else None


def _unchanged(current: GrantItem | None) -> Condition:
    """The grant is still what the caller decided on."""
    if current is None:
        return GrantItem.pk.does_not_exist() | (GrantItem.status == GrantStatus.REVOKED.value)
    return (GrantItem.status == GrantStatus.ACTIVE.value) & (GrantItem.role == current.role)


def change_grant(
    business_id: str, member_id: str, account_id: str, *, current: GrantItem | None, role: Role | None,
    admin_delta: int, max_admins: int, ctx: Context, now: datetime,
) -> str:
    """Set the member's role on the account (``role`` None removes the grant); returns the audit
    action written (``grant.added`` | ``grant.changed`` | ``grant.removed``). Raises
    :class:`~accessflow.store.repository.ConditionFailed` naming the condition that lost."""
    b = business_id
    action = "grant.removed" if role is None else ("grant.added" if current is None else "grant.changed")
    tx = Tx(b, ctx, now)
    tx.check(MEMBER_LABEL, MemberItem, biz_pk(b), f"MEMBER#{member_id}", MemberItem.status == MemberStatus.ACTIVE.value)
    if role is None:
        assert current is not None
        tx.update(GRANT_LABEL, current, [
            GrantItem.status.set(GrantStatus.REVOKED.value), GrantItem.updated_at.set(now),
            GrantItem.updated_by.set(ctx.actor), GrantItem.last_action.set(action),
            GrantItem.gsi1pk.remove(), GrantItem.gsi1sk.remove(),
        ], condition=_unchanged(current))
    else:
        item = _grant_item(
            b, member_id, Grant(account_id=account_id, role=role), now,
            invited_by=current.invited_by if current else ctx.actor, confirmed_by=ctx.actor,
            invitation_id=current.invitation_id if current else None,
        )
        item.updated_by = ctx.actor
        item.last_action = action
        tx.save(GRANT_LABEL, item, condition=_unchanged(current))
    account = AccountItem(pk=biz_pk(b), sk=f"ACCOUNT#{account_id}")
    # Setting a role bumps the account's version (a retirement conditions on it) and needs it open.
    bump = [AccountItem.version.add(1)] if role is not None else []
    exists = account_open() if role is not None else AccountItem.pk.exists()
    if admin_delta:
        bound = (AccountItem.admin_count < max_admins) if admin_delta > 0 else (AccountItem.admin_count > 1)
        tx.update(ADMINS_LABEL, account, [AccountItem.admin_count.add(admin_delta), *bump], condition=exists & bound)
    elif bump:
        tx.update(ACCOUNT_LABEL, account, bump, condition=exists)
    tx.audit(AuditDraft(action, member_id=member_id, subject=account_id,
                        before=_grant_state(account_id, current.role if current else None),
                        after=_grant_state(account_id, role.value if role else None)))
    tx.commit()
    return action


def _grant_state(account_id: str, role: str | None) -> dict[str, Any] | None:
    return {"account_id": account_id, "role": role} if role else None


def admins_on(business_id: str, account_id: str) -> int:
    """The account's Admin counter (what the atomic cap and last-Admin conditions read)."""
    account = AccountItem.get(biz_pk(business_id), f"ACCOUNT#{account_id}", consistent_read=True)
    return int(account.admin_count or 0)


__all__ = ["admins_on", "change_grant", "get_grant"]
