"""Value objects and state machines of the domain: grants, invitations and members.

Every status change goes through :func:`transition`, which knows the allowed moves; the store then
makes the same move as a conditional write so that a race leaves exactly one winner.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from accessflow.domain.errors import Conflict, InvalidInput
from accessflow.domain.roles import Role


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    REJECTED = "REJECTED"


class MemberStatus(StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    OFFBOARDING = "OFFBOARDING"
    REMOVED = "REMOVED"
    NEVER_JOINED = "NEVER_JOINED"  # invitation expired, revoked or rejected before activation


class GrantStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


INVITATION_MOVES: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    InvitationStatus.PENDING: frozenset(
        {InvitationStatus.ACCEPTED, InvitationStatus.EXPIRED, InvitationStatus.REVOKED}
    ),
    InvitationStatus.ACCEPTED: frozenset({InvitationStatus.CONFIRMED, InvitationStatus.REJECTED}),
    InvitationStatus.CONFIRMED: frozenset(),
    InvitationStatus.EXPIRED: frozenset(),
    InvitationStatus.REVOKED: frozenset(),
    InvitationStatus.REJECTED: frozenset(),
}

MEMBER_MOVES: dict[MemberStatus, frozenset[MemberStatus]] = {
    MemberStatus.INVITED: frozenset({MemberStatus.ACTIVE, MemberStatus.NEVER_JOINED, MemberStatus.OFFBOARDING}),
    MemberStatus.ACTIVE: frozenset({MemberStatus.OFFBOARDING}),
    MemberStatus.OFFBOARDING: frozenset({MemberStatus.REMOVED}),
    MemberStatus.REMOVED: frozenset({MemberStatus.INVITED}),
    MemberStatus.NEVER_JOINED: frozenset({MemberStatus.INVITED, MemberStatus.OFFBOARDING}),
}


def check_invitation_move(current: InvitationStatus, target: InvitationStatus) -> None:
    if target not in INVITATION_MOVES[current]:
        raise Conflict(
            f"The invitation is {current.value}; it cannot become {target.value}.",
            current_status=current.value,
        )


def check_member_move(current: MemberStatus, target: MemberStatus) -> None:
    if target not in MEMBER_MOVES[current]:
        raise Conflict(
            f"The member is {current.value}; it cannot become {target.value}.",
            current_status=current.value,
        )


class Grant(BaseModel):
    """One role on one account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    role: Role


def validate_grants(grants: Iterable[Grant]) -> list[Grant]:
    """At least one grant, at most one role per account."""
    result = list(grants)
    if not result:
        raise InvalidInput("At least one grant (account_id, role) is required.")
    seen: set[str] = set()
    for grant in result:
        if grant.account_id in seen:
            raise InvalidInput(
                f"Account {grant.account_id} appears twice: a member holds at most one role per account."
            )
        seen.add(grant.account_id)
    return sorted(result, key=lambda g: g.account_id)


def narrow_grants(proposed: list[Grant], requested: list[Grant] | None) -> list[Grant]:
    """The confirmer may keep a subset of the proposed accounts and lower roles, never raise them."""
    if requested is None:
        return proposed
    by_account = {g.account_id: g for g in proposed}
    result = validate_grants(requested)
    for grant in result:
        original = by_account.get(grant.account_id)
        if original is None:
            raise InvalidInput(f"Account {grant.account_id} was not part of the invitation.")
        if grant.role.rank > original.role.rank:
            raise InvalidInput(
                f"On {grant.account_id} the invitation proposed {original.role.value}; "
                f"confirmation can narrow the role but not raise it to {grant.role.value}."
            )
    return result

