"""Members and their grants, as admins see and change them: the member list, a role change on one
account, the removal of a grant, and the access review an auditor exports.

Authorization is the domain's: only an Admin of an account changes anything on it
(:func:`~accessflow.domain.rules.require_admin_of`), and reading the people side of a business needs
Admin on at least one of its accounts (:func:`~accessflow.domain.rules.require_admin_of_any`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessflow.domain import rules
from accessflow.domain.errors import AdminLimitReached, Conflict, LastAdmin, NotFound
from accessflow.domain.model import GrantStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.store import members as grants_store
from accessflow.store import repository as store
from accessflow.store.models import GrantItem, MemberItem

REVIEW_COLUMNS = (
    "member_id", "email", "display_name", "member_status", "account_id", "role", "invited_by", "confirmed_by",
    "last_change_at", "last_change_by", "last_change_action",
)


def require_reader(business_id: str, me: MemberItem) -> None:
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))


def _iso(value: datetime | None) -> str | None:
    return store._iso(value)


def grant_view(grant: GrantItem) -> dict[str, Any]:
    return {"account_id": grant.account_id, "role": grant.role, "invited_by": grant.invited_by,
            "confirmed_by": grant.confirmed_by, "updated_at": _iso(grant.updated_at)}


def member_view(member: MemberItem, grants: list[GrantItem]) -> dict[str, Any]:
    return {
        "member_id": member.member_id, "email": member.email, "display_name": member.display_name,
        "status": member.status, "employee_id": member.employee_id, "invited_by": member.invited_by,
        "created_at": _iso(member.created_at), "updated_at": _iso(member.updated_at),
        "grants": [grant_view(g) for g in sorted(grants, key=lambda g: g.account_id)],
    }


def _members_and_grants(business_id: str) -> list[tuple[MemberItem, list[GrantItem]]]:
    by_member: dict[str, list[GrantItem]] = {}
    for grant in store.all_grants(business_id):
        if grant.status == GrantStatus.ACTIVE.value:
            by_member.setdefault(grant.member_id, []).append(grant)
    members = sorted(store.list_members(business_id), key=lambda m: (m.email, m.member_id))
    return [(m, by_member.get(m.member_id, [])) for m in members]


def list_members(business_id: str, *, status: MemberStatus | None = None) -> list[dict[str, Any]]:
    return [member_view(m, g) for m, g in _members_and_grants(business_id)
            if status is None or m.status == status.value]


def _target(business_id: str, member_id: str) -> MemberItem:
    member = store.get_member(business_id, member_id)
    if member is None:
        raise NotFound(f"Member {member_id} not found.")
    if member.status != MemberStatus.ACTIVE.value:
        raise Conflict(f"The member is {member.status}; only an ACTIVE member's grants can be changed.",
                       member_status=member.status)
    return member


def set_grant(
    business_id: str, me: MemberItem, member_id: str, account_id: str, role: Role | None, *,
    ctx: store.Context, now: datetime,
) -> dict[str, Any]:
    """Set (``role``) or remove (``None``) a member's role on one account: one transaction with the
    Admin counter and the audit entry. Setting the role a member already holds changes nothing and
    writes nothing."""
    rules.require_admin_of(store.roles_of(business_id, me.member_id), [account_id])
    if store.get_account(business_id, account_id) is None:
        raise NotFound(f"Account {account_id} not found.")
    target = _target(business_id, member_id)
    current = grants_store.get_grant(business_id, member_id, account_id)
    before = Role(current.role) if current else None
    if role is None and current is None:
        raise NotFound(f"Member {member_id} holds no role on account {account_id}.")
    if role is not None and before is role:
        return member_view(target, store.grants_of(business_id, member_id)) | {"changed": False}
    business = store.get_business(business_id)
    policy = store.policy_of(business) if business else None
    assert policy is not None
    delta = rules.check_role_change(account_id=account_id, before=before, after=role,
                                    current_admins=grants_store.admins_on(business_id, account_id), policy=policy)
    try:
        grants_store.change_grant(business_id, member_id, account_id, current=current, role=role, admin_delta=delta,
                                  max_admins=policy.max_admins_per_account, ctx=ctx, now=now)
    except store.ConditionFailed as exc:
        raise _change_error(exc, account_id, delta, policy.max_admins_per_account) from exc
    fresh = store.get_member(business_id, member_id) or target
    return member_view(fresh, store.grants_of(business_id, member_id)) | {"changed": True}


def _change_error(exc: store.ConditionFailed, account_id: str, delta: int, max_admins: int) -> Exception:
    if grants_store.ADMINS_LABEL in exc.labels:
        if delta > 0:
            return AdminLimitReached(f"Account {account_id} already has {max_admins} Admins, the most the business "
                                     "allows.", account_id=account_id)
        return LastAdmin(f"This is the last Admin of account {account_id}; promote someone else first.",
                         account_id=account_id)
    if grants_store.MEMBER_LABEL in exc.labels:
        return Conflict("The member is no longer active.")
    return Conflict("The grant was changed concurrently; read it again and retry.")


# --- access review -----------------------------------------------------------------------------------


def access_review(business_id: str) -> list[dict[str, Any]]:
    """Every member, one row per active grant (a member with no active grant gets one row with no
    account), with who invited and who confirmed, and the last change; actors shown by e-mail."""
    pairs = _members_and_grants(business_id)
    emails = {m.member_id: m.email for m, _ in pairs}

    def who(actor: str | None) -> str | None:
        if actor is None:
            return None
        member_id = actor.split(":", 1)[1] if actor.startswith("member:") else actor
        return emails.get(member_id, actor)

    rows: list[dict[str, Any]] = []
    for member, grants in pairs:
        base = {"member_id": member.member_id, "email": member.email, "display_name": member.display_name,
                "member_status": member.status}
        if not grants:
            rows.append(base | dict.fromkeys(REVIEW_COLUMNS[4:]) | {"last_change_at": _iso(member.updated_at)})
        for g in sorted(grants, key=lambda g: g.account_id):
            rows.append(base | {
                "account_id": g.account_id, "role": g.role, "invited_by": who(g.invited_by),
                "confirmed_by": who(g.confirmed_by), "last_change_at": _iso(g.updated_at),
                "last_change_by": who(g.updated_by or g.confirmed_by),
                "last_change_action": g.last_action or ("invitation.confirmed" if g.invitation_id
                                                        else "member.bootstrapped"),
            })
    return rows


def review_csv(rows: list[dict[str, Any]]) -> str:
    """The access review as CSV; every cell through the export rule (no spreadsheet formulas)."""
    from accessflow.domain.export import csv_text

    return csv_text(REVIEW_COLUMNS, rows)
