"""Roles and permissions: data, in one place; every authorization check reads this table."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "Admin"
    EDITOR = "Editor"
    MODERATOR = "Moderator"
    ANALYST = "Analyst"

    @property
    def rank(self) -> int:
        """Higher is more powerful."""
        return _RANK[self]


_RANK = {Role.ADMIN: 4, Role.EDITOR: 3, Role.MODERATOR: 2, Role.ANALYST: 1}


class Permission(StrEnum):
    MANAGE_MEMBERS = "manage_members"
    BILLING = "billing"
    ACCOUNT_SETTINGS = "account_settings"
    CREATE_CONTENT = "create_content"
    SCHEDULE_CONTENT = "schedule_content"
    PUBLISH_CONTENT = "publish_content"
    READ_CONTENT = "read_content"
    MODERATE_COMMUNITY = "moderate_community"
    READ_ANALYTICS = "read_analytics"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(
        {
            Permission.CREATE_CONTENT,
            Permission.SCHEDULE_CONTENT,
            Permission.PUBLISH_CONTENT,
            Permission.READ_CONTENT,
            Permission.READ_ANALYTICS,
        }
    ),
    Role.MODERATOR: frozenset({Permission.MODERATE_COMMUNITY, Permission.READ_CONTENT}),
    Role.ANALYST: frozenset({Permission.READ_ANALYTICS}),
}


def has_permission(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in PERMISSIONS[role]
