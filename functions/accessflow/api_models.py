"""Request and response bodies of the admin API's member, review and listing routes. Response models
document the API (``docs/openapi.json``) and let Schemathesis check every answer against them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accessflow.domain.roles import Role


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SetRoleBody(_Strict):
    role: Role = Field(description="The member's new role on the account (adds the account if they had none).")


class GrantView(BaseModel):
    account_id: str
    role: Role
    invited_by: str | None = None
    confirmed_by: str | None = None
    updated_at: str | None = None


class MemberView(BaseModel):
    member_id: str
    email: str
    display_name: str
    status: str
    employee_id: str | None = None
    invited_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    grants: list[GrantView]


class MemberChange(MemberView):
    changed: bool = Field(description="False when the member already held that role: nothing was written.")


class MembersPage(BaseModel):
    members: list[MemberView]


class ReviewRow(BaseModel):
    member_id: str
    email: str
    display_name: str
    member_status: str
    account_id: str | None = None
    role: Role | None = None
    invited_by: str | None = None
    confirmed_by: str | None = None
    last_change_at: str | None = None
    last_change_by: str | None = None
    last_change_action: str | None = None


class AccessReview(BaseModel):
    business_id: str
    generated_at: str
    rows: list[ReviewRow]


class InvitationView(BaseModel):
    model_config = ConfigDict(extra="allow")

    invitation_id: str
    business_id: str
    member_id: str
    email: str
    display_name: str
    status: str
    grants: list[dict[str, str]]
    final_grants: list[dict[str, str]] | None = None
    expires_at: str | None = None
    delivery: str | None = None
    send_count: int = 0


class InvitationsPage(BaseModel):
    invitations: list[InvitationView]


class AuditEntry(BaseModel):
    entry_id: str
    at: str
    action: str
    actor: str
    member_id: str | None = None
    subject: str | None = None
    before: dict[str, object] | None = None
    after: dict[str, object] | None = None
    reason: str | None = None
    request_id: str | None = None
    execution_arn: str | None = None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_cursor: str | None = Field(default=None, description="Pass back as ?cursor= for the next page.")
