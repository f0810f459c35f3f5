"""The pure domain core: no AWS, no mocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from accessflow.domain import rules
from accessflow.domain.errors import (
    AdminLimitReached,
    AlreadyUsed,
    Conflict,
    EmailMismatch,
    Forbidden,
    Gone,
    InvalidInput,
    LastAdmin,
    TooManyRequests,
)
from accessflow.domain.model import (
    Grant,
    InvitationStatus,
    MemberStatus,
    check_invitation_move,
    check_member_move,
    narrow_grants,
    validate_grants,
)
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import PERMISSIONS, Permission, Role, has_permission
from accessflow.domain.tokens import hash_token, mint_token, normalise_email

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def g(account: str, role: Role) -> Grant:
    return Grant(account_id=account, role=role)


class TestPermissions:
    def test_admin_has_every_permission(self) -> None:
        assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)

    @pytest.mark.parametrize("perm", [Permission.BILLING, Permission.ACCOUNT_SETTINGS, Permission.MANAGE_MEMBERS])
    def test_editor_never_billing_settings_or_members(self, perm: Permission) -> None:
        assert not has_permission(Role.EDITOR, perm)

    def test_editor_publishes_and_reads_analytics(self) -> None:
        assert has_permission(Role.EDITOR, Permission.PUBLISH_CONTENT)
        assert has_permission(Role.EDITOR, Permission.READ_ANALYTICS)

    def test_moderator_moderates_and_reads_content_only(self) -> None:
        assert PERMISSIONS[Role.MODERATOR] == {Permission.MODERATE_COMMUNITY, Permission.READ_CONTENT}

    def test_analyst_reads_analytics_only(self) -> None:
        assert PERMISSIONS[Role.ANALYST] == {Permission.READ_ANALYTICS}

    def test_no_role_no_permission(self) -> None:
        assert not has_permission(None, Permission.READ_ANALYTICS)

    def test_roles_ordered_by_power(self) -> None:
        assert Role.ADMIN.rank > Role.EDITOR.rank > Role.MODERATOR.rank > Role.ANALYST.rank


class TestAuthorization:
    def test_only_admin_of_every_account_manages_members(self) -> None:
        rules.require_admin_of({"a": Role.ADMIN, "b": Role.ADMIN}, ["a", "b"])

    def test_admin_of_a_cannot_grant_on_b(self) -> None:
        with pytest.raises(Forbidden) as err:
            rules.require_admin_of({"a": Role.ADMIN, "b": Role.EDITOR}, ["a", "b", "c"])
        assert err.value.extensions["accounts"] == ["b", "c"]

    def test_editor_cannot_invite(self) -> None:
        with pytest.raises(Forbidden):
            rules.require_admin_of({"a": Role.EDITOR}, ["a"])

    def test_invitee_cannot_confirm_self(self) -> None:
        with pytest.raises(Forbidden):
            rules.check_confirmer(confirmer_member_id="m1", invitee_member_id="m1")
        rules.check_confirmer(confirmer_member_id="m2", invitee_member_id="m1")

    def test_admin_cap(self) -> None:
        policy = BusinessPolicy()
        rules.check_admin_capacity("a", 2, 1, policy)
        with pytest.raises(AdminLimitReached):
            rules.check_admin_capacity("a", 3, 1, policy)

    def test_last_admin(self) -> None:
        with pytest.raises(LastAdmin):
            rules.check_not_last_admin("a", other_admins=0)
        rules.check_not_last_admin("a", other_admins=1)


class TestPolicy:
    def test_defaults(self) -> None:
        p = BusinessPolicy()
        assert (p.invitation_lifetime_days, p.max_admins_per_account, p.resend_max_sends) == (7, 3, 5)
        assert p.auto_confirm_non_admin

    @pytest.mark.parametrize("days", [0, 31])
    def test_lifetime_bounds(self, days: int) -> None:
        with pytest.raises(ValidationError):
            BusinessPolicy(invitation_lifetime_days=days)

    def test_expiry(self) -> None:
        assert rules.expiry_for(NOW, BusinessPolicy(invitation_lifetime_days=2)) == NOW + timedelta(days=2)


class TestTokens:
    def test_token_has_256_bits_and_only_hash_is_kept(self) -> None:
        token, digest = mint_token()
        assert len(token) >= 43  # 32 bytes, url-safe base64
        assert digest == hash_token(token) and token not in digest
        assert mint_token()[0] != token

    def test_email_normalised(self) -> None:
        assert normalise_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"


class TestInvitationRules:
    def kwargs(self, **over: object) -> dict[str, object]:
        base: dict[str, object] = dict(status=InvitationStatus.PENDING, expires_at=NOW + timedelta(days=1),
                                       invited_email="ann@example.com", caller_email="Ann@Example.com",
                                       caller_email_verified=True, now=NOW)
        base.update(over)
        return base

    def test_acceptable(self) -> None:
        rules.check_acceptable(**self.kwargs())  # type: ignore[arg-type]

    def test_wrong_email(self) -> None:
        with pytest.raises(EmailMismatch):
            rules.check_acceptable(**self.kwargs(caller_email="bob@example.com"))  # type: ignore[arg-type]

    def test_unverified_email(self) -> None:
        with pytest.raises(EmailMismatch):
            rules.check_acceptable(**self.kwargs(caller_email_verified=False))  # type: ignore[arg-type]

    def test_expired_by_time(self) -> None:
        with pytest.raises(Gone):
            rules.check_acceptable(**self.kwargs(expires_at=NOW))  # type: ignore[arg-type]

    @pytest.mark.parametrize("status", [InvitationStatus.ACCEPTED, InvitationStatus.CONFIRMED])
    def test_used(self, status: InvitationStatus) -> None:
        with pytest.raises(AlreadyUsed):
            rules.check_acceptable(**self.kwargs(status=status))  # type: ignore[arg-type]

    def test_used_link_says_so_even_to_the_wrong_login(self) -> None:
        with pytest.raises(AlreadyUsed):
            rules.check_acceptable(**self.kwargs(status=InvitationStatus.ACCEPTED,  # type: ignore[arg-type]
                                                 caller_email="x@example.com"))

    def test_confirmation_needed_for_admin_only_by_default(self) -> None:
        policy = BusinessPolicy()
        assert rules.needs_confirmation([g("a", Role.ADMIN), g("b", Role.EDITOR)], policy)
        assert not rules.needs_confirmation([g("a", Role.EDITOR)], policy)
        assert rules.needs_confirmation([g("a", Role.ANALYST)], BusinessPolicy(auto_confirm_non_admin=False))

    def test_resend_limits(self) -> None:
        policy = BusinessPolicy()
        rules.check_resend(send_count=1, last_sent_at=NOW - timedelta(minutes=2), now=NOW, policy=policy)
        with pytest.raises(TooManyRequests) as err:
            rules.check_resend(send_count=1, last_sent_at=NOW - timedelta(seconds=20), now=NOW, policy=policy)
        assert err.value.retry_after == 40
        with pytest.raises(TooManyRequests):
            rules.check_resend(send_count=5, last_sent_at=NOW - timedelta(hours=1), now=NOW, policy=policy)


class TestTransitions:
    def test_invitation_moves(self) -> None:
        check_invitation_move(InvitationStatus.PENDING, InvitationStatus.ACCEPTED)
        check_invitation_move(InvitationStatus.ACCEPTED, InvitationStatus.CONFIRMED)
        with pytest.raises(Conflict):
            check_invitation_move(InvitationStatus.EXPIRED, InvitationStatus.ACCEPTED)
        with pytest.raises(Conflict):
            check_invitation_move(InvitationStatus.PENDING, InvitationStatus.CONFIRMED)

    def test_member_moves(self) -> None:
        check_member_move(MemberStatus.ACTIVE, MemberStatus.OFFBOARDING)
        with pytest.raises(Conflict):
            check_member_move(MemberStatus.ACTIVE, MemberStatus.REMOVED)


class TestGrants:
    def test_one_role_per_account(self) -> None:
        with pytest.raises(InvalidInput):
            validate_grants([g("a", Role.EDITOR), g("a", Role.ANALYST)])

    def test_at_least_one(self) -> None:
        with pytest.raises(InvalidInput):
            validate_grants([])

    def test_unknown_role_rejected(self) -> None:
        with pytest.raises(ValidationError):
            Grant.model_validate({"account_id": "a", "role": "Owner"})

    def test_narrowing_keeps_subset_and_lowers(self) -> None:
        proposed = [g("a", Role.ADMIN), g("b", Role.EDITOR)]
        assert narrow_grants(proposed, [g("a", Role.EDITOR)]) == [g("a", Role.EDITOR)]
        assert narrow_grants(proposed, None) == proposed

    def test_narrowing_never_raises_or_adds(self) -> None:
        proposed = [g("a", Role.EDITOR)]
        with pytest.raises(InvalidInput):
            narrow_grants(proposed, [g("a", Role.ADMIN)])
        with pytest.raises(InvalidInput):
            narrow_grants(proposed, [g("z", Role.ANALYST)])
