"""The blast-radius guard on leavers (issue 11): a burst of leaver requests for one business beyond
the policy's limit is HELD for an Admin to release or cancel.

Which requests are guarded: HR leaver events (``member.offboarding.requested``) unless flagged
``immediate`` (a for-cause termination), and SCIM deactivations/deletions (an IdP misfire that
deprovisions half the company is exactly the blast radius the guard exists for). An Admin's own
offboarding (API, CLI, console) is never held. A held offboarding is not started at all: its
execution starts when it is released (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.mailer import Mailer
from accessflow.adapters.workflow import Workflow
from accessflow.domain import leavers
from accessflow.domain.errors import NotFound
from accessflow.domain.roles import Role
from accessflow.store import leaver_guard as guard_store
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.store.models import MemberItem, OffboardingItem
from accessflow.usecases import messages

HELD = guard_store.HELD
CANCELLED = guard_store.CANCELLED


@dataclass(frozen=True)
class Guard:
    """What a guarded leaver request needs: where to announce a burst."""

    events: EventPublisher

    def ticket(self, business_id: str, now: datetime) -> guard_store.Ticket | None:
        """How this request counts in the business's window (None: the guard is off)."""
        business = store.get_business(business_id)
        if business is None:
            return None
        policy = store.policy_of(business)
        if not policy.leaver_guard_enabled:
            return None
        window = guard_store.get_window(business_id)
        is_open = window is not None and leavers.window_open(window.window_start, now, policy)
        members = limit = 0
        if not is_open:  # the percentage is of the members when the window opens (one read per window)
            members = guard_store.counted_members(business_id)
            limit = leavers.guard_limit(policy, members)
        return guard_store.ticket(business_id, window, open_=is_open, limit_if_new=limit, members=members,
                                  window_minutes=policy.leaver_guard_window_minutes, now=now)

    def held(self, item: OffboardingItem, now: datetime) -> None:
        """Announce the burst once: the first held request of a window emits ``offboarding.held``
        (its consumer e-mails the business's Admins, once)."""
        burst_id = item.burst_id or ""
        if not guard_store.claim_notice(item.business_id, burst_id, now):
            return
        window = guard_store.get_window(item.business_id)
        self.events.publish("offboarding.held", {
            "business_id": item.business_id, "burst_id": burst_id,
            "window_start": store._iso(window.window_start) if window else None,
            "window_end": store._iso(window.window_end) if window else None,
            "limit": int(window.limit) if window else None, "members": int(window.members) if window else None,
            "first_member_id": item.member_id, "source": item.source, "requested_by": item.requested_by,
            "reason": item.reason, "held_at": store._iso(now)})


def release_record(item: OffboardingItem, ctx: store.Context, *, now: datetime,
                   reason: str | None = None) -> OffboardingItem | None:
    """HELD → IN_PROGRESS (the caller starts the execution); None when another decision won."""
    return guard_store.release(item, ctx, now, reason=reason)


# --- an Admin's decisions ----------------------------------------------------------------------------


def list_held(business_id: str) -> list[dict[str, Any]]:
    return [guard_store.held_view(h) for h in sorted(guard_store.list_held(business_id),
                                                     key=lambda h: (h.held_at, h.email))]


def _held(business_id: str, member_id: str) -> OffboardingItem:
    item = off_store.get_offboarding(business_id, member_id)
    if item is None:
        raise NotFound(f"Member {member_id} has no offboarding.")
    if item.status != HELD:
        raise leavers.NotHeld(f"The offboarding is {item.status}; only a HELD offboarding can be released or "
                              "cancelled.", offboarding_status=item.status)
    return item


def release(business_id: str, member_id: str, *, workflow: Workflow, state_machine_arn: str, ctx: store.Context,
            now: datetime, reason: str | None = None) -> OffboardingItem:
    """Release one held offboarding: it proceeds (its execution starts now)."""
    from accessflow.usecases.offboarding import _run

    item = _held(business_id, member_id)
    released = guard_store.release(item, ctx, now, reason=reason)
    if released is None:
        _held(business_id, member_id)  # raises: decided concurrently
        raise leavers.NotHeld("The offboarding was decided concurrently.")
    _run(released, workflow, state_machine_arn)
    return released


def release_all(business_id: str, caller_roles: dict[str, Role], *, workflow: Workflow, state_machine_arn: str,
                ctx: store.Context, now: datetime, reason: str | None = None) -> list[dict[str, Any]]:
    """Release every held offboarding of the business. The caller must be allowed to offboard each
    of them (Admin of every account they hold): otherwise 403 naming the accounts, and nothing is
    released."""
    from accessflow.usecases.offboarding import authorize_admin

    held = guard_store.list_held(business_id)
    targets: list[MemberItem] = []
    for h in held:
        member = store.get_member(business_id, h.member_id)
        if member is not None:
            authorize_admin(caller_roles, member)
            targets.append(member)
    done: list[dict[str, Any]] = []
    for member in targets:
        try:
            item = release(business_id, member.member_id, workflow=workflow, state_machine_arn=state_machine_arn,
                           ctx=ctx, now=now, reason=reason)
        except leavers.NotHeld:
            continue  # decided meanwhile by someone else
        done.append(off_store.view(item))
    return done


def cancel(business_id: str, member_id: str, reason: str, *, ctx: store.Context, now: datetime) -> OffboardingItem:
    """Cancel one held offboarding: nothing was revoked and nothing will be; the member stays as they
    are (ACTIVE, their grants and invitations). A later leaver request starts a new offboarding."""
    item = _held(business_id, member_id)
    cancelled = guard_store.cancel(item, reason, ctx, now)
    if cancelled is None:
        _held(business_id, member_id)
        raise leavers.NotHeld("The offboarding was decided concurrently.")
    return cancelled


def check_not_held(business_id: str, member_id: str) -> None:
    """A held member's invitations are frozen: refused plainly before the transaction's own check."""
    item = off_store.get_offboarding(business_id, member_id)
    if item is not None and item.status == HELD:
        raise leavers.OffboardingHeld(
            "An offboarding of this member is held for an Admin's review; the invitation can be neither accepted "
            "nor confirmed until it is cancelled.", offboarding_id=item.offboarding_id)


# --- the Admins' e-mail (the consumer of offboarding.held) -----------------------------------------------


def business_admins(business_id: str) -> list[MemberItem]:
    """Every member holding Admin on at least one account (through the per-account admin index)."""
    ids: set[str] = set()
    for account in store.get_accounts(business_id):
        ids.update(g.member_id for g in store.admins_of_account(business_id, account.account_id))
    people = [store.get_member(business_id, m) for m in sorted(ids)]
    return [m for m in people if m is not None and m.status == "ACTIVE"]


def notify_admins(detail: dict[str, Any], *, mailer: Mailer, public_base_url: str, now: datetime) -> int:
    """One e-mail per Admin per burst, however often the event is delivered (claimed on the window)."""
    business_id, burst_id = str(detail["business_id"]), str(detail["burst_id"])
    if not guard_store.claim_mail(business_id, burst_id, now):
        return 0
    business = store.get_business(business_id)
    name = business.name if business else business_id
    held = guard_store.list_held(business_id)
    link = f"{public_base_url.rstrip('/')}/console#/{business_id}/held"
    sent = 0
    for admin in business_admins(business_id):
        mailer.send(messages.offboardings_held(to=admin.email, business=name, held=len(held),
                                               limit=detail.get("limit"), window_end=detail.get("window_end"),
                                               link=link))
        sent += 1
    return sent
