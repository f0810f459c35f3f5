"""Decisions of the invitation flow and of authorization, as pure functions.

Nothing here reads a clock or a table: callers pass ``now`` and the facts; the functions either
return a decision or raise a :mod:`accessflow.domain.errors` error that explains the refusal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from accessflow.domain.errors import (
    AdminLimitReached,
    AlreadyUsed,
    EmailMismatch,
    EmailNotVerified,
    Forbidden,
    Gone,
    LastAdmin,
    MfaRequired,
    TooManyRequests,
)
from accessflow.domain.model import Grant, InvitationStatus
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Permission, Role, has_permission
from accessflow.domain.tokens import normalise_email

# --- invitations --------------------------------------------------------------------------------


def expiry_for(now: datetime, policy: BusinessPolicy) -> datetime:
    return now + timedelta(seconds=policy.lifetime_seconds)


def check_acceptable(
    *,
    status: InvitationStatus,
    expires_at: datetime,
    invited_email: str,
    caller_email: str | None,
    caller_email_verified: bool,
    now: datetime,
) -> None:
    """May this caller accept this invitation now? Order matters: state before identity, so a used
    or expired link says so to anyone holding it, and a wrong login never consumes the link."""
    check_open(status=status, expires_at=expires_at, now=now)
    if not caller_email or not caller_email_verified:
        raise EmailNotVerified(
            "Your login has no verified e-mail address. Sign in with the verified address the "
            "invitation was sent to."
        )
    if normalise_email(caller_email) != normalise_email(invited_email):
        raise EmailMismatch(
            "You are signed in with a different e-mail address than the one this invitation was "
            "sent to. Sign in with the invited address; the invitation stays valid for it."
        )


def check_open(*, status: InvitationStatus, expires_at: datetime, now: datetime) -> None:
    """Can anyone still accept this invitation (whoever they are)? The accept page asks this too."""
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.CONFIRMED, InvitationStatus.REJECTED):
        raise AlreadyUsed("This invitation has already been accepted.")
    if status is InvitationStatus.REVOKED:
        raise Gone("This invitation was revoked by an administrator.", reason="revoked")
    if status is InvitationStatus.EXPIRED or expires_at <= now:
        raise Gone(
            "This invitation has expired. Ask an administrator to send it again.", reason="expired"
        )


def needs_confirmation(grants: Iterable[Grant], policy: BusinessPolicy) -> bool:
    """An Admin grant always needs a second admin; lower roles only if the business says so."""
    grants = list(grants)
    if any(g.role is Role.ADMIN for g in grants):
        return True
    return not policy.auto_confirm_non_admin


def is_due(expires_at: datetime, now: datetime) -> bool:
    return expires_at <= now


def reminder_at(sent_at: datetime, expires_at: datetime, policy: BusinessPolicy) -> datetime:
    """When the one reminder goes out: ``reminder_before_hours`` before expiry, but never in the first
    half of the link's life (a 1-day invitation is reminded half-way, not the moment it is sent)."""
    return max(expires_at - timedelta(hours=policy.reminder_before_hours), sent_at + (expires_at - sent_at) / 2)


def check_resend(
    *, send_count: int, last_sent_at: datetime | None, now: datetime, policy: BusinessPolicy
) -> None:
    if send_count >= policy.resend_max_sends:
        raise TooManyRequests(
            f"This invitation was already sent {send_count} times, the most allowed. Revoke it and "
            "invite again if needed.",
            retry_after=86400,
        )
    if last_sent_at is not None:
        wait = policy.resend_min_interval_seconds - (now - last_sent_at).total_seconds()
        if wait > 0:
            raise TooManyRequests(
                "This invitation was sent less than a minute ago.", retry_after=max(1, math.ceil(wait))
            )


# --- authorization -------------------------------------------------------------------------------


def require_permission(
    caller_roles: Mapping[str, Role], accounts: Iterable[str], permission: Permission
) -> None:
    """Caller must hold ``permission`` on every listed account; the refusal names the accounts."""
    missing = sorted(a for a in set(accounts) if not has_permission(caller_roles.get(a), permission))
    if missing:
        raise Forbidden(
            f"You need the {permission.value} permission on: {', '.join(missing)}.",
            accounts=missing,
        )


def require_admin_of(caller_roles: Mapping[str, Role], accounts: Iterable[str]) -> None:
    """Only an Admin of an account invites to, changes roles on or removes people from it. This
    is also the no-escalation rule: nobody grants on an account where they are not Admin."""
    require_permission(caller_roles, accounts, Permission.MANAGE_MEMBERS)


