"""Members and their grants, as admins see and change them: the member list, a role change on one
account, the removal of a grant, and the access review an auditor exports.

Authorization is the domain's: only an Admin of an account changes anything on it
(:func:`~accessflow.domain.rules.require_admin_of`), and reading the people side of a business needs
Admin on at least one of its accounts (:func:`~accessflow.domain.rules.require_admin_of_any`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from accessflow.domain import rules
from accessflow.domain.errors import AccountRetired, AdminLimitReached, Conflict, LastAdmin, NotFound
from accessflow.domain.model import GrantStatus, MemberStatus
from accessflow.domain.roles import Role
from accessflow.store import members as grants_store
from accessflow.store import repository as store
from accessflow.store.models import GrantItem, MemberItem

REVIEW_COLUMNS = (
    "member_id", "email", "display_name", "member_status", "account_id", "role", "invited_by", "confirmed_by",
    "last_change_at", "last_change_by", "last_change_action",
    # appended (older spreadsheets keep their columns): who, by name and e-mail
    "invited_by_name", "invited_by_email", "confirmed_by_name", "confirmed_by_email", "last_change_by_name",
    "last_change_by_email",
)


_BARE_MEMBER_ID = re.compile(r"[0-9a-f]{32}")  # confirmations record the confirming member's bare id


class People:
    """Names actors for people: ``member:{id}`` → that member's e-mail and display name (members are
    never deleted, so a former member is still named); any other actor (``system:auto-confirm``,
    ``hr:workday``, ``operator``) is its own name with no e-mail."""

    def __init__(self, business_id: str, known: Iterable[MemberItem] = ()) -> None:
        self.business_id = business_id
        self.by_id: dict[str, MemberItem | None] = {m.member_id: m for m in known}

    def __call__(self, actor: str | None) -> tuple[str | None, str | None]:
        """(e-mail, name) of an actor."""
        if not actor:
            return None, None
        member_id = store.actor_member_id(actor) or (actor if _BARE_MEMBER_ID.fullmatch(actor) else None)
        if member_id is None:
            return None, actor
        if member_id not in self.by_id:
            self.by_id[member_id] = store.get_member(self.business_id, member_id)
        member = self.by_id[member_id]
        return (member.email, member.display_name) if member else (None, actor)

    def fields(self, prefix: str, actor: str | None) -> dict[str, str | None]:
        email, name = self(actor)
        return {f"{prefix}_email": email, f"{prefix}_name": name}


def require_reader(business_id: str, me: MemberItem) -> None:
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))


def _iso(value: datetime | None) -> str | None:
    return store._iso(value)


def grant_view(grant: GrantItem, people: People) -> dict[str, Any]:
    return {"account_id": grant.account_id, "role": grant.role, "invited_by": grant.invited_by,
            **people.fields("invited_by", grant.invited_by), "confirmed_by": grant.confirmed_by,
            **people.fields("confirmed_by", grant.confirmed_by), "updated_at": _iso(grant.updated_at)}


def member_view(member: MemberItem, grants: list[GrantItem], people: People | None = None) -> dict[str, Any]:
    people = people or People(member.business_id, [member])
    return {
        "member_id": member.member_id, "email": member.email, "display_name": member.display_name,
        "status": member.status, "employee_id": member.employee_id, "invited_by": member.invited_by,
        **people.fields("invited_by", member.invited_by),
        "created_at": _iso(member.created_at), "updated_at": _iso(member.updated_at),
        "last_activity_at": _iso(member.last_activity_at),
        "grants": [grant_view(g, people) for g in sorted(grants, key=lambda g: g.account_id)],
    }


def _members_and_grants(business_id: str) -> list[tuple[MemberItem, list[GrantItem]]]:
    by_member: dict[str, list[GrantItem]] = {}
    for grant in store.all_grants(business_id):
        if grant.status == GrantStatus.ACTIVE.value:
            by_member.setdefault(grant.member_id, []).append(grant)
    members = sorted(store.list_members(business_id), key=lambda m: (m.email, m.member_id))
    return [(m, by_member.get(m.member_id, [])) for m in members]


def list_members(business_id: str, *, status: MemberStatus | None = None) -> list[dict[str, Any]]:
    pairs = _members_and_grants(business_id)
    people = People(business_id, [m for m, _ in pairs])
    return [member_view(m, g, people) for m, g in pairs if status is None or m.status == status.value]


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
    account = store.get_account(business_id, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    if role is not None and store.is_retired(account):
        raise AccountRetired(f"Account {account_id} is retired; nobody can be given a role on it.",
                             account_id=account_id)
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
    if grants_store.ACCOUNT_LABEL in exc.labels:
        return AccountRetired(f"Account {account_id} was retired meanwhile.", account_id=account_id)
    if grants_store.MEMBER_LABEL in exc.labels:
        return Conflict("The member is no longer active.")
    return Conflict("The grant was changed concurrently; read it again and retry.")


# --- access review -----------------------------------------------------------------------------------


def access_review(business_id: str) -> list[dict[str, Any]]:
    """Every member, one row per active grant (a member with no active grant gets one row with no
    account), with who invited and who confirmed, and the last change; actors shown by e-mail."""
    pairs = _members_and_grants(business_id)
    people = People(business_id, [m for m, _ in pairs])

    def who(actor: str | None) -> str | None:
        """The actor's e-mail when a member (the historical column), else the actor as recorded."""
        return people(actor)[0] or actor

    rows: list[dict[str, Any]] = []
    for member, grants in pairs:
        base = {"member_id": member.member_id, "email": member.email, "display_name": member.display_name,
                "member_status": member.status}
        if not grants:
            rows.append(base | dict.fromkeys(REVIEW_COLUMNS[4:]) | {"last_change_at": _iso(member.updated_at)})
        for g in sorted(grants, key=lambda g: g.account_id):
            changed_by = g.updated_by or g.confirmed_by
            rows.append(base | {
                "account_id": g.account_id, "role": g.role, "invited_by": who(g.invited_by),
                "confirmed_by": who(g.confirmed_by), "last_change_at": _iso(g.updated_at),
                "last_change_by": who(changed_by),
                "last_change_action": g.last_action or ("invitation.confirmed" if g.invitation_id
                                                        else "member.bootstrapped"),
                **people.fields("invited_by", g.invited_by), **people.fields("confirmed_by", g.confirmed_by),
                **people.fields("last_change_by", changed_by),
            })
    return rows


def review_csv(rows: list[dict[str, Any]]) -> str:
    """The access review as CSV; every cell through the export rule (no spreadsheet formulas)."""
    from accessflow.domain.export import csv_text

    return csv_text(REVIEW_COLUMNS, rows)
