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
    invited_by: str | None = Field(default=None, description="Who invited (actor id: member:{id}, hr source...).")
    invited_by_email: str | None = None
    invited_by_name: str | None = None
    confirmed_by: str | None = None
    confirmed_by_email: str | None = None
    confirmed_by_name: str | None = None
    updated_at: str | None = None


class MemberView(BaseModel):
    member_id: str
    email: str
    display_name: str
    status: str
    employee_id: str | None = None
    invited_by: str | None = None
    invited_by_email: str | None = None
    invited_by_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_activity_at: str | None = Field(default=None, description="Last authenticated API call in this "
                                         "business (recorded at most once an hour); null if none recorded.")
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
    invited_by_name: str | None = None
    invited_by_email: str | None = None
    confirmed_by_name: str | None = None
    confirmed_by_email: str | None = None
    last_change_by_name: str | None = None
    last_change_by_email: str | None = None


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
    sends_left: int = Field(default=0, description="How many more times it may be sent (business policy).")
    resend_available_at: str | None = Field(
        default=None, description="From when a resend is allowed (a past time: now); null when it can no longer "
        "be resent (not PENDING, or no sends left).")
    needs_confirmation: bool = False
    inviter_email: str | None = None
    inviter_name: str | None = None


class InvitationsPage(BaseModel):
    invitations: list[InvitationView]


class AuditEntry(BaseModel):
    entry_id: str
    at: str
    action: str
    actor: str = Field(description="Stable id of who acted: member:{id}, login:{sub}, system:sweep, hr:{who}...")
    actor_email: str | None = Field(default=None, description="The actor's e-mail at the time (people only).")
    actor_name: str | None = Field(default=None, description="The actor's name at the time; system actors: "
                                   "their id (system:sweep, hr:workday).")
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


# --- accounts and the caller ---------------------------------------------------------------------

ACCOUNT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PLATFORM = r"^[a-z0-9][a-z0-9._-]{0,39}$"


class AddAccountBody(_Strict):
    account_id: str = Field(pattern=ACCOUNT_ID, description="Stable id (letters, digits, . _ -; at most 64).")
    display_name: str = Field(min_length=1, max_length=100, description="What people see, e.g. 'TikTok @acme'.")
    platform: str = Field(pattern=PLATFORM, description="Lower-case platform slug, e.g. tiktok, instagram, meta-ads.")


class RenameAccountBody(_Strict):
    display_name: str = Field(min_length=1, max_length=100)


class AccountView(BaseModel):
    account_id: str
    display_name: str
    platform: str
    status: str = Field(description="ACTIVE or RETIRED.")
    admin_count: int
    your_role: Role | None = Field(default=None, description="The caller's role on the account, if any.")
    created_at: str | None = None
    retired_at: str | None = None


class AccountsPage(BaseModel):
    accounts: list[AccountView]


class MyRole(BaseModel):
    account_id: str
    display_name: str
    platform: str | None = None
    role: Role


class MyBusiness(BaseModel):
    business_id: str
    name: str
    member_id: str
    display_name: str
    email: str
    is_admin: bool = Field(description="Admin of at least one account: may use the admin console.")
    roles: list[MyRole]


class Me(BaseModel):
    sub: str
    email: str | None = None
    email_verified: bool
    name: str | None = None
    businesses: list[MyBusiness] = Field(description="Where the caller is an ACTIVE member, by name.")
