"""Setting up a business: its accounts, its policy and its first Admin (an operator's task, run with
AWS credentials against the table — ``accessflow bootstrap``; every later member arrives through an
invitation, every later account through the accounts API).

Idempotent: it reads first and writes only what differs, so running it again with the same
arguments changes nothing (and writes no audit entry). With different arguments it converges: a
new business name or an explicit policy is applied, missing accounts are added (the named Admin, if
already an active member, gets the Admin grant on them), renamed accounts take the new name, and a
new admin e-mail becomes an ACTIVE Admin of every listed account. A retired account is left retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from accessflow.domain.errors import InvalidInput
from accessflow.domain.model import MemberStatus
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.tokens import normalise_email
from accessflow.store import accounts as account_store
from accessflow.store import repository as store
from accessflow.store.models import MemberItem


@dataclass
class BootstrapReport:
    """What a run did; ``changes`` is empty when the business was already as asked."""

    business_id: str
    admin: MemberItem | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def bootstrap(
    business_id: str, name: str, accounts: Sequence[tuple[str, str, str]], admin_email: str, admin_name: str,
    *, policy: BusinessPolicy | None = None, now: datetime, actor: str = "operator",
) -> BootstrapReport:
    """Create (or converge) the business, its accounts (id, display name, platform) and its first
    Admin. The admin's login is linked at first sign-in with the verified e-mail."""
    if not accounts:
        raise InvalidInput("A business needs at least one account.")
    if len({a[0] for a in accounts}) != len(accounts):
        raise InvalidInput("Each account id may be given once.")
    ctx = store.Context(actor=actor, actor_name=actor)
    report = BootstrapReport(business_id)
    email = normalise_email(admin_email)
    business = store.get_business(business_id)
    if business is None:
        store.create_business(business_id, name, policy or BusinessPolicy(), accounts, ctx, now)
        report.changes.append(f"created business {business_id} ({name}) with accounts "
                              f"{', '.join(a[0] for a in accounts)}")
    else:
        new_policy = policy if policy is not None and policy != store.policy_of(business) else None
        if business.name != name or new_policy is not None:
            store.update_business(business, name=name, policy=new_policy, ctx=ctx, now=now)
            report.changes.append(f"updated business {business_id}: name {name!r}"
                                  + (", policy" if new_policy is not None else ""))
        admin = store.member_by_email(business_id, email)
        holder = admin if admin is not None and admin.status == MemberStatus.ACTIVE.value else None
        for account_id, account_name, platform in accounts:
            existing = store.get_account(business_id, account_id)
            if existing is None:
                account_store.add_account(business_id, account_id, account_name, platform, admin=holder, ctx=ctx,
                                          now=now)
                report.changes.append(f"added account {account_id} ({account_name})"
                                      + (f", Admin: {email}" if holder else ""))
            elif store.is_retired(existing):
                continue
            elif existing.name != account_name:
                account_store.rename_account(existing, name=account_name, ctx=ctx, now=now)
                report.changes.append(f"renamed account {account_id} to {account_name!r}")
    # recurring access reviews: a new business, or one that predates them, is put on the schedule
    # (its first review one period from now, docs/review-schedule.md)
    from accessflow.usecases.review_schedule import enrol

    if enrol(business_id, policy or (store.policy_of(business) if business else BusinessPolicy()), ctx=ctx, now=now) \
            and business is not None:
        report.changes.append(f"scheduled recurring access reviews of {business_id}")
    report.admin = store.member_by_email(business_id, email)
    if report.admin is None:
        open_ids = [a[0] for a in accounts
                    if (acc := store.get_account(business_id, a[0])) is not None and not store.is_retired(acc)]
        report.admin = store.create_admin_member(business_id, email, admin_name, open_ids, ctx, now)
        report.changes.append(f"created {email} ({admin_name}) as ACTIVE Admin of {', '.join(open_ids)}")
    return report
