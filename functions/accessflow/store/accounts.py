"""Store: a business's accounts — add, rename, retire — and what a retirement must find empty.

Each change is one transaction with its audit entry. Retiring is race-free through the account's
``version``: every write that adds a holder or an invitation to the account (an invitation naming it,
a confirmation, a role added by an admin, a bootstrapped Admin) bumps it under the condition that the
account is still open, and the retirement is conditional on the version it read when it found the
account empty. So either the newcomer's write lands first (the retirement then fails and is asked
again) or the retirement does (the newcomer's write then fails: the account is retired).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessflow.domain.model import Grant, GrantStatus, InvitationStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.store.models import AccountItem, BusinessItem, GrantItem, InvitationItem, MemberItem
from accessflow.store.repository import (
    ACCOUNT_ACTIVE,
    ACCOUNT_RETIRED,
    AuditDraft,
    Context,
    Tx,
    _grant_item,
    account_open,
    biz_pk,
    list_invitations,
)

OPEN_INVITATION_STATUSES = (InvitationStatus.PENDING.value, InvitationStatus.ACCEPTED.value)


def add_account(
    business_id: str, account_id: str, name: str, platform: str, *, admin: MemberItem | None, ctx: Context,
    now: datetime,
) -> AccountItem:
    """A new account; ``admin`` (an ACTIVE member) gets the Admin grant on it in the same transaction,
    so the account is never left without someone who can manage it. Raises ``ConditionFailed`` with
    ``business``, ``account`` (the id exists, retired or not), ``member`` or ``grant``."""
    b = business_id
    account = AccountItem(
        pk=biz_pk(b), sk=f"ACCOUNT#{account_id}", business_id=b, account_id=account_id, name=name,
        platform=platform, admin_count=1 if admin else 0, status=ACCOUNT_ACTIVE, version=1 if admin else 0,
        created_at=now, updated_at=now,
    )
    tx = Tx(b, ctx, now)
    tx.check("business", BusinessItem, biz_pk(b), "META", BusinessItem.pk.exists())
    tx.save("account", account, condition=AccountItem.pk.does_not_exist())
    after: dict[str, Any] = {"account_id": account_id, "display_name": name, "platform": platform}
    if admin is not None:
        tx.check("member", MemberItem, biz_pk(b), admin.sk, MemberItem.status == MemberStatus.ACTIVE.value)
        grant = _grant_item(b, admin.member_id, Grant(account_id=account_id, role=Role.ADMIN), now,
                            invited_by=ctx.actor, confirmed_by=ctx.actor, invitation_id=None)
        grant.updated_by, grant.last_action = ctx.actor, "account.added"
        tx.save("grant", grant,
                condition=GrantItem.pk.does_not_exist() | (GrantItem.status == GrantStatus.REVOKED.value))
        after["admin"] = {"member_id": admin.member_id, "email": admin.email, "role": Role.ADMIN.value}
    tx.audit(AuditDraft("account.added", member_id=admin.member_id if admin else None, subject=account_id,
                        after=after))
    tx.commit()
    return account


def rename_account(account: AccountItem, *, name: str, ctx: Context, now: datetime) -> None:
    """A new display name for an open account (the id, used in grants and the audit trail, stays)."""
    tx = Tx(account.business_id, ctx, now)
    tx.update("account", account, [AccountItem.name.set(name), AccountItem.updated_at.set(now)],
              condition=account_open())
    tx.audit(AuditDraft("account.renamed", subject=account.account_id, before={"display_name": account.name},
                        after={"display_name": name}))
    tx.commit()


def active_grants_on(business_id: str, account_id: str) -> list[GrantItem]:
    """Who holds a role on the account now: a strongly consistent read of the business's grants (the
    by-account index is eventually consistent, and a retirement must not miss a fresh grant)."""
    items = GrantItem.query(biz_pk(business_id), GrantItem.sk.startswith("GRANT#"), consistent_read=True,
                            filter_condition=(GrantItem.account_id == account_id)
                            & (GrantItem.status == GrantStatus.ACTIVE.value))
    return list(items)


def open_invitations_naming(business_id: str, account_id: str) -> list[InvitationItem]:
    """Pending or accepted (awaiting confirmation) invitations that propose a role on the account."""
    return [inv for inv in list_invitations(business_id)
            if inv.status in OPEN_INVITATION_STATUSES
            and any(g.get("account_id") == account_id for g in inv.grants or [])]


def retire_account(account: AccountItem, *, own_grant: GrantItem | None, ctx: Context, now: datetime) -> None:
    """OPEN → RETIRED, conditional on the version read when the account was found empty; the
    retiring Admin's own grant (the only one left) ends in the same transaction. Raises
    ``ConditionFailed`` (``account`` or ``grant``) if anything changed meanwhile."""
    version = account.version
    tx = Tx(account.business_id, ctx, now)
    unchanged = (AccountItem.version.does_not_exist() if version is None
                 else AccountItem.version == version)
    tx.update("account", account, [
        AccountItem.status.set(ACCOUNT_RETIRED), AccountItem.retired_at.set(now),
        AccountItem.retired_by.set(ctx.actor), AccountItem.updated_at.set(now),
        AccountItem.admin_count.set(0), AccountItem.version.set((version or 0) + 1),
    ], condition=account_open() & unchanged)
    revoked: list[dict[str, Any]] = []
    if own_grant is not None:
        tx.update("grant", own_grant, [
            GrantItem.status.set(GrantStatus.REVOKED.value), GrantItem.updated_at.set(now),
            GrantItem.updated_by.set(ctx.actor), GrantItem.last_action.set("account.retired"),
            GrantItem.gsi1pk.remove(), GrantItem.gsi1sk.remove(),
        ], condition=(GrantItem.status == GrantStatus.ACTIVE.value) & (GrantItem.role == own_grant.role))
        revoked.append({"member_id": own_grant.member_id, "role": own_grant.role})
    tx.audit(AuditDraft("account.retired", member_id=own_grant.member_id if own_grant else None,
                        subject=account.account_id, before={"status": account.status or ACCOUNT_ACTIVE},
                        after={"status": ACCOUNT_RETIRED, "grants_revoked": revoked}, reason=ctx.reason))
    tx.commit()


__all__ = ["active_grants_on", "add_account", "open_invitations_naming", "rename_account", "retire_account"]
