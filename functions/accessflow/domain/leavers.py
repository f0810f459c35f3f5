"""Rules for leavers beyond the plain offboarding: the blast-radius guard on bursts of leaver requests,
and reinstating a removed member from their offboarding receipt. Pure: no AWS, no store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accessflow.domain.errors import Conflict
from accessflow.domain.policy import BusinessPolicy


class OffboardingHeld(Conflict):
    """The member's offboarding is held by the guard: nothing about their access moves meanwhile
    (their pending invitations can be neither accepted nor confirmed)."""

    slug, title = "offboarding-held", "An offboarding of this member is held"


class ReinstatementUnavailable(Conflict):
    slug, title = "reinstatement-unavailable", "This member can no longer be reinstated"


class NotHeld(Conflict):
    slug, title = "offboarding-not-held", "This offboarding is not held"


# --- the guard ------------------------------------------------------------------------------------


def guard_limit(policy: BusinessPolicy, members: int) -> int:
    """How many guarded leaver requests may proceed in one window: the LARGER of the count and the
    percentage of the members (rounded down). The issue's acceptance fixes the reading: 15 leavers
    of a 40-member business with the defaults (10, or 20% = 8) let 10 proceed, so it is the larger."""
    return max(policy.leaver_guard_count, (members * policy.leaver_guard_percent) // 100)


def window_open(window_start: datetime | None, now: datetime, policy: BusinessPolicy) -> bool:
    """A window opens with the first guarded request after the previous one closed, and lasts
    ``leaver_guard_window_minutes`` from then (so a burst is measured from its own start)."""
    return window_start is not None and now < window_start + timedelta(minutes=policy.leaver_guard_window_minutes)


# --- reinstatement --------------------------------------------------------------------------------


def reinstatable_until(completed_at: datetime, policy: BusinessPolicy) -> datetime:
    return completed_at + timedelta(days=policy.reinstate_within_days)


@dataclass(frozen=True)
class AccountState:
    account_id: str
    exists: bool
    retired: bool


def check_reinstatable(*, member_status: str, offboarding_status: str | None, until: datetime | None,
                       grants: list[dict[str, Any]], accounts: Iterable[AccountState], now: datetime) -> None:
    """A REMOVED member's last grants can be proposed again while the business is as it was: within
    the window the receipt states, and with every account of the receipt still open. Anything else
    needs a normal invitation (409 ``reinstatement-unavailable`` saying why)."""
    hint = {"next_step": "send a normal invitation"}
    if member_status != "REMOVED":
        raise ReinstatementUnavailable(
            f"The member is {member_status}; only a REMOVED member can be reinstated.", reason="not-removed",
            member_status=member_status, **hint)
    if offboarding_status != "COMPLETED" or until is None:
        raise ReinstatementUnavailable("There is no completed offboarding receipt to reinstate from.",
                                       reason="no-receipt", **hint)
    if now > until:
        raise ReinstatementUnavailable(
            f"Reinstatement was possible until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}; send a normal invitation.",
            reason="expired", reinstatable_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"), **hint)
    if not grants:
        raise ReinstatementUnavailable("The receipt lists no grants to give back; send a normal invitation.",
                                       reason="nothing-to-reinstate", **hint)
    gone = sorted(a.account_id for a in accounts if not a.exists or a.retired)
    if gone:
        raise ReinstatementUnavailable(
            f"The business changed since the offboarding: account(s) {', '.join(gone)} no longer exist or were "
            "retired; send a normal invitation.", reason="business-changed", accounts=gone, **hint)