def check_confirmer(*, confirmer_member_id: str, invitee_member_id: str) -> None:
    if confirmer_member_id == invitee_member_id:
        raise Forbidden("An invitee cannot confirm their own role; another Admin must confirm it.")


def check_admin_capacity(account_id: str, current_admins: int, adding: int, policy: BusinessPolicy) -> None:
    if adding and current_admins + adding > policy.max_admins_per_account:
        raise AdminLimitReached(
            f"Account {account_id} already has {current_admins} Admins; the business allows at most "
            f"{policy.max_admins_per_account}.",
            account_id=account_id,
        )


def check_not_last_admin(account_id: str, other_admins: int) -> None:
    """An admin may not demote or remove the last Admin of an account (HR terminations may)."""
    if other_admins == 0:
        raise LastAdmin(
            f"This is the last Admin of account {account_id}; promote someone else first.",
            account_id=account_id,
        )


def require_admin_of_any(caller_roles: Mapping[str, Role]) -> None:
    """Reading the people side of a business (members, invitations, audit trail, access review) is
    part of managing members: the caller must be Admin of at least one of its accounts."""
    if not any(has_permission(role, Permission.MANAGE_MEMBERS) for role in caller_roles.values()):
        raise Forbidden("Only an Admin of one of the business's accounts may read its members and audit trail.")


def admin_delta(before: Role | None, after: Role | None) -> int:
    """How a grant change moves the account's Admin count: +1 promoting to Admin, -1 demoting or
    removing an Admin, 0 otherwise."""
    return int(after is Role.ADMIN) - int(before is Role.ADMIN)


def check_role_change(
    *, account_id: str, before: Role | None, after: Role | None, current_admins: int, policy: BusinessPolicy,
) -> int:
    """A role change (``after`` None = removal) by an admin: the Admin cap when promoting, the
    last-Admin rule when demoting or removing. Returns the change of the account's Admin count; the
    store enforces the same bounds atomically as conditions on the counter."""
    delta = admin_delta(before, after)
    if delta > 0:
        check_admin_capacity(account_id, current_admins, delta, policy)
    elif delta < 0:
        check_not_last_admin(account_id, current_admins - 1)
    return delta


def accounts_left_without_admin(admin_accounts: Iterable[str], admin_counts: Mapping[str, int]) -> list[str]:
    """The accounts whose only Admin is the member being removed (their counter is 1 or less)."""
    return sorted(a for a in set(admin_accounts) if admin_counts.get(a, 0) <= 1)


def check_not_last_admin_anywhere(admin_accounts: Iterable[str], admin_counts: Mapping[str, int]) -> None:
    """Offboarding by an admin: refused (naming every such account) if it would leave an account
    without an Admin. HR terminations skip this check and announce ``account.orphaned`` instead."""
    orphaned = accounts_left_without_admin(admin_accounts, admin_counts)
    if orphaned:
        raise LastAdmin(
            f"This member is the last Admin of accounts {', '.join(orphaned)}; promote someone else first.",
            accounts=orphaned,
        )


# --- multi-factor authentication ----------------------------------------------------------------


def used_mfa(amr: Iterable[str]) -> bool:
    """The login's authentication methods (OIDC ``amr``) include multi-factor authentication."""
    return "mfa" in {m.lower() for m in amr}


def check_admin_mfa(policy: BusinessPolicy, *, is_admin: bool, amr: Iterable[str]) -> None:
    """With ``require_mfa_for_admins`` on, an admin's request needs a login that used MFA. Members
    without an Admin role are not asked (their refusal, if any, is the usual 403)."""
    if policy.require_mfa_for_admins and is_admin and not used_mfa(amr):
        raise MfaRequired(
            "This business requires multi-factor authentication for admins. Sign out, sign in again "
            "with your second factor (your login's amr claim must include \"mfa\"), and retry.",
            policy="require_mfa_for_admins")


def check_policy_change(current: BusinessPolicy, new: BusinessPolicy, *, amr: Iterable[str]) -> None:
    """No lock-out: only an admin whose own login used MFA may turn ``require_mfa_for_admins`` on."""
    if new.require_mfa_for_admins and not current.require_mfa_for_admins and not used_mfa(amr):
        raise MfaRequired(
            "You cannot turn on require_mfa_for_admins from a login without multi-factor authentication: "
            "it would lock you out. Sign in again with your second factor, then turn it on.",
            policy="require_mfa_for_admins")
