"""Setting up a business: its accounts, its policy and its first Admin (an operator's task, run with
AWS credentials against the table; every later member arrives through an invitation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from accessflow.domain.errors import InvalidInput
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.tokens import normalise_email
from accessflow.store import repository as store
from accessflow.store.models import MemberItem


def bootstrap(
    business_id: str, name: str, accounts: Sequence[tuple[str, str, str]], admin_email: str, admin_name: str,
    *, policy: BusinessPolicy | None = None, now: datetime, actor: str = "operator",
) -> MemberItem | None:
    """Create (or update) the business and its accounts, and, if the business has no member with that
    e-mail yet, an ACTIVE Admin of every account. The admin's login is linked at first sign-in with
    the verified e-mail."""
    if not accounts:
        raise InvalidInput("A business needs at least one account.")
    ctx = store.Context(actor=actor)
    store.put_business(business_id, name, policy or BusinessPolicy(), accounts, ctx, now)
    email = normalise_email(admin_email)
    if store.member_by_email(business_id, email) is not None:
        return None
    return store.create_admin_member(business_id, email, admin_name, [a[0] for a in accounts], ctx, now)
