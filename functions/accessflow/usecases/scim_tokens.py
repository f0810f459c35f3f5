"""A business's SCIM bearer tokens: an Admin of every account of the business creates, lists,
rotates and revokes them; the SCIM endpoint authenticates with them.

A token grants the identity provider the power to onboard (through the usual invitation) and to
offboard anyone it provisioned, on any account its bundles name: hence Admin of every account, like
the business policy. The secret is shown once (creation, rotation); only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessflow.domain import scim as rules
from accessflow.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from accessflow.domain.tokens import hash_token, same_hash
from accessflow.store import repository as store
from accessflow.store import scim as scim_store
from accessflow.store.models import ScimTokenItem


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInput("A token needs a name of 1-64 characters (it names the actor in the audit trail).")
    return name


def create(business_id: str, name: str, *, ctx: store.Context, now: datetime) -> dict[str, Any]:
    name = _name(name)
    if any(t.name == name and t.status == scim_store.ACTIVE for t in scim_store.list_tokens(business_id)):
        raise Conflict(f"An active SCIM token is already named {name!r}; rotate it or pick another name.")
    token_id, token, token_hash = rules.mint_scim_token()
    item = scim_store.create_token(business_id, token_id, name, token_hash, ctx, now)
    return scim_store.token_view(item) | {"token": token}


def list_tokens(business_id: str) -> list[dict[str, Any]]:
    items = sorted(scim_store.list_tokens(business_id), key=lambda t: (t.created_at, t.token_id))
    return [scim_store.token_view(t) for t in items]


def _active(business_id: str, token_id: str) -> ScimTokenItem:
    item = scim_store.get_token(business_id, token_id)
    if item is None:
        raise NotFound(f"SCIM token {token_id} not found.")
    if item.status != scim_store.ACTIVE:
        raise Conflict(f"SCIM token {token_id} is {item.status}.", current_status=item.status)
    return item


def rotate(business_id: str, token_id: str, *, ctx: store.Context, now: datetime) -> dict[str, Any]:
    """A new secret under the same name: the old one stops working at once."""
    item = _active(business_id, token_id)
    _, token, token_hash = rules.mint_scim_token(token_id)
    try:
        scim_store.rotate_token(item, token_hash, ctx, now)
    except store.ConditionFailed as exc:
        raise Conflict("The token changed concurrently; read it again.") from exc
    fresh = scim_store.get_token(business_id, token_id) or item
    return scim_store.token_view(fresh) | {"token": token}


def revoke(business_id: str, token_id: str, *, ctx: store.Context, now: datetime) -> dict[str, Any]:
    item = _active(business_id, token_id)
    try:
        scim_store.revoke_token(item, ctx, now)
    except store.ConditionFailed as exc:
        raise Conflict("The token was revoked concurrently.") from exc
    fresh = scim_store.get_token(business_id, token_id) or item
    return scim_store.token_view(fresh)


def authenticate(business_id: str, authorization: str | None, *, now: datetime) -> ScimTokenItem:
    """The business's active token the header carries, or 401 (a JWT, junk, a revoked or rotated
    token, a token of another business: all the same answer)."""
    parsed = rules.parse_scim_token(authorization)
    if parsed is None:
        raise Unauthenticated("A SCIM bearer token of this business is required.")
    token_id, token = parsed
    item = scim_store.get_token(business_id, token_id)
    if item is None or item.status != scim_store.ACTIVE or not same_hash(item.token_hash, hash_token(token)):
        raise Unauthenticated("A SCIM bearer token of this business is required.")
    scim_store.touch_token(item, now)
    return item
