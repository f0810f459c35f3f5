"""Routes: the business's policy (its Admins only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.errors import UnknownBusiness
from accessflow.handlers.http import admin_caller, app, caller, caller_member, ctx
from accessflow.store import repository as store
from accessflow.usecases import invitations, review_schedule


class PolicyPatch(BaseModel):
    """The knobs an Admin may change through the API; omitted ones keep their value."""

    model_config = ConfigDict(extra="forbid")

    invitation_lifetime_days: int | None = Field(default=None, ge=1, le=30,
                                                 description="How long an invitation link works (1-30 days).")
    max_admins_per_account: int | None = Field(default=None, ge=1, le=100,
                                               description="At most this many Admins per account (1-100); "
                                                           "lowering it removes nobody, it blocks new Admins.")
    auto_confirm_non_admin: bool | None = Field(default=None,
                                                description="True: roles below Admin are confirmed "
                                                            "automatically; false: every role waits for an "
                                                            "Admin's confirmation.")
    require_mfa_for_admins: bool | None = Field(
        default=None, description="Refuse every admin request whose login did not use multi-factor "
        "authentication (403 mfa-required). Turning it on needs your own login to have used MFA.")
    # --- issue 11: guard ---
    leaver_guard_enabled: bool | None = Field(
        default=None, description="Hold bursts of leaver requests (HR events, SCIM deactivations) beyond the "
        "limit for an Admin to release or cancel.")
    leaver_guard_count: int | None = Field(default=None, ge=1, le=100000,
                                           description="Leaver requests that may proceed per window (default 10).")
    leaver_guard_percent: int | None = Field(default=None, ge=0, le=100,
                                             description="...or this percentage of the members, whichever is "
                                                         "larger (default 20).")
    leaver_guard_window_minutes: int | None = Field(default=None, ge=1, le=10080,
                                                    description="The guard's window in minutes (default 60).")
    reinstate_within_days: int | None = Field(default=None, ge=0, le=365,
                                              description="How long a removed member can be reinstated (days, "
                                                          "default 90); stated on each new receipt.")
    # access reviews (issue 11, reviewui; docs/review-schedule.md)
    review_idle_after_days: int | None = Field(default=None, ge=1, le=3650,
                                               description="A reviewed member with no activity for longer than "
                                                           "this many days is flagged idle (default 90).")
    review_cadence: Literal["off", "monthly", "quarterly", "semiannual", "annual"] | None = Field(
        default=None, description="How often an access review campaign starts by itself (default quarterly); "
        "off stops the schedule. The next one is due one period after the last scheduled one (or from now).")
    review_duration_days: int | None = Field(default=None, ge=1, le=90,
                                             description="How long a scheduled campaign stays open (default 14).")
    review_undecided: Literal["keep", "remove"] | None = Field(
        default=None, description="What closing an access review does with grants nobody decided: keep "
        "(default) or remove them. Either way the report shows them as undecided.")


def _admin_of_business(business_id: str) -> str:
    """The caller must be Admin of every account of the business: the policy binds them all."""
    me = caller_member(business_id)
    accounts = [a.account_id for a in store.get_accounts(business_id)]
    rules.require_admin_of(store.roles_of(business_id, me.member_id), accounts)
    return me.member_id


@app.get("/businesses/<business_id>/policy")
def get_policy(business_id: str) -> dict[str, Any]:
    """The business's policy (invitation lifetime, admin cap, resend limits...); Admins only."""
    me = caller_member(business_id)
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} not found.")
    return store.policy_of(business).model_dump()


@app.get("/businesses/<business_id>/review-schedule")
def get_review_schedule(business_id: str) -> dict[str, Any]:
    """The recurring access review: its cadence, when the next campaign starts by itself (null: off,
    or the business is not on the schedule yet) and the last one it started. Admins only."""
    admin_caller(business_id)
    return review_schedule.view(business_id)


@app.patch("/businesses/<business_id>/policy")
def patch_policy(business_id: str, body: Annotated[PolicyPatch, Body()]) -> dict[str, Any]:
    """Change the business's policy, e.g. ``{"invitation_lifetime_days": 14}`` (1-30, else 400), the
    Admin limit per account, the confirmation rule. New and resent invitations use it; pending ones
    keep the expiry their e-mail announced. Admin of every account of the business."""
    member_id = _admin_of_business(business_id)
    changes = body.model_dump(exclude_none=True)
    now = utcnow()
    policy = invitations.change_policy(business_id, changes, ctx=ctx(member_id), now=now, amr=caller().amr)
    review_schedule.follow_policy(business_id, policy, ctx=ctx(member_id), now=now)  # a new cadence, or enrol
    return policy.model_dump()
