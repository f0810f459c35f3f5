"""Store: a person's memberships across businesses (``GET /me``), without a Scan.

Each member is filed under its e-mail (``WHO#EMAIL#{e}``) when the member is created, and under its
login (``WHO#LOGIN#{sub}``) when a login is linked, in the same transactions (see ``repository``).
The items only point at memberships; the member items say whether they are still active.
"""

from __future__ import annotations

from accessflow.store.models import DirectoryItem
from accessflow.store.repository import who_email_pk, who_login_pk


def memberships(*, email: str | None, sub: str | None) -> list[tuple[str, str, str]]:
    """(business_id, member_id, how) for every membership filed under the e-mail or the login;
    ``how`` is ``login`` or ``email``. Strongly consistent reads of two partitions."""
    found: list[tuple[str, str, str]] = []
    for how, pk in (("login", who_login_pk(sub) if sub else None), ("email", who_email_pk(email) if email else None)):
        if pk is None:
            continue
        for item in DirectoryItem.query(pk, consistent_read=True):
            found.append((item.business_id, item.member_id, how))
    return found


__all__ = ["memberships"]
