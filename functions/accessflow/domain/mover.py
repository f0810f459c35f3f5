"""Movers: the desired set of grants replaces today's. Pure rules, no AWS.

The difference splits in two: *reductions* (a grant that disappears, a role that is lowered) take
nothing new and apply at once; *proposals* (a new account, a raised role) give something and are
confirmed like an invitation's (an Admin role by a second admin; lower roles automatically unless the
business says otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accessflow.domain.errors import AdminLimitReached, Conflict, InvalidInput, LastAdmin, NotFound
from accessflow.domain.model import Grant, validate_grants
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role

REMOVE = "remove"
LOWER = "lower"
ADD = "add"
RAISE = "raise"


# The mover's refusals (problem+json slugs), beside the rules that raise or imply them, as the review's
# and the leaver guard's are (domain/review.py, domain/leavers.py).


class UnknownMember(NotFound):
    slug, title = "unknown-member", "No such member"


class MemberNotActive(Conflict):
    slug, title = "member-not-active", "Only an active member's grants can change"


class ChangePending(Conflict):
    slug, title = "change-pending", "An earlier change of this member awaits confirmation"


class EmptyGrants(InvalidInput):
    slug, title = "empty-grants", "A member keeps at least one grant; removing every access is an offboarding"


@dataclass(frozen=True)
class Change:
    """One grant's change: ``before`` None = added, ``after`` None = removed."""

    account_id: str
    before: Role | None
    after: Role | None

    @property
    def kind(self) -> str:
        if self.after is None:
            return REMOVE
        if self.before is None:
            return ADD
        return RAISE if self.after.rank > self.before.rank else LOWER

    @property
    def admin_delta(self) -> int:
        """How the account's Admin count moves when this change applies."""
        return int(self.after is Role.ADMIN) - int(self.before is Role.ADMIN)

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "change": self.kind,
                "before": self.before.value if self.before else None,
                "after": self.after.value if self.after else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        before, after = data.get("before"), data.get("after")
        return cls(str(data["account_id"]), Role(before) if before else None, Role(after) if after else None)


@dataclass(frozen=True)
class MoveDiff:
    reductions: list[Change] = field(default_factory=list)
    proposals: list[Change] = field(default_factory=list)
    unchanged: list[Grant] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.reductions and not self.proposals

    @property
    def accounts(self) -> list[str]:
        """Every account the move changes (the requester must be Admin of each)."""
        return sorted({c.account_id for c in (*self.reductions, *self.proposals)})


def diff(current: Mapping[str, Role], desired: Iterable[Grant]) -> MoveDiff:
    """Today's roles (account → role) against the complete desired set. At most one role per account
    in ``desired`` (InvalidInput otherwise); an empty desired set is refused: removing every access is
    an offboarding, with its receipt and verification."""
    wanted = {g.account_id: g.role for g in validate_grants(desired)}
    reductions: list[Change] = []
    proposals: list[Change] = []
    unchanged: list[Grant] = []
    for account_id in sorted(set(current) | set(wanted)):
        before, after = current.get(account_id), wanted.get(account_id)
        if before is after:
            assert after is not None
            unchanged.append(Grant(account_id=account_id, role=after))
            continue
        change = Change(account_id, before, after)
        (proposals if change.kind in (ADD, RAISE) else reductions).append(change)
    return MoveDiff(reductions, proposals, unchanged)


def needs_confirmation(proposals: Iterable[Change], policy: BusinessPolicy) -> bool:
    """As for an invitation: an Admin role always needs a second admin; lower roles only when the
    business turned ``auto_confirm_non_admin`` off."""
    proposals = list(proposals)
    if not proposals:
        return False
    if any(c.after is Role.ADMIN for c in proposals):
        return True
    return not policy.auto_confirm_non_admin


def check_admin_rules(move: MoveDiff, admin_counts: Mapping[str, int], policy: BusinessPolicy) -> None:
    """The last-Admin rule on reductions (a demotion or removal never leaves an account without an
    Admin: a mover is not a termination) and the Admin cap on raises to Admin (checked again,
    atomically, when the proposal is confirmed). Raises the first rule broken, naming every account."""
    orphaned = sorted(c.account_id for c in move.reductions
                      if c.admin_delta < 0 and admin_counts.get(c.account_id, 0) <= 1)
    if orphaned:
        raise LastAdmin(f"The member is the last Admin of {', '.join(orphaned)}; promote someone else first, "
                        "or offboard them if they leave.", accounts=orphaned)
    full = sorted(c.account_id for c in move.proposals
                  if c.admin_delta > 0 and admin_counts.get(c.account_id, 0) >= policy.max_admins_per_account)
    if full:
        raise AdminLimitReached(f"Account(s) {', '.join(full)} already have {policy.max_admins_per_account} "
                                "Admins, the most the business allows.", accounts=full)


def narrow(proposals: list[Change], requested: list[Grant] | None) -> list[Change]:
    """What a confirmer keeps of the proposals: a subset of the accounts, roles no higher than
    proposed, and (for a raise) still above today's role: confirming a raise down to today's role or
    below is leaving it out."""
    if requested is None:
        return proposals
    by_account = {c.account_id: c for c in proposals}
    kept: list[Change] = []
    for grant in validate_grants(requested):
        change = by_account.get(grant.account_id)
        if change is None or change.after is None:
            raise InvalidInput(f"Account {grant.account_id} was not part of the proposed change.")
        if grant.role.rank > change.after.rank:
            raise InvalidInput(f"On {grant.account_id} the change proposed {change.after.value}; confirmation can "
                               f"narrow the role but not raise it to {grant.role.value}.")
        if change.before is not None and grant.role.rank <= change.before.rank:
            raise InvalidInput(f"On {grant.account_id} the member already holds {change.before.value}; leave the "
                               "account out to keep it as it is.")
        kept.append(Change(grant.account_id, change.before, grant.role))
    return kept
