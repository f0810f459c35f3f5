"""Access review campaigns: who reviews which grant, and what happens to it at the deadline.

Pure rules (no AWS): the store snapshots the grants, these functions decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from accessflow.domain.errors import Conflict, InvalidInput

OPEN, CLOSING, CLOSED = "OPEN", "CLOSING", "CLOSED"
MAX_DURATION_DAYS = 90


class Decision(StrEnum):
    KEEP = "keep"
    REMOVE = "remove"


class Outcome(StrEnum):
    KEPT = "kept"
    REMOVED = "removed"
    KEPT_UNDECIDED = "kept-undecided"
    REMOVED_UNDECIDED = "removed-undecided"


class ReviewInProgress(Conflict):
    slug, title = "review-in-progress", "An access review of this business is already open"


class ReviewClosed(Conflict):
    slug, title = "review-closed", "This access review is closed"


@dataclass(frozen=True)
class SnapshotGrant:
    member_id: str
    account_id: str
    role: str


@dataclass(frozen=True)
class Assignment:
    reviewers: tuple[str, ...]
    flagged: bool  # nobody may review it: no Admin other than the holder in the whole business
    escalated: bool  # the account has no Admin but the holder: another business Admin reviews it


def assign(grant: SnapshotGrant, account_admins: Mapping[str, Iterable[str]],
           business_admins: Iterable[str]) -> Assignment:
    """The Admins of the grant's account review it, never its holder. A grant whose account has no
    Admin but its holder (a sole Admin's own grant, or an account left without Admins) goes to the
    business's other Admins; with none, it is flagged: nobody can decide it, the undecided policy
    applies and the report shows it."""
    own = tuple(sorted(set(account_admins.get(grant.account_id, ())) - {grant.member_id}))
    if own:
        return Assignment(own, flagged=False, escalated=False)
    others = tuple(sorted(set(business_admins) - {grant.member_id}))
    return Assignment(others, flagged=not others, escalated=bool(others))


def schedule(started_at: datetime, duration_days: int) -> tuple[datetime, datetime]:
    """(halfway, deadline), whole seconds (Step Functions timestamps have no fractions)."""
    if not 1 <= duration_days <= MAX_DURATION_DAYS:
        raise InvalidInput(f"duration_days must be between 1 and {MAX_DURATION_DAYS}.")
    start = started_at.replace(microsecond=0)
    deadline = start + timedelta(days=duration_days)
    return start + (deadline - start) / 2, deadline


def outcome(decision: str | None, undecided_policy: str) -> Outcome:
    """What the close does with a grant: the reviewer's decision, else the business's policy."""
    if decision == Decision.KEEP:
        return Outcome.KEPT
    if decision == Decision.REMOVE:
        return Outcome.REMOVED
    return Outcome.REMOVED_UNDECIDED if undecided_policy == Decision.REMOVE else Outcome.KEPT_UNDECIDED


def removes(result: Outcome) -> bool:
    return result in (Outcome.REMOVED, Outcome.REMOVED_UNDECIDED)


def check_open(status: str) -> None:
    if status != OPEN:
        raise ReviewClosed(f"The campaign is {status}; decisions are no longer accepted.", campaign_status=status)


def is_idle(last_activity: datetime | None, since: datetime | None, now: datetime, idle_after_days: int) -> bool:
    """Idle: no authenticated call within the window. Never seen at all counts from when the grant
    was given (a grant older than the window, never used, is idle)."""
    seen = last_activity or since
    return seen is not None and now - seen > timedelta(days=idle_after_days)
