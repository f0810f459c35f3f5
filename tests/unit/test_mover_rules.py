"""The mover's pure rules (domain/mover.py): the difference between today's grants and the desired
set, what needs a second admin, the Admin bounds, and what a confirmer may narrow."""

from __future__ import annotations

import pytest

from accessflow.domain.errors import AdminLimitReached, InvalidInput, LastAdmin
from accessflow.domain.model import Grant
from accessflow.domain.mover import (
    ADD,
    LOWER,
    RAISE,
    REMOVE,
    Change,
    check_admin_rules,
    diff,
    narrow,
    needs_confirmation,
)
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role

ADMIN, EDITOR, MODERATOR, ANALYST = Role.ADMIN, Role.EDITOR, Role.MODERATOR, Role.ANALYST


def g(account: str, role: Role) -> Grant:
    return Grant(account_id=account, role=role)


def test_the_issue_example_splits_into_reductions_and_proposals() -> None:
    move = diff({"A": EDITOR, "B": EDITOR}, [g("A", ANALYST), g("C", ADMIN)])
    assert [(c.account_id, c.kind) for c in move.reductions] == [("A", LOWER), ("B", REMOVE)]
    assert [(c.account_id, c.kind, c.after) for c in move.proposals] == [("C", ADD, ADMIN)]
    assert move.unchanged == [] and move.accounts == ["A", "B", "C"]


def test_a_raise_is_a_proposal_and_what_stays_is_unchanged() -> None:
    move = diff({"A": ANALYST, "B": MODERATOR}, [g("A", EDITOR), g("B", MODERATOR)])
    assert move.reductions == [] and [(c.account_id, c.kind) for c in move.proposals] == [("A", RAISE)]
    assert move.unchanged == [g("B", MODERATOR)] and move.accounts == ["A"]


def test_the_same_set_changes_nothing() -> None:
    move = diff({"A": ADMIN}, [g("A", ADMIN)])
    assert move.empty and move.accounts == []


def test_one_role_per_account_in_the_desired_set() -> None:
    with pytest.raises(InvalidInput):
        diff({}, [g("A", ADMIN), g("A", EDITOR)])


def test_admin_needs_a_second_admin_lower_roles_follow_the_policy() -> None:
    auto, manual = BusinessPolicy(), BusinessPolicy(auto_confirm_non_admin=False)
    assert needs_confirmation([Change("A", EDITOR, ADMIN)], auto)
    assert not needs_confirmation([Change("A", ANALYST, EDITOR), Change("B", None, MODERATOR)], auto)
    assert needs_confirmation([Change("A", ANALYST, EDITOR)], manual)
    assert not needs_confirmation([], manual)  # nothing proposed: nothing to confirm


def test_never_the_last_admin_and_never_above_the_cap() -> None:
    policy = BusinessPolicy(max_admins_per_account=2)
    demote = diff({"A": ADMIN, "B": ADMIN}, [g("A", EDITOR)])
    with pytest.raises(LastAdmin) as lone:
        check_admin_rules(demote, {"A": 1, "B": 1}, policy)
    assert lone.value.extensions["accounts"] == ["A", "B"]
    check_admin_rules(demote, {"A": 2, "B": 3}, policy)  # others remain
    promote = diff({"A": EDITOR}, [g("A", ADMIN)])
    with pytest.raises(AdminLimitReached):
        check_admin_rules(promote, {"A": 2}, policy)
    check_admin_rules(promote, {"A": 1}, policy)


def test_a_confirmer_narrows_but_never_raises_nor_keeps_a_non_raise() -> None:
    proposals = [Change("A", ANALYST, ADMIN), Change("C", None, EDITOR)]
    assert narrow(proposals, None) == proposals
    assert narrow(proposals, [g("A", EDITOR)]) == [Change("A", ANALYST, EDITOR)]
    with pytest.raises(InvalidInput):
        narrow(proposals, [g("C", ADMIN)])  # above what was proposed
    with pytest.raises(InvalidInput):
        narrow(proposals, [g("A", ANALYST)])  # today's role: leave it out instead
    with pytest.raises(InvalidInput):
        narrow(proposals, [g("B", ANALYST)])  # not proposed


def test_changes_round_trip_through_their_stored_form() -> None:
    for change in (Change("A", None, ADMIN), Change("B", EDITOR, None), Change("C", EDITOR, ANALYST)):
        assert Change.from_dict(change.as_dict()) == change
    assert Change("B", EDITOR, None).admin_delta == 0 and Change("B", ADMIN, None).admin_delta == -1
