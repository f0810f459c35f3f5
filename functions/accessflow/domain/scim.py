"""SCIM rules, pure: the bearer token's shape, what a user's bundles give them, and which grants a
group removal takes away.

A SCIM token is ``scim_{token_id}_{secret}``: the id names the token's item inside the business
the URL names (a key lookup, no index), the secret is 32 random bytes (256 bits) and only the
SHA-256 of the whole token is stored. A token of another business names no item there: 401.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Mapping

from accessflow.domain.model import Grant
from accessflow.domain.roles import Role
from accessflow.domain.tokens import hash_token

TOKEN_PREFIX = "scim_"
_TOKEN = re.compile(r"scim_([0-9a-f]{32})_([A-Za-z0-9_-]{43,})")


def mint_scim_token(token_id: str | None = None) -> tuple[str, str, str]:
    """``(token_id, token, token_hash)``: the token is shown once; the hash is stored."""
    token_id = token_id or uuid.uuid4().hex
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    return token_id, token, hash_token(token)


def parse_scim_token(authorization: str | None) -> tuple[str, str] | None:
    """``(token_id, token)`` from an ``Authorization: Bearer`` header, or None (a JWT, junk)."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    token = authorization[7:].strip()
    m = _TOKEN.fullmatch(token)
    return (m.group(1), token) if m else None


def desired_grants(bundles: Iterable[Iterable[Grant]]) -> list[Grant]:
    """What a user's groups give them together: one role per account, the most powerful one any of
    their groups gives (two bundles naming one account never give two roles)."""
    best: dict[str, Role] = {}
    for grants in bundles:
        for g in grants:
            if g.account_id not in best or g.role.rank > best[g.account_id].rank:
                best[g.account_id] = g.role
    return [Grant(account_id=a, role=r) for a, r in sorted(best.items())]


def to_propose(desired: Iterable[Grant], held: Mapping[str, Role], pending: Iterable[str]) -> list[Grant]:
    """The grants to propose through an invitation: the desired accounts the member neither holds
    nor has a pending invitation for. A held account with another role is left alone: a role change
    is an Admin's decision (or the mover flow), never a side effect of a group."""
    pending_accounts = set(pending)
    return [g for g in desired if g.account_id not in held and g.account_id not in pending_accounts]


def to_revoke(
    removed: Iterable[Grant], still_desired: Iterable[Grant], held: Mapping[str, tuple[Role, bool]],
) -> list[str]:
    """Accounts to revoke when a user leaves a group: those the group gave, that no other group of
    theirs still gives, and whose grant came from SCIM (``held``: account -> (role, from_scim)); a
    grant an Admin set or changed directly is a direct assignment and stays."""
    other = {g.account_id for g in still_desired}
    out = []
    for g in removed:
        current = held.get(g.account_id)
        if current is not None and current[1] and g.account_id not in other:
            out.append(g.account_id)
    return sorted(out)
