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


# What each role may do, in plain words, derived from PERMISSIONS (the accept page and the console
# show it next to a role). A phrase is used when the role holds all its permissions; "read content"
# goes without saying for a role that publishes it.
_CAN: tuple[tuple[frozenset[Permission], str], ...] = (
    (frozenset({Permission.MANAGE_MEMBERS}), "manage the team and its roles"),
    (frozenset({Permission.BILLING}), "handle billing"),
    (frozenset({Permission.ACCOUNT_SETTINGS}), "change the account's settings"),
    (frozenset({Permission.CREATE_CONTENT, Permission.SCHEDULE_CONTENT, Permission.PUBLISH_CONTENT}),
     "create, schedule and publish content"),
    (frozenset({Permission.MODERATE_COMMUNITY}), "reply to and moderate comments and messages"),
    (frozenset({Permission.READ_CONTENT}), "read content"),
    (frozenset({Permission.READ_ANALYTICS}), "read analytics"),
)
_CANNOT: tuple[tuple[Permission, str], ...] = (
    (Permission.MANAGE_MEMBERS, "members"), (Permission.BILLING, "billing"),
    (Permission.ACCOUNT_SETTINGS, "settings"),
)


def _join(words: list[str], conjunction: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def describe(role: Role) -> str:
    """One plain line of what ``role`` may do, e.g. "Can read analytics; cannot manage members,
    billing or settings." Derived from the permission table, so it cannot drift from the checks."""
    held = PERMISSIONS[role]
    if held == frozenset(Permission):
        return ("Can do everything on the account: manage the team and its roles, billing, settings, content, "
                "comments and messages, and analytics.")
    can = [phrase for perms, phrase in _CAN if perms <= held
           and not (perms == {Permission.READ_CONTENT} and Permission.PUBLISH_CONTENT in held)]
    cannot = [word for perm, word in _CANNOT if perm not in held]
    line = f"Can {_join(can, 'and')}"
    return f"{line}; cannot manage {_join(cannot, 'or')}." if cannot else f"{line}."
