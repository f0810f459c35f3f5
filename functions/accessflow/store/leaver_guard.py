"""The store side of the leaver guard (issue 11): the business's window counter, the held
offboardings' markers, and the moves of a held offboarding (released, cancelled).

Race safety: the window counter is updated in the SAME transaction as the offboarding record's claim
(``store.offboarding.claim_offboarding``), conditional on the window read (same ``burst_id``) and, to
be admitted, on ``admitted < limit``. Concurrent leaver requests therefore admit exactly ``limit``:
a request whose condition fails is cancelled whole (no record, no count) and tries again with what it
reads then. No Scan: the window is one item, the held ones a key range (``HELD#``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from accessflow.domain.model import MemberStatus
from accessflow.store.models import GuardWindowItem, HeldOffboardingItem, MemberItem, OffboardingItem
from accessflow.store.repository import AuditDraft, ConditionFailed, Context, Tx, _iso, biz_pk

HELD = "HELD"
CANCELLED = "CANCELLED"
WINDOW_SK = "GUARD#LEAVERS"
GUARD_LABEL = "guard"


def held_sk(member_id: str) -> str:
    return f"HELD#{member_id}"


def get_window(business_id: str) -> GuardWindowItem | None:
    try:
        return GuardWindowItem.get(biz_pk(business_id), WINDOW_SK, consistent_read=True)
    except DoesNotExist:
        return None


def counted_members(business_id: str) -> int:
    """Members the percentage is of: everyone who is, or is becoming, a member (not REMOVED or
    NEVER_JOINED). Read once per window, when it opens."""
    live = (MemberStatus.ACTIVE.value, MemberStatus.INVITED.value, MemberStatus.OFFBOARDING.value)
    items = MemberItem.query(biz_pk(business_id), MemberItem.sk.startswith("MEMBER#"),
                             attributes_to_get=["status"])
    return sum(1 for m in items if m.status in live)


@dataclass(frozen=True)
class Ticket:
    """What one guarded request does to the window, decided from the window read: ``hold`` or not,
    and the window it counts in (a new one opens when none is open)."""

    hold: bool
    burst_id: str
    limit: int
    window: GuardWindowItem | None  # the window read (None: none yet)
    opens: GuardWindowItem | None  # the window this request opens

    def apply(self, tx: Tx, item: OffboardingItem, member: MemberItem, now: datetime) -> dict[str, Any]:
        """Add the window's conditional update (and, when held, the marker) to the claim's
        transaction; returns what the claim's audit entry says about it."""
        if self.opens is not None:
            previous = self.window
            condition = (GuardWindowItem.pk.does_not_exist() if previous is None
                         else GuardWindowItem.burst_id == previous.burst_id)
            tx.save(GUARD_LABEL, self.opens, condition=condition)
        elif self.hold:
            assert self.window is not None
            tx.update(GUARD_LABEL, self.window, [GuardWindowItem.held.add(1)],
                      condition=GuardWindowItem.burst_id == self.burst_id)
        else:
            assert self.window is not None
            tx.update(GUARD_LABEL, self.window, [GuardWindowItem.admitted.add(1)],
                      condition=(GuardWindowItem.burst_id == self.burst_id)
                      & (GuardWindowItem.admitted < self.limit))
        if self.hold:
            item.status, item.held_at, item.burst_id = HELD, now, self.burst_id
            item.attempts = [dict(a) | {"outcome": HELD} for a in (item.attempts or [])]
            tx.save("held", HeldOffboardingItem(
                pk=biz_pk(item.business_id), sk=held_sk(item.member_id), business_id=item.business_id,
                member_id=item.member_id, offboarding_id=item.offboarding_id, email=member.email,
                display_name=member.display_name, source=item.source, requested_by=item.requested_by,
                reason=item.reason, burst_id=self.burst_id, held_at=now))
        return {"guard": {"burst_id": self.burst_id, "limit": self.limit, "held": self.hold}}


def ticket(business_id: str, window: GuardWindowItem | None, *, open_: bool, limit_if_new: int,
           members: int, window_minutes: int, now: datetime) -> Ticket:
    """Admit while the open window has room, hold beyond it; open a new window when none is open."""
    if window is not None and open_:
        hold = int(window.admitted or 0) >= int(window.limit)
        return Ticket(hold=hold, burst_id=window.burst_id, limit=int(window.limit), window=window, opens=None)
    burst_id = uuid.uuid4().hex
    opens = GuardWindowItem(pk=biz_pk(business_id), sk=WINDOW_SK, business_id=business_id, burst_id=burst_id,
                            window_start=now, window_end=now + timedelta(minutes=window_minutes),
                            limit=limit_if_new, members=members, admitted=1, held=0)
    return Ticket(hold=False, burst_id=burst_id, limit=limit_if_new, window=window, opens=opens)


