"""Models at the edges: the HR event contract and the API's request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from accessflow.domain.model import Grant

Id = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")  # also valid as an SES tag value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OnboardingRequested(_Strict):
    """detail of ``member.onboarding.requested``."""

    business_id: str = Id
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)
    grants: list[Grant] = Field(min_length=1, max_length=50)
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)
    requested_by: str = Field(min_length=1, max_length=200)
    idempotency_key: str = Field(min_length=8, max_length=200)


class OffboardingRequested(_Strict):
    """detail of ``member.offboarding.requested``: exactly one of member_id, employee_id, email."""

    business_id: str = Id
    member_id: str | None = Field(default=None, min_length=1, max_length=128)
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)
    email: EmailStr | None = None
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Field(min_length=1, max_length=200)
    idempotency_key: str = Field(min_length=8, max_length=200)
    #: issue 11: a for-cause termination bypasses the leaver guard (never held)
    immediate: bool = False

    @model_validator(mode="after")
    def _one_identifier(self) -> OffboardingRequested:
        given = [v for v in (self.member_id, self.employee_id, self.email) if v]
        if len(given) != 1:
            raise ValueError("exactly one of member_id, employee_id or email identifies the member")
        return self


class MemberChangeRequested(_Strict):
    """detail of ``member.change.requested`` (a mover): exactly one of member_id, employee_id, email;
    ``grants`` is the complete desired set (1 to 50; an empty set is an offboarding, not a move)."""

    business_id: str = Id
    member_id: str | None = Field(default=None, min_length=1, max_length=128)
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)
    email: EmailStr | None = None
    grants: list[Grant] = Field(min_length=1, max_length=50)
    requested_by: str = Field(min_length=1, max_length=200)
    idempotency_key: str = Field(min_length=8, max_length=200)

    @model_validator(mode="after")
    def _one_identifier(self) -> MemberChangeRequested:
        given = [v for v in (self.member_id, self.employee_id, self.email) if v]
        if len(given) != 1:
            raise ValueError("exactly one of member_id, employee_id or email identifies the member")
        accounts = [g.account_id for g in self.grants]
        twice = sorted({a for a in accounts if accounts.count(a) > 1})
        if twice:  # else the workflow fails on it later and HR never hears back
            raise ValueError(f"grants: one role per account; {', '.join(twice)} given more than once")
        return self


class HrEvent(BaseModel):
    """The EventBridge envelope of an HR event (the parts we read)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    detail_type: Literal["member.onboarding.requested", "member.offboarding.requested"] = Field(
        alias="detail-type"
    )
    source: str
    detail: dict[str, object]


# --- API bodies -----------------------------------------------------------------------------------


class InviteBody(_Strict):
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)
    grants: list[Grant] = Field(min_length=1, max_length=50)
    employee_id: str | None = Field(default=None, min_length=1, max_length=128)


class AcceptBody(_Strict):
    token: str = Field(min_length=20, max_length=200)


class ConfirmBody(_Strict):
    grants: list[Grant] | None = Field(default=None, min_length=1, max_length=50,
                                       description="Optional narrowing: a subset of accounts, roles no higher.")


class RejectBody(_Strict):
    reason: str | None = Field(default=None, max_length=500)


class OffboardBody(_Strict):
    reason: str = Field(min_length=1, max_length=500, description="Why the member leaves (kept on the receipt).")


class RerunOffboardingBody(_Strict):
    reason: str = Field(min_length=1, max_length=500,
                        description="What was fixed, or why it is re-run (kept on the attempt and the audit trail).")


class MoveBody(_Strict):
    grants: list[Grant] = Field(max_length=50, description=(
        "The member's complete desired set of grants: what is not in it is removed. Empty is refused "
        "(400 empty-grants): removing every access is an offboarding."))


# --- issue 11: guard ------------------------------------------------------------------------------


class ReleaseOffboardingBody(_Strict):
    reason: str | None = Field(default=None, max_length=500, description="Why it may proceed (audit trail).")


class CancelOffboardingBody(_Strict):
    reason: str = Field(min_length=1, max_length=500,
                        description="Why the held offboarding is cancelled (kept on the record and the audit trail).")
