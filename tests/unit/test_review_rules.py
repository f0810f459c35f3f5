"""Access review rules (pure): who reviews a grant, what the close does with it, the idle flag,
and how the close packs removals into 100-item transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accessflow.domain import review
from accessflow.domain.errors import InvalidInput
from accessflow.domain.review import Assignment, Outcome, SnapshotGrant

ADMINS = {"acct-1": ["ann", "bob"], "acct-2": ["ann"], "acct-3": []}
BUSINESS_ADMINS = {"ann", "bob"}


@pytest.mark.parametrize(("grant", "expected"), [
    (SnapshotGrant("eve", "acct-1", "Editor"), Assignment(("ann", "bob"), flagged=False, escalated=False)),
    (SnapshotGrant("ann", "acct-1", "Admin"), Assignment(("bob",), flagged=False, escalated=False)),
    # ann is acct-2's only Admin: her own grant goes to the business's other Admins
    (SnapshotGrant("ann", "acct-2", "Admin"), Assignment(("bob",), flagged=False, escalated=True)),
    # an account with no Admin at all: the business's Admins
    (SnapshotGrant("eve", "acct-3", "Analyst"), Assignment(("ann", "bob"), flagged=False, escalated=True)),
])
def test_the_accounts_admins_review_never_the_holder(grant: SnapshotGrant, expected: Assignment) -> None:
    assert review.assign(grant, ADMINS, BUSINESS_ADMINS) == expected


def test_a_sole_admin_with_no_other_admin_in_the_business_is_flagged() -> None:
    got = review.assign(SnapshotGrant("ann", "acct-2", "Admin"), {"acct-2": ["ann"]}, {"ann"})
    assert got == Assignment((), flagged=True, escalated=False)


@pytest.mark.parametrize(("decision", "policy", "expected"), [
    ("keep", "remove", Outcome.KEPT), ("remove", "keep", Outcome.REMOVED),
    (None, "keep", Outcome.KEPT_UNDECIDED), (None, "remove", Outcome.REMOVED_UNDECIDED),
])
def test_decisions_win_and_undecided_grants_follow_the_policy(decision: str | None, policy: str,
                                                              expected: Outcome) -> None:
    assert review.outcome(decision, policy) == expected


def test_halfway_and_deadline() -> None:
    start = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    halfway, deadline = review.schedule(start, 14)
    assert (halfway, deadline) == (datetime(2026, 12, 8, 10, tzinfo=UTC), datetime(2026, 12, 15, 10, tzinfo=UTC))
    with pytest.raises(InvalidInput):
        review.schedule(start, 91)


def test_idle_counts_from_the_last_activity_else_from_the_grant() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert review.is_idle(now - timedelta(days=91), None, now, 90)
    assert not review.is_idle(now - timedelta(days=89), now - timedelta(days=400), now, 90)
    assert review.is_idle(None, now - timedelta(days=120), now, 90)
    assert not review.is_idle(None, now - timedelta(days=10), now, 90)


def test_removals_pack_into_full_transactions_with_one_admin_counter_per_account() -> None:
    from accessflow.store.models import ReviewItem
    from accessflow.store.reviews import MAX_TX_ITEMS, Removal, pack

    def removal(n: int, role: str, account: str) -> Removal:
        return Removal(ReviewItem(member_id=f"m{n}", account_id=account, role=role, item_id=f"m{n}.{account}"),
                       "removed")

    removals = [removal(n, "Editor", "acct-1") for n in range(70)] + [removal(n, "Admin", "acct-2")
                                                                      for n in range(70, 80)]
    chunks = pack(removals)
    sizes = [3 * len(c) + len({r.item.account_id for r in c if r.item.role == "Admin"}) for c in chunks]
    assert all(size <= MAX_TX_ITEMS for size in sizes)
    assert sum(len(c) for c in chunks) == 80 and len(chunks) == 3  # 241 items: 3 transactions