def _claim_once(business_id: str, burst_id: str, attribute: Any, now: datetime) -> bool:
    """Set ``attribute`` on the window of ``burst_id`` once: True for the one caller that set it."""
    item = GuardWindowItem(pk=biz_pk(business_id), sk=WINDOW_SK)
    try:
        item.update(actions=[attribute.set(now)],
                    condition=(GuardWindowItem.burst_id == burst_id) & attribute.does_not_exist())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def claim_notice(business_id: str, burst_id: str, now: datetime) -> bool:
    """The first held request of a burst announces it (``offboarding.held``); the others do not."""
    return _claim_once(business_id, burst_id, GuardWindowItem.notified_at, now)


def claim_mail(business_id: str, burst_id: str, now: datetime) -> bool:
    """The Admins' e-mail goes out once per burst, however often its event is delivered."""
    return _claim_once(business_id, burst_id, GuardWindowItem.mailed_at, now)


# --- held offboardings ----------------------------------------------------------------------------


def list_held(business_id: str) -> list[HeldOffboardingItem]:
    return list(HeldOffboardingItem.query(biz_pk(business_id), HeldOffboardingItem.sk.startswith("HELD#"),
                                          consistent_read=True))


def _decide(item: OffboardingItem, *, to_status: str, action: str, reason: str | None, ctx: Context,
            now: datetime) -> OffboardingItem | None:
    """HELD → ``to_status``, the marker deleted and the audit entry, in one transaction conditional on
    the record still being this HELD offboarding: of racing decisions (release vs cancel, two
    Admins) exactly one wins. None when it lost (re-read)."""
    b, m = item.business_id, item.member_id
    actions: list[Any] = [OffboardingItem.status.set(to_status), OffboardingItem.decided_at.set(now),
                          OffboardingItem.decided_by.set(ctx.actor)]
    if reason:
        actions.append(OffboardingItem.decision_reason.set(reason))
    attempts = [dict(a) for a in (item.attempts or [])]
    if to_status == CANCELLED:
        actions.append(OffboardingItem.completed_at.set(now))
        if attempts:
            attempts[-1] |= {"outcome": CANCELLED, "ended_at": _iso(now)}
    else:  # released: the offboarding starts now (the receipt's "revoked since" reads from here)
        actions.append(OffboardingItem.started_at.set(now))
        if attempts:
            attempts[-1] |= {"outcome": to_status, "started_at": _iso(now)}
    if attempts:
        actions.append(OffboardingItem.attempts.set(attempts))
    tx = Tx(b, ctx, now)
    tx.update("offboarding", item, actions,
              condition=(OffboardingItem.offboarding_id == item.offboarding_id) & (OffboardingItem.status == HELD))
    tx.delete("held", HeldOffboardingItem(pk=biz_pk(b), sk=held_sk(m)))
    tx.audit(AuditDraft(action, member_id=m, subject=item.offboarding_id, reason=reason,
                        before={"status": HELD, "burst_id": item.burst_id, "held_at": _iso(item.held_at)},
                        after={"status": to_status, "source": item.source, "requested_by": item.requested_by}))
    try:
        tx.commit()
    except ConditionFailed:
        return None
    try:
        return OffboardingItem.get(biz_pk(b), f"OFFBOARD#{m}", consistent_read=True)
    except DoesNotExist:  # pragma: no cover - the record is never deleted
        return None


def release(item: OffboardingItem, ctx: Context, now: datetime, *, reason: str | None = None) -> OffboardingItem | None:
    return _decide(item, to_status="IN_PROGRESS", action="offboarding.released", reason=reason, ctx=ctx, now=now)


def cancel(item: OffboardingItem, reason: str, ctx: Context, now: datetime) -> OffboardingItem | None:
    return _decide(item, to_status=CANCELLED, action="offboarding.cancelled", reason=reason, ctx=ctx, now=now)


def held_view(item: HeldOffboardingItem) -> dict[str, Any]:
    return {"business_id": item.business_id, "member_id": item.member_id, "offboarding_id": item.offboarding_id,
            "email": item.email, "display_name": item.display_name, "status": HELD, "source": item.source,
            "requested_by": item.requested_by, "reason": item.reason, "burst_id": item.burst_id,
            "held_at": _iso(item.held_at)}
