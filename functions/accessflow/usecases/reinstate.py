"""Reinstating a removed member (issue 11): their last grants, as the offboarding receipt lists them,
proposed again as a new invitation through the normal onboarding workflow. The person still accepts
with their own verified e-mail, and Admin grants still need another Admin's confirmation.

Available within the business's ``reinstate_within_days`` (90 by default) of the offboarding's
completion, stated on the receipt as ``reinstatable_until``, and only while the business is as it was
for those grants: every account of the receipt still exists and is not retired. Otherwise 409
``reinstatement-unavailable`` with the reason, and the next step: a normal invitation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accessflow.domain import leavers, rules
from accessflow.domain.errors import NotFound, UnknownBusiness
from accessflow.domain.roles import Role
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.store.models import InvitationItem, MemberItem, OffboardingItem
from accessflow.usecases import onboarding


def reinstate_id(business_id: str, offboarding_id: str) -> str:
    """Deterministic: asking twice gives the same invitation (and execution)."""
    return onboarding.invitation_id_for(business_id, f"reinstate:{offboarding_id}")


def until(item: OffboardingItem, business_id: str) -> datetime | None:
    """The receipt's ``reinstatable_until`` (receipts written before it existed: from the completion
    time and the business's current policy)."""
    stated = (item.receipt or {}).get("reinstatable_until")
    if stated:
        return datetime.strptime(stated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    business = store.get_business(business_id)
    if item.completed_at is None or business is None:
        return None
    return leavers.reinstatable_until(item.completed_at, store.policy_of(business))


def reinstate(business_id: str, member_id: str, me: MemberItem, *, ctx: store.Context,
              now: datetime) -> InvitationItem:
    """Record the reinstatement invitation (the caller starts its execution). The caller must be
    Admin of every account it proposes (as for any invitation). Idempotent while it is pending."""
    member = store.get_member(business_id, member_id)
    if member is None:
        raise NotFound(f"Member {member_id} not found.")
    item = off_store.get_offboarding(business_id, member_id)
    if item is not None and member.status != "REMOVED":
        again = store.get_invitation(business_id, reinstate_id(business_id, item.offboarding_id))
        if again is not None and again.member_id == member_id:
            return again  # asked again: the reinstatement already under way
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    receipt: dict[str, Any] = (item.receipt or {}) if item else {}
    grants: list[dict[str, Any]] = list(receipt.get("grants_revoked") or [])
    accounts = _account_states(business_id, grants)
    leavers.check_reinstatable(member_status=member.status, offboarding_status=item.status if item else None,
                               until=until(item, business_id) if item else None, grants=grants,
                               accounts=accounts, now=now)
    assert item is not None
    rules.require_admin_of(store.roles_of(business_id, me.member_id), [g["account_id"] for g in grants])
    req = onboarding.OnboardingRequest(
        business_id=business_id, email=member.email, display_name=member.display_name,
        grants=store.grants_from_json([{"account_id": g["account_id"], "role": Role(g["role"]).value}
                                       for g in grants]),
        requested_by=f"member:{me.member_id}", source="api", inviter_email=me.email,
        invitation_id=reinstate_id(business_id, item.offboarding_id),
    )
    return onboarding.record(req, ctx, now)


def _account_states(business_id: str, grants: list[dict[str, Any]]) -> list[leavers.AccountState]:
    """Whether each account of the receipt still exists and is open (the rule reinstates into open ones only)."""
    states = []
    for g in grants:
        account = store.get_account(business_id, g["account_id"])
        states.append(leavers.AccountState(g["account_id"], account is not None,
                                           account is not None and store.is_retired(account)))
    return states


def availability(business_id: str, member_id: str, now: datetime) -> dict[str, Any]:
    """Whether the member can be reinstated now, until when, and why not (for the console)."""
    member = store.get_member(business_id, member_id)
    item = off_store.get_offboarding(business_id, member_id)
    if member is None or item is None:
        return {"available": False, "reinstatable_until": None, "reason": "no-receipt",
                "detail": "No completed offboarding to reinstate from; send a normal invitation."}
    limit = until(item, business_id)
    grants = list((item.receipt or {}).get("grants_revoked") or [])
    accounts = _account_states(business_id, grants)
    try:
        leavers.check_reinstatable(member_status=member.status, offboarding_status=item.status, until=limit,
                                   grants=grants, accounts=accounts, now=now)
    except leavers.ReinstatementUnavailable as exc:
        return {"available": False, "reinstatable_until": store._iso(limit), "reason": exc.extensions.get("reason"),
                "detail": exc.detail}
    return {"available": True, "reinstatable_until": store._iso(limit), "reason": None, "detail": None,
            "grants": grants}
