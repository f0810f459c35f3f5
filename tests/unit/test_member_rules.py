"""Role-change decisions of the domain core (pure, no AWS)."""

from __future__ import annotations

import pytest

from accessflow.domain import rules
from accessflow.domain.errors import AdminLimitReached, Forbidden, LastAdmin
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role

POLICY = BusinessPolicy(max_admins_per_account=3)


@pytest.mark.parametrize("before,after,delta", [
    (None, Role.ADMIN, 1), (Role.EDITOR, Role.ADMIN, 1), (Role.ADMIN, Role.EDITOR, -1), (Role.ADMIN, None, -1),
    (Role.EDITOR, Role.ANALYST, 0), (None, Role.EDITOR, 0), (Role.ADMIN, Role.ADMIN, 0),
])
def test_admin_delta(before: Role | None, after: Role | None, delta: int) -> None:
    assert rules.admin_delta(before, after) == delta


def test_a_fourth_admin_is_refused() -> None:
    assert rules.check_role_change(account_id="a", before=Role.EDITOR, after=Role.ADMIN, current_admins=2,
                                   policy=POLICY) == 1
    with pytest.raises(AdminLimitReached):
        rules.check_role_change(account_id="a", before=Role.EDITOR, after=Role.ADMIN, current_admins=3,
                                policy=POLICY)


@pytest.mark.parametrize("after", [Role.EDITOR, None])
def test_the_last_admin_cannot_be_demoted_or_removed(after: Role | None) -> None:
    with pytest.raises(LastAdmin):
        rules.check_role_change(account_id="a", before=Role.ADMIN, after=after, current_admins=1, policy=POLICY)
    assert rules.check_role_change(account_id="a", before=Role.ADMIN, after=after, current_admins=2,
                                   policy=POLICY) == -1


def test_lower_roles_change_freely() -> None:
    assert rules.check_role_change(account_id="a", before=Role.ANALYST, after=None, current_admins=0,
                                   policy=POLICY) == 0


def test_reading_members_needs_admin_somewhere() -> None:
    rules.require_admin_of_any({"a": Role.ANALYST, "b": Role.ADMIN})
    for roles in ({}, {"a": Role.EDITOR, "b": Role.MODERATOR, "c": Role.ANALYST}):
        with pytest.raises(Forbidden):
            rules.require_admin_of_any(roles)
