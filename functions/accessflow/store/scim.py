"""The store side of SCIM: the business's SCIM tokens, the users an identity provider provisioned,
the access bundles (SCIM Groups) and their memberships.

Every change is ONE transaction holding the item, its uniqueness keys (userName, externalId, the
group's displayName: each a lookup item put under ``attribute_not_exists``, so two racing creations
leave one winner), the optimistic version check of what the caller read, and the audit entry.
Every read is a key or a key-prefix query, never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from accessflow.store.models import (
    BundleItem,
    BundleMemberItem,
    ScimLookupItem,
    ScimTokenItem,
    ScimUserItem,
)
from accessflow.store.repository import AuditDraft, Context, Tx, biz_pk

ACTIVE = "ACTIVE"
REVOKED = "REVOKED"


# --- keys ----------------------------------------------------------------------------------------


def token_sk(token_id: str) -> str:
    return f"SCIMTOKEN#{token_id}"


def user_sk(user_id: str) -> str:
    return f"SCIMUSER#{user_id}"


def name_sk(user_name: str) -> str:
    return f"SCIMNAME#{user_name}"


def ext_sk(external_id: str) -> str:
    return f"SCIMEXT#{external_id}"


def user_email_sk(email: str, user_id: str) -> str:
    return f"SCIMEMAIL#{email}#{user_id}"


def group_sk(group_id: str) -> str:
    return f"BUNDLE#{group_id}"


def group_name_sk(display_name: str) -> str:
    return f"SCIMGROUP#{display_name}"


def group_ext_sk(external_id: str) -> str:
    return f"SCIMGROUPEXT#{external_id}"


def by_group_sk(group_id: str, user_id: str) -> str:
    return f"BMEMBER#{group_id}#{user_id}"


def by_user_sk(user_id: str, group_id: str) -> str:
    return f"UBUNDLE#{user_id}#{group_id}"


def _get(model: type[Any], business_id: str, sk: str) -> Any:
    try:
        return model.get(biz_pk(business_id), sk, consistent_read=True)
    except DoesNotExist:
        return None


# --- tokens --------------------------------------------------------------------------------------


def get_token(business_id: str, token_id: str) -> ScimTokenItem | None:
    item: ScimTokenItem | None = _get(ScimTokenItem, business_id, token_sk(token_id))
    return item


def list_tokens(business_id: str) -> list[ScimTokenItem]:
    return list(ScimTokenItem.query(biz_pk(business_id), ScimTokenItem.sk.startswith("SCIMTOKEN#"),
                                    consistent_read=True))


def token_view(item: ScimTokenItem) -> dict[str, Any]:
    """What an Admin may see of a token: never its hash."""
    from accessflow.store.repository import _iso

    return {"token_id": item.token_id, "name": item.name, "status": item.status,
            "created_at": _iso(item.created_at), "created_by": item.created_by,
            "rotated_at": _iso(item.rotated_at), "revoked_at": _iso(item.revoked_at),
            "last_used_at": _iso(item.last_used_at)}


def create_token(business_id: str, token_id: str, name: str, token_hash: str, ctx: Context,
                 now: datetime) -> ScimTokenItem:
    item = ScimTokenItem(pk=biz_pk(business_id), sk=token_sk(token_id), business_id=business_id,
                         token_id=token_id, name=name, token_hash=token_hash, status=ACTIVE, created_at=now,
                         created_by=ctx.actor)
    tx = Tx(business_id, ctx, now)
    tx.save("token", item, condition=ScimTokenItem.pk.does_not_exist())
    tx.audit(AuditDraft("scim.token.created", subject=token_id, after={"name": name, "token_id": token_id}))
    tx.commit()
    return item


def rotate_token(item: ScimTokenItem, token_hash: str, ctx: Context, now: datetime) -> None:
    """A new secret for the same token (name, id): the old secret stops working with this write."""
    tx = Tx(item.business_id, ctx, now)
    tx.update("token", item, [ScimTokenItem.token_hash.set(token_hash), ScimTokenItem.rotated_at.set(now)],
              condition=(ScimTokenItem.status == ACTIVE) & (ScimTokenItem.token_hash == item.token_hash))
    tx.audit(AuditDraft("scim.token.rotated", subject=item.token_id, after={"name": item.name}))
    tx.commit()


def revoke_token(item: ScimTokenItem, ctx: Context, now: datetime) -> None:
    tx = Tx(item.business_id, ctx, now)
    tx.update("token", item, [ScimTokenItem.status.set(REVOKED), ScimTokenItem.revoked_at.set(now)],
              condition=ScimTokenItem.status == ACTIVE)
    tx.audit(AuditDraft("scim.token.revoked", subject=item.token_id, before={"status": ACTIVE},
                        after={"status": REVOKED, "name": item.name}))
    tx.commit()


def touch_token(item: ScimTokenItem, now: datetime) -> None:
    """When the token was last used (at most once a minute: not a state change, no audit)."""
    if item.last_used_at is None or (now - item.last_used_at).total_seconds() > 60:
        item.update(actions=[ScimTokenItem.last_used_at.set(now)])


# --- users ---------------------------------------------------------------------------------------


def get_user(business_id: str, user_id: str) -> ScimUserItem | None:
    item: ScimUserItem | None = _get(ScimUserItem, business_id, user_sk(user_id))
    return item


def _lookup(business_id: str, sk: str) -> str | None:
    item = _get(ScimLookupItem, business_id, sk)
    return item.target_id if item is not None else None


def user_by_name(business_id: str, user_name: str) -> ScimUserItem | None:
    user_id = _lookup(business_id, name_sk(user_name))
    return get_user(business_id, user_id) if user_id else None


def user_by_external_id(business_id: str, external_id: str) -> ScimUserItem | None:
    user_id = _lookup(business_id, ext_sk(external_id))
    return get_user(business_id, user_id) if user_id else None


def user_ids_by_email(business_id: str, email: str) -> list[str]:
    prefix = f"SCIMEMAIL#{email}#"
    return [i.target_id for i in ScimLookupItem.query(biz_pk(business_id), ScimLookupItem.sk.startswith(prefix))]


def users_page(business_id: str, limit: int) -> list[ScimUserItem]:
    """The first ``limit`` users in id order (a key-prefix query)."""
    if limit <= 0:
        return []
    return list(ScimUserItem.query(biz_pk(business_id), ScimUserItem.sk.startswith("SCIMUSER#"), limit=limit,
                                   consistent_read=True))


def count_users(business_id: str) -> int:
    return int(ScimUserItem.count(biz_pk(business_id), ScimUserItem.sk.startswith("SCIMUSER#"),
                                  consistent_read=True))


@dataclass
class Keys:
    """The lookup keys a resource holds: unique ones (label -> sk) and plain ones."""

    unique: dict[str, str] = field(default_factory=dict)
    plain: set[str] = field(default_factory=set)

    def all(self) -> set[str]:
        return set(self.unique.values()) | self.plain


def user_keys(user_id: str, user_name: str, external_id: str | None, emails: Iterable[str]) -> Keys:
    keys = Keys(unique={"userName": name_sk(user_name)})
    if external_id:
        keys.unique["externalId"] = ext_sk(external_id)
    keys.plain = {user_email_sk(e, user_id) for e in emails}
    return keys


def _write_keys(tx: Tx, business_id: str, target_id: str, before: Keys | None, after: Keys | None) -> None:
    old = before.all() if before else set()
    new = after.all() if after else set()
    for sk in old - new:
        tx.delete("lookup", ScimLookupItem(pk=biz_pk(business_id), sk=sk))
    unique = {sk: label for label, sk in (after.unique.items() if after else [])}
    for sk in new - old:
        condition = ScimLookupItem.pk.does_not_exist() if sk in unique else None
        tx.save(unique.get(sk, "lookup"), ScimLookupItem(pk=biz_pk(business_id), sk=sk, target_id=target_id),
                condition=condition)


def _versioned(model: type[Any], before: Any | None) -> Any:
    if before is None:
        return model.pk.does_not_exist()
    return model.version == before.version


def write_user(before: ScimUserItem | None, before_keys: Keys | None, after: ScimUserItem, after_keys: Keys,
               draft: AuditDraft, ctx: Context, now: datetime) -> None:
    """Create or replace a user with its keys and audit entry. Raises ``ConditionFailed`` with the
    label ``userName`` / ``externalId`` (taken by another user) or ``user`` (changed meanwhile)."""
    tx = Tx(after.business_id, ctx, now)
    tx.save("user", after, condition=_versioned(ScimUserItem, before))
    _write_keys(tx, after.business_id, after.user_id, before_keys, after_keys)
    tx.audit(draft)
    tx.commit()


def delete_user(before: ScimUserItem, keys: Keys, memberships: list[BundleMemberItem], draft: AuditDraft,
                ctx: Context, now: datetime) -> None:
    tx = Tx(before.business_id, ctx, now)
    tx.delete("user", before, condition=ScimUserItem.version == before.version)
    _write_keys(tx, before.business_id, before.user_id, keys, None)
    for m in memberships:
        tx.delete("membership", BundleMemberItem(pk=biz_pk(before.business_id), sk=by_group_sk(m.group_id, m.user_id)))
        tx.delete("membership", BundleMemberItem(pk=biz_pk(before.business_id), sk=by_user_sk(m.user_id, m.group_id)))
    tx.audit(draft)
    tx.commit()


def link_member(user: ScimUserItem, member_id: str) -> None:
    """Remember which member the workflows created for this user (not a change of the user)."""
    if user.member_id != member_id:
        user.update(actions=[ScimUserItem.member_id.set(member_id)])
        user.member_id = member_id


# --- groups (access bundles) --------------------------------------------------------------------


def get_group(business_id: str, group_id: str) -> BundleItem | None:
    item: BundleItem | None = _get(BundleItem, business_id, group_sk(group_id))
    return item


def group_by_name(business_id: str, display_name: str) -> BundleItem | None:
    group_id = _lookup(business_id, group_name_sk(display_name))
    return get_group(business_id, group_id) if group_id else None


def group_by_external_id(business_id: str, external_id: str) -> BundleItem | None:
    group_id = _lookup(business_id, group_ext_sk(external_id))
    return get_group(business_id, group_id) if group_id else None


def groups_page(business_id: str, limit: int) -> list[BundleItem]:
    if limit <= 0:
        return []
    return list(BundleItem.query(biz_pk(business_id), BundleItem.sk.startswith("BUNDLE#"), limit=limit,
                                 consistent_read=True))


def count_groups(business_id: str) -> int:
    return int(BundleItem.count(biz_pk(business_id), BundleItem.sk.startswith("BUNDLE#"), consistent_read=True))


def group_keys(display_name: str, external_id: str | None) -> Keys:
    keys = Keys(unique={"displayName": group_name_sk(display_name)})
    if external_id:
        keys.unique["externalId"] = group_ext_sk(external_id)
    return keys


def members_of_group(business_id: str, group_id: str) -> list[BundleMemberItem]:
    return list(BundleMemberItem.query(biz_pk(business_id), BundleMemberItem.sk.startswith(f"BMEMBER#{group_id}#"),
                                       consistent_read=True))


def groups_of_user(business_id: str, user_id: str) -> list[BundleMemberItem]:
    return list(BundleMemberItem.query(biz_pk(business_id), BundleMemberItem.sk.startswith(f"UBUNDLE#{user_id}#"),
                                       consistent_read=True))


def write_group(before: BundleItem | None, before_keys: Keys | None, after: BundleItem, after_keys: Keys, *,
                add: Iterable[tuple[str, str | None]] = (), remove: Iterable[str] = (),
                draft: AuditDraft, ctx: Context, now: datetime, extra_audit: Iterable[AuditDraft] = ()) -> None:
    """Create or change a group, its keys and its memberships (``add``: (user_id, display),
    ``remove``: user ids), with the audit entries, in one transaction. Each added user must exist."""
    from accessflow.store.repository import ConditionFailed

    b = after.business_id
    tx = Tx(b, ctx, now)
    tx.save("group", after, condition=_versioned(BundleItem, before))
    _write_keys(tx, b, after.group_id, before_keys, after_keys)
    for user_id, display in add:
        tx.check(f"user:{user_id}", ScimUserItem, biz_pk(b), user_sk(user_id), ScimUserItem.pk.exists())
        for sk in (by_group_sk(after.group_id, user_id), by_user_sk(user_id, after.group_id)):
            tx.save("membership", BundleMemberItem(pk=biz_pk(b), sk=sk, group_id=after.group_id, user_id=user_id,
                                                   display=display, added_at=now))
    for user_id in remove:
        for sk in (by_group_sk(after.group_id, user_id), by_user_sk(user_id, after.group_id)):
            tx.delete("membership", BundleMemberItem(pk=biz_pk(b), sk=sk))
    tx.audit(draft)
    for extra in extra_audit:
        tx.audit(extra)
    if len(tx.ops) > 100:
        raise ConditionFailed(["tooMany"])
    tx.commit()


def delete_group(before: BundleItem, keys: Keys, members: list[BundleMemberItem], draft: AuditDraft,
                 ctx: Context, now: datetime) -> None:
    from accessflow.store.repository import ConditionFailed

    b = before.business_id
    tx = Tx(b, ctx, now)
    tx.delete("group", before, condition=BundleItem.version == before.version)
    _write_keys(tx, b, before.group_id, keys, None)
    for m in members:
        tx.delete("membership", BundleMemberItem(pk=biz_pk(b), sk=by_group_sk(before.group_id, m.user_id)))
        tx.delete("membership", BundleMemberItem(pk=biz_pk(b), sk=by_user_sk(m.user_id, before.group_id)))
    tx.audit(draft)
    if len(tx.ops) > 100:
        raise ConditionFailed(["tooMany"])
    tx.commit()
