"""SCIM's pure rules: the token's shape, what a user's groups give together, what an invitation
proposes, and what leaving a group takes away."""

from __future__ import annotations

import hashlib

from accessflow.domain.model import Grant
from accessflow.domain.roles import Role
from accessflow.domain.scim import desired_grants, mint_scim_token, parse_scim_token, to_propose, to_revoke


def g(account: str, role: str) -> Grant:
    return Grant(account_id=account, role=Role(role))


def test_a_token_is_256_random_bits_named_by_its_id_and_stored_as_its_sha256() -> None:
    token_id, token, token_hash = mint_scim_token()
    assert token.startswith(f"scim_{token_id}_") and len(token.split("_", 2)[2]) >= 43
    assert token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in token_hash
    assert parse_scim_token(f"Bearer {token}") == (token_id, token)
    assert parse_scim_token(f"bearer  {token} ") == (token_id, token)
    assert mint_scim_token(token_id)[1] != token  # rotation: same id, new secret


def test_anything_but_a_scim_token_is_not_one() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    for header in (None, "", "Bearer", f"Bearer {jwt}", "Basic dXNlcjpwdw==", "Bearer scim_123_abc",
                   "Bearer scim_" + "0" * 32 + "_short"):
        assert parse_scim_token(header) is None, header


def test_groups_together_give_one_role_per_account_the_most_powerful() -> None:
    got = desired_grants([[g("a", "Analyst"), g("b", "Editor")], [g("a", "Admin")], [g("b", "Moderator")]])
    assert got == [g("a", "Admin"), g("b", "Editor")]
    assert desired_grants([]) == []


def test_an_invitation_proposes_only_accounts_neither_held_nor_pending() -> None:
    desired = [g("a", "Editor"), g("b", "Admin"), g("c", "Analyst")]
    # b is held with another role: a role change is an Admin's decision, never a group's side effect
    assert to_propose(desired, {"b": Role.ANALYST}, ["c"]) == [g("a", "Editor")]


def test_leaving_a_group_revokes_what_only_it_gave_through_scim() -> None:
    removed = [g("a", "Editor"), g("b", "Editor"), g("c", "Editor"), g("d", "Editor")]
    still = [g("b", "Analyst")]  # another group still gives b
    held = {"a": (Role.EDITOR, True), "b": (Role.EDITOR, True), "c": (Role.EDITOR, False)}  # c set by an Admin
    assert to_revoke(removed, still, held) == ["a"]  # d is not held at all
