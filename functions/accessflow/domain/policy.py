"""Business policy: the per-business knobs, with the defaults of the product brief."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BusinessPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invitation_lifetime_days: int = Field(default=7, ge=1, le=30)
    max_admins_per_account: int = Field(default=3, ge=1, le=100)
    auto_confirm_non_admin: bool = True
    resend_max_sends: int = Field(default=5, ge=1, le=50)
    resend_min_interval_seconds: int = Field(default=60, ge=0)
    reminder_before_hours: int = Field(default=24, ge=1)
    retention_days: int = Field(default=90, ge=1)
    #: every admin request must come from a login that used multi-factor authentication (JWT ``amr``)
    require_mfa_for_admins: bool = False
    # --- issue 11: guard (docs/offboarding.md, "Blast-radius guard") ---
    #: leaver requests (HR, SCIM) beyond the limit within the window wait in HELD for an Admin
    leaver_guard_enabled: bool = True
    #: the limit is the LARGER of this count and ``leaver_guard_percent`` of the members
    leaver_guard_count: int = Field(default=10, ge=1, le=100000)
    leaver_guard_percent: int = Field(default=20, ge=0, le=100)
    leaver_guard_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    #: a REMOVED member can be reinstated from their offboarding receipt for this many days
    reinstate_within_days: int = Field(default=90, ge=0, le=365)
    # --- issue 11: access reviews ---
    # --- access reviews (issue 11, reviewui): idle flag and recurring schedule (docs/review-schedule.md)
    #: a reviewed member with no activity for longer than this is flagged idle
    review_idle_after_days: int = Field(default=90, ge=1, le=3650)
    #: how often a campaign starts by itself; "off" stops the schedule (starting one by hand still works)
    review_cadence: Literal["off", "monthly", "quarterly", "semiannual", "annual"] = "quarterly"
    #: how long a scheduled campaign stays open
    review_duration_days: int = Field(default=14, ge=1, le=90)
    #: what the close of an access review does with grants nobody decided (always reported)
    review_undecided: Literal["keep", "remove"] = "keep"

    @property
    def lifetime_seconds(self) -> int:
        return self.invitation_lifetime_days * 86400
