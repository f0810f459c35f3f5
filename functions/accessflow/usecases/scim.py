"""SCIM provisioning on the same workflows: what each SCIM write does to members and grants.

The SCIM resources (users as the IdP sees them, groups = access bundles, memberships) are written
first, each change in one transaction with its audit entry (actor ``scim:<token name>``, the
request id). Then the *effects* are derived from the stored state, never from the request, so an
IdP's retry of a request that already took effect does nothing twice:

- an active user whose groups give grants they neither hold nor have a pending invitation for gets
  an invitation through the onboarding workflow (deterministic id; the execution is named after it);
- an inactive (or deleted) user who is a member is offboarded (reason ``scim``), once per membership;
- a user leaving a group loses the grants that group gave them through SCIM and no other group of
  theirs still gives; a grant an Admin set directly stays.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models import (
    ConflictException,
    GroupMember,
    InvalidValueException,
    Meta,
    MutabilityException,
    NotFoundException,
    UniquenessException,
)

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.workflow import Workflow
from accessflow.domain import rules
from accessflow.domain import scim as scim_rules
from accessflow.domain.errors import DomainError, InvalidInput, NotFound, UnknownAccount
from accessflow.domain.model import Grant, MemberStatus, validate_grants
from accessflow.domain.roles import Role
from accessflow.domain.tokens import normalise_email
from accessflow.scim_models import ENTERPRISE_SCHEMA, EnterpriseUser, ScimGroup, ScimUser
from accessflow.store import members as grants_store
from accessflow.store import offboarding as off_store
from accessflow.store import repository as store
from accessflow.store import scim as scim_store
from accessflow.store.models import BundleItem, BundleMemberItem, MemberItem, ScimUserItem
from accessflow.usecases import invitations, offboarding, onboarding
from accessflow.usecases.leaver_guard import Guard

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: Membership changes per transaction: an addition is three items (the user's existence check and the
#: membership written both ways), plus the group, its name key and the audit entry: at most 100 items.
MEMBERS_PER_TX = 30


@dataclass(frozen=True)
class Effects:
    """What the effects need: the workflow adapter and the two state machines."""

    workflow: Workflow
    onboarding_arn: str
    offboarding_arn: str
    #: issue 11: where the leaver guard announces a burst; SCIM deactivations are guarded leavers
    events: EventPublisher | None = None


@dataclass(frozen=True)
class Call:
    """One SCIM request: the business, who (``scim:<token name>``, request id), when, and the base
    URL its resources are located under."""

    business_id: str
    ctx: store.Context
    now: datetime
    base_url: str
    effects: Effects


# --- users: views -----------------------------------------------------------------------------------


def _location(call: Call, kind: str, resource_id: str) -> str:
    return f"{call.base_url}/{kind}/{resource_id}"


def user_resource(call: Call, item: ScimUserItem) -> Any:
    """The stored user as a SCIM resource, with its groups (read-only) and meta."""
    from scim2_models import GroupMembership

    res = ScimUser.model_validate(dict(item.attributes))
    res.id = item.user_id
    groups = []
    for m in scim_store.groups_of_user(call.business_id, item.user_id):
        group = scim_store.get_group(call.business_id, m.group_id)
        if group is not None:
            groups.append(GroupMembership(value=group.group_id, ref=_location(call, "Groups", group.group_id),  # type: ignore[arg-type]
                                          display=group.display_name, type="direct"))
    res.groups = groups or None
    res.meta = Meta(resource_type="User", created=item.created_at, last_modified=item.updated_at,
                    location=_location(call, "Users", item.user_id))
    return res


def _stored_attributes(res: Any, active: bool | None) -> dict[str, Any]:
    """The representation to keep; ``active`` None leaves it unassigned (a PATCH removed it)."""
    from scim2_models import Context

    attrs: dict[str, Any] = res.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for key in ("id", "meta", "groups", "active"):
        attrs.pop(key, None)
    if active is not None:
        attrs["active"] = active
    if not attrs.get(ENTERPRISE_SCHEMA):
        attrs.pop(ENTERPRISE_SCHEMA, None)
        attrs["schemas"] = [s for s in attrs.get("schemas", []) if s != ENTERPRISE_SCHEMA]
    return attrs


def _email(user_name: str | None) -> str:
    if not user_name:
        raise InvalidValueException(detail="userName is required: it is the person's e-mail address.")
    email = normalise_email(user_name)
    if not _EMAIL.fullmatch(email):
        raise InvalidValueException(detail="userName must be the person's e-mail address (the invitation goes "
                                           "there, and they sign in with it).")
    return email


def _emails(res: Any) -> list[str]:
    return sorted({normalise_email(str(e.value)) for e in res.emails or [] if e.value})


def _employee(res: Any) -> str | None:
    try:
        ext = res[EnterpriseUser]
    except (KeyError, TypeError, AttributeError):
        return None
    value = ext.employee_number if ext is not None else None
    return str(value) if value else None


def _keys(item: ScimUserItem) -> scim_store.Keys:
    res = ScimUser.model_validate(dict(item.attributes))
    return scim_store.user_keys(item.user_id, item.user_name, item.external_id, _emails(res))


def _audit_view(attrs: dict[str, Any]) -> dict[str, Any]:
    keep = ("userName", "externalId", "displayName", "active", "name", "emails", ENTERPRISE_SCHEMA)
    return {k: attrs[k] for k in keep if k in attrs}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    b, a = _audit_view(before), _audit_view(after)
    keys = sorted(set(b) | set(a))
    return ({k: b.get(k) for k in keys if b.get(k) != a.get(k)}, {k: a.get(k) for k in keys if b.get(k) != a.get(k)})


def _future_member_id(business_id: str, email: str) -> str:
    """The id the onboarding gives the member it creates for this e-mail (``store.create_invitation``),
    so a SCIM user's audit entries are on its member's trail from the start."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"accessflow:{business_id}:{email}").hex


def _member_key(item: ScimUserItem) -> str:
    return item.member_id or _future_member_id(item.business_id, item.user_name)


def _user(call: Call, user_id: str) -> ScimUserItem:
    item = scim_store.get_user(call.business_id, user_id)
    if item is None:
        raise NotFoundException(detail=f"User {user_id} not found.")
    return item


def get_user(call: Call, user_id: str) -> Any:
    return user_resource(call, _user(call, user_id))


# --- users: writes ----------------------------------------------------------------------------------


def _uniqueness(exc: store.ConditionFailed) -> Exception:
    for label in ("userName", "externalId", "displayName"):
        if label in exc.labels:
            return UniquenessException(detail=f"Another resource already has this {label}.")
    if any(label.startswith("user:") for label in exc.labels):
        missing = [label.split(":", 1)[1] for label in exc.labels if label.startswith("user:")]
        return InvalidValueException(detail=f"No such user: {', '.join(missing)}.")
    return ConflictException(detail="The resource changed while this request was applied; send it again.")


def create_user(call: Call, res: Any) -> Any:
    b = call.business_id
    email = _email(res.user_name)
    if scim_store.user_by_name(b, email) is not None:
        raise UniquenessException(detail=f"A user with userName {email} already exists.")
    if res.external_id and scim_store.user_by_external_id(b, res.external_id) is not None:
        raise UniquenessException(detail=f"A user with externalId {res.external_id} already exists.")
    member = store.member_by_email(b, email)
    user_id = member.member_id if member else _future_member_id(b, email)
    if scim_store.get_user(b, user_id) is not None:  # that id went to a user who was renamed since
        user_id = uuid.uuid4().hex
    active = True if res.active is None else bool(res.active)
    attrs = _stored_attributes(res, active)
    item = ScimUserItem(pk=store.biz_pk(b), sk=scim_store.user_sk(user_id), business_id=b, user_id=user_id,
                        user_name=email, external_id=res.external_id, active=active, attributes=attrs,
                        member_id=member.member_id if member else None, version=1, created_at=call.now,
                        updated_at=call.now)
    draft = store.AuditDraft("scim.user.created", member_id=_member_key(item), subject=user_id,
                             after=_audit_view(attrs))
    try:
        scim_store.write_user(None, None, item, _keys(item), draft, call.ctx, call.now)
    except store.ConditionFailed as exc:
        raise _uniqueness(exc) from exc
    apply_user_effects(call, item)
    return user_resource(call, item)


def replace_user(call: Call, user_id: str, res: Any) -> Any:
    """PUT: the resource as sent replaces the stored one. An omitted ``active`` keeps its value: an
    offboarding is never the side effect of a missing attribute."""
    return _change_user(call, _user(call, user_id), res)


def patch_user(call: Call, user_id: str, patch: Any) -> Any:
    item = _user(call, user_id)
    res = ScimUser.model_validate(dict(item.attributes))
    res.id = item.user_id
    patch.patch(res)
    return _change_user(call, item, res, patched=True)


def _change_user(call: Call, item: ScimUserItem, res: Any, *, patched: bool = False) -> Any:
    """An absent ``active`` never changes whether the user is active: a PUT without it keeps the
    value; a PATCH removing it leaves it unassigned (and the user as they were)."""
    b = call.business_id
    email = _email(res.user_name)
    active = bool(item.active) if res.active is None else bool(res.active)
    attrs = _stored_attributes(res, None if (patched and res.active is None) else active)
    if attrs == dict(item.attributes) and active == bool(item.active):
        apply_user_effects(call, item)  # a retry of a change already made: only finish its effects
        return user_resource(call, item)
    member = _member(item)
    member_id: str | None = item.member_id
    if email != item.user_name:
        if member is not None and member.status not in (MemberStatus.REMOVED.value, MemberStatus.NEVER_JOINED.value):
            raise MutabilityException(detail="userName is the member's e-mail; it cannot change while they are a "
                                             "member of the business (deactivate them first).")
        other = store.member_by_email(b, email)
        member_id = other.member_id if other else None
    after = ScimUserItem(pk=item.pk, sk=item.sk, business_id=b, user_id=item.user_id, user_name=email,
                         external_id=res.external_id, active=active, attributes=attrs, member_id=member_id,
                         version=int(item.version) + 1, created_at=item.created_at, updated_at=call.now)
    before_view, after_view = _diff(dict(item.attributes), attrs)
    draft = store.AuditDraft("scim.user.updated", member_id=member_id or _member_key(item), subject=item.user_id,
                             before=before_view, after=after_view)
    try:
        scim_store.write_user(item, _keys(item), after, _keys(after), draft, call.ctx, call.now)
    except store.ConditionFailed as exc:
        raise _uniqueness(exc) from exc
    apply_user_effects(call, after)
    return user_resource(call, after)


def delete_user(call: Call, user_id: str) -> None:
    """DELETE: the member is offboarded (reason ``scim``) first; then the SCIM user, its keys and its
    memberships are gone (the member keeps its REMOVED record and the offboarding receipt)."""
    item = _user(call, user_id)
    member = _member(item)
    if member is not None and member.status in (MemberStatus.ACTIVE.value, MemberStatus.INVITED.value):
        _offboard(call, member)
    memberships = scim_store.groups_of_user(call.business_id, user_id)
    draft = store.AuditDraft("scim.user.deleted", member_id=_member_key(item), subject=user_id,
                             before=_audit_view(dict(item.attributes)))
    try:
        scim_store.delete_user(item, _keys(item), memberships, draft, call.ctx, call.now)
    except store.ConditionFailed as exc:
        raise _uniqueness(exc) from exc


# --- effects --------------------------------------------------------------------------------------


def _member(item: ScimUserItem) -> MemberItem | None:
    member = store.get_member(item.business_id, item.member_id) if item.member_id else None
    if member is None or member.email != item.user_name:
        member = store.member_by_email(item.business_id, item.user_name)
    return member


def _offboard(call: Call, member: MemberItem) -> None:
    requester = offboarding.Requester("scim", call.ctx.actor.removeprefix("scim:"), "scim")
    guard = Guard(call.effects.events) if call.effects.events is not None else None
    offboarding.start(member, requester, workflow=call.effects.workflow, state_machine_arn=call.effects.offboarding_arn,
                      now=call.now, request_id=call.ctx.request_id, guard=guard)


def _bundle_grants(bundles: Iterable[BundleItem | None]) -> list[list[Grant]]:
    return [store.grants_from_json(g.grants) for g in bundles if g is not None]


def _desired(call: Call, user_id: str) -> list[Grant]:
    groups = [scim_store.get_group(call.business_id, m.group_id)
              for m in scim_store.groups_of_user(call.business_id, user_id)]
    return scim_rules.desired_grants(_bundle_grants(groups))


def apply_user_effects(call: Call, item: ScimUserItem) -> None:
    """Bring the member in line with the stored user: offboard an inactive one, propose the grants
    an active one's groups give and they lack. Safe to run any number of times."""
    member = _member(item)
    if not item.active:
        if member is not None and member.status in (MemberStatus.ACTIVE.value, MemberStatus.INVITED.value):
            _offboard(call, member)
        return
    _propose(call, item, member)


def _start(call: Call, inv: Any) -> str:
    return call.effects.workflow.start(call.effects.onboarding_arn, onboarding.execution_name(inv.invitation_id), {
        "business_id": inv.business_id, "invitation_id": inv.invitation_id, "source": "scim",
        "request": {"email": inv.email, "display_name": inv.display_name, "grants": inv.grants,
                    "requested_by": inv.requested_by},
    })


def _display_name(item: ScimUserItem) -> str:
    attrs = dict(item.attributes)
    name = attrs.get("name") or {}
    return str(attrs.get("displayName") or name.get("formatted")
               or " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p) or item.user_name)


def _propose(call: Call, item: ScimUserItem, member: MemberItem | None) -> None:
    b = call.business_id
    desired = _desired(call, item.user_id)
    if not desired:
        return
    held: dict[str, Role] = {}
    if member is not None:
        if member.status == MemberStatus.OFFBOARDING.value:
            return  # the IdP's next change (or sync) proposes again once the offboarding is done
        pending = store.pending_invitations_for_email(b, member.email)
        for inv in pending:
            if inv.source == "scim" and not inv.execution_arn:
                _start(call, inv)  # recorded, but the start was lost (a crash): finish it
        if member.status == MemberStatus.INVITED.value or pending:
            return  # one invitation at a time; what is still missing is proposed at the next change
        if member.status == MemberStatus.ACTIVE.value:
            held = store.roles_of(b, member.member_id)
    propose = scim_rules.to_propose(desired, held, [])
    if not propose:
        return
    # deterministic for a retry, new once an earlier invitation of theirs has ended (expired, revoked):
    # the number of invitations this e-mail has had is part of the id
    generation = len(off_store.invitations_for_email(b, item.user_name))
    fingerprint = ",".join(f"{g.account_id}={g.role.value}" for g in propose)
    invitation_id = onboarding.invitation_id_for(b, f"scim:{item.user_id}:{generation}:{fingerprint}")
    res = ScimUser.model_validate(dict(item.attributes))
    req = onboarding.OnboardingRequest(
        business_id=b, email=item.user_name, display_name=_display_name(item), grants=propose,
        requested_by=call.ctx.actor, source="scim", employee_id=_employee(res) if member is None else None,
        invitation_id=invitation_id,
    )
    inv = onboarding.record(req, call.ctx, call.now)
    _start(call, inv)
    scim_store.link_member(item, inv.member_id)


def _from_scim(grant: Any) -> bool:
    """Whether a grant came from a group: proposed through SCIM and never changed by an Admin."""
    return str(grant.invited_by or "").startswith("scim:") and (
        grant.updated_by is None or str(grant.updated_by).startswith("scim:"))


def _revoke_removed(call: Call, user_id: str, removed: list[Grant]) -> None:
    """The user left a group (or the group lost grants): revoke what it gave that nothing else
    still gives. The last Admin of an account is kept (and the refusal audited): a group change is
    not a termination."""
    b = call.business_id
    item = scim_store.get_user(b, user_id)
    if item is None or not item.active or not removed:
        return
    member = _member(item)
    if member is None:
        return
    withdrawn = _withdraw_stale_invitations(call, item)
    if member.status == MemberStatus.ACTIVE.value:
        _revoke_grants(call, user_id, member, removed)
    if withdrawn:
        _propose(call, item, _member(item))  # what their groups still give, in a new invitation


def _withdraw_stale_invitations(call: Call, item: ScimUserItem) -> bool:
    """A pending SCIM invitation proposing a grant the user's groups no longer give is revoked (its
    link dies and its execution ends), so accepting it later cannot grant what the IdP took away."""
    wanted = {(g.account_id, g.role.value) for g in _desired(call, item.user_id)}
    withdrawn = False
    for inv in store.pending_invitations_for_email(call.business_id, item.user_name):
        if inv.source != "scim" or all((g["account_id"], g["role"]) in wanted for g in inv.grants):
            continue
        try:
            invitations.revoke(call.business_id, inv.invitation_id, workflow=call.effects.workflow, ctx=call.ctx,
                               now=call.now)
        except DomainError:
            continue  # accepted or expired meanwhile: it is no longer pending
        withdrawn = True
    return withdrawn


def _revoke_grants(call: Call, user_id: str, member: MemberItem, removed: list[Grant]) -> None:
    b = call.business_id
    grants = store.grants_of(b, member.member_id)
    held = {g.account_id: (Role(g.role), _from_scim(g)) for g in grants}
    business = store.get_business(b)
    policy = store.policy_of(business) if business else None
    for account_id in scim_rules.to_revoke(removed, _desired(call, user_id), held):
        current = grants_store.get_grant(b, member.member_id, account_id)
        if current is None or policy is None:
            continue
        delta = rules.admin_delta(Role(current.role), None)
        try:
            grants_store.change_grant(b, member.member_id, account_id, current=current, role=None, admin_delta=delta,
                                      max_admins=policy.max_admins_per_account, ctx=call.ctx, now=call.now)
        except store.ConditionFailed as exc:
            if grants_store.ADMINS_LABEL in exc.labels:
                store.record_audit(b, store.AuditDraft(
                    "scim.revocation_refused", member_id=member.member_id, subject=account_id,
                    reason=f"the last Admin of account {account_id} is kept; promote someone else first"),
                    call.ctx, call.now)


# --- groups -------------------------------------------------------------------------------------------


def _group(call: Call, group_id: str) -> BundleItem:
    item = scim_store.get_group(call.business_id, group_id)
    if item is None:
        raise NotFoundException(detail=f"Group {group_id} not found.")
    return item


def group_resource(call: Call, item: BundleItem, members: list[BundleMemberItem] | None = None) -> Any:
    if members is None:
        members = scim_store.members_of_group(call.business_id, item.group_id)
    return ScimGroup(
        id=item.group_id, display_name=item.display_name, external_id=item.external_id,
        members=[GroupMember(value=m.user_id, ref=_location(call, "Users", m.user_id), type="User",  # type: ignore[arg-type]
                             display=m.display) for m in members] or None,
        meta=Meta(resource_type="Group", created=item.created_at, last_modified=item.updated_at,
                  location=_location(call, "Groups", item.group_id)),
    )


def get_group(call: Call, group_id: str) -> Any:
    return group_resource(call, _group(call, group_id))


def _group_name(name: str | None) -> str:
    if not name or not name.strip():
        raise InvalidValueException(detail="displayName is required.")
    return name.strip()


def _group_key(name: str) -> str:
    return name.casefold()


def _wanted_members(res: Any) -> dict[str, str | None]:
    wanted: dict[str, str | None] = {}
    for m in res.members or []:
        if not m.value:
            raise InvalidValueException(detail="Each member needs the value (the user's id).")
        if m.type not in (None, "User"):
            raise InvalidValueException(detail="Only users can be members of an access bundle.")
        wanted[str(m.value)] = m.display
    return wanted


def create_group(call: Call, res: Any) -> Any:
    b = call.business_id
    name = _group_name(res.display_name)
    if scim_store.group_by_name(b, _group_key(name)) is not None:
        raise UniquenessException(detail=f"A group named {name!r} already exists.")
    wanted = _wanted_members(res)
    _require_users(call, wanted)
    group_id = uuid.uuid4().hex
    item = BundleItem(pk=store.biz_pk(b), sk=scim_store.group_sk(group_id), business_id=b, group_id=group_id,
                      display_name=name, external_id=res.external_id, grants=[], created_at=call.now,
                      updated_at=call.now, created_by=call.ctx.actor, version=1)
    _write_group(call, None, item, add=wanted, remove=[], action="scim.group.created")
    for user_id in wanted:
        _after_join(call, user_id)
    return group_resource(call, item)


def _require_users(call: Call, user_ids: Iterable[str]) -> None:
    missing = [u for u in user_ids if scim_store.get_user(call.business_id, u) is None]
    if missing:
        raise InvalidValueException(detail=f"No such user: {', '.join(sorted(missing))}.")


def _write_group(call: Call, before: BundleItem | None, after: BundleItem, *, add: dict[str, str | None],
                 remove: list[str], action: str) -> None:
    """The group and its membership changes, in transactions of at most MEMBERS_PER_TX changes
    (each with its audit entry; the first carries the group's own change)."""
    changes: list[tuple[str, str | None] | str] = [*add.items(), *remove]
    chunks = [changes[i:i + MEMBERS_PER_TX] for i in range(0, len(changes), MEMBERS_PER_TX)] or [[]]
    prev = before
    for n, chunk in enumerate(chunks):
        adds = [c for c in chunk if isinstance(c, tuple)]
        removes = [c for c in chunk if isinstance(c, str)]
        item = after if n == 0 else BundleItem(**{**_fields(after), "version": int(prev.version) + 1})  # type: ignore[union-attr]
        before_view = {"displayName": prev.display_name, "externalId": prev.external_id} if prev else None
        draft = store.AuditDraft(action if n == 0 else "scim.group.updated", subject=after.group_id,
                                 before=before_view, after={
                                     "displayName": after.display_name, "externalId": after.external_id,
                                     "members_added": sorted(u for u, _ in adds), "members_removed": sorted(removes)})
        try:
            scim_store.write_group(prev, scim_store.group_keys(_group_key(prev.display_name), prev.external_id)
                                   if prev else None, item,
                                   scim_store.group_keys(_group_key(item.display_name), item.external_id),
                                   add=adds, remove=removes, draft=draft, ctx=call.ctx, now=call.now)
        except store.ConditionFailed as exc:
            raise _uniqueness(exc) from exc
        prev = item


def _fields(item: BundleItem) -> dict[str, Any]:
    return {"pk": item.pk, "sk": item.sk, "business_id": item.business_id, "group_id": item.group_id,
            "display_name": item.display_name, "external_id": item.external_id, "grants": list(item.grants or []),
            "created_at": item.created_at, "updated_at": item.updated_at, "created_by": item.created_by,
            "version": int(item.version)}


def replace_group(call: Call, group_id: str, res: Any) -> Any:
    return _change_group(call, _group(call, group_id), res)


def patch_group(call: Call, group_id: str, patch: Any) -> Any:
    item = _group(call, group_id)
    res = group_resource(call, item)
    patch.patch(res)
    return _change_group(call, item, res)


def _change_group(call: Call, item: BundleItem, res: Any) -> Any:
    name = _group_name(res.display_name)
    wanted = _wanted_members(res)
    current = {m.user_id: m for m in scim_store.members_of_group(call.business_id, item.group_id)}
    add = {u: d for u, d in wanted.items() if u not in current}
    remove = sorted(u for u in current if u not in wanted)
    if name == item.display_name and res.external_id == item.external_id and not add and not remove:
        return group_resource(call, item, list(current.values()))
    _require_users(call, add)
    after = BundleItem(**{**_fields(item), "display_name": name, "external_id": res.external_id,
                          "updated_at": call.now, "version": int(item.version) + 1})
    _write_group(call, item, after, add=add, remove=remove, action="scim.group.updated")
    grants = store.grants_from_json(item.grants)
    for user_id in add:
        _after_join(call, user_id)
    for user_id in remove:
        _revoke_removed(call, user_id, grants)
    return group_resource(call, after)


def _after_join(call: Call, user_id: str) -> None:
    item = scim_store.get_user(call.business_id, user_id)
    if item is not None:
        apply_user_effects(call, item)


def delete_group(call: Call, group_id: str) -> None:
    """DELETE: every member leaves (losing what only this group gave), then the group is gone."""
    item = _group(call, group_id)
    members = scim_store.members_of_group(call.business_id, group_id)
    if members:
        empty = ScimGroup(display_name=item.display_name, external_id=item.external_id)
        _change_group(call, item, empty)
        item = _group(call, group_id)
    draft = store.AuditDraft("scim.group.deleted", subject=group_id,
                             before={"displayName": item.display_name, "grants": item.grants})
    try:
        scim_store.delete_group(item, scim_store.group_keys(_group_key(item.display_name), item.external_id), [],
                                draft, call.ctx, call.now)
    except store.ConditionFailed as exc:
        raise _uniqueness(exc) from exc


# --- bundles as Admins define them (admin API) ---------------------------------------------------------


def bundle_view(item: BundleItem, members: int | None = None) -> dict[str, Any]:
    return {"group_id": item.group_id, "display_name": item.display_name, "external_id": item.external_id,
            "grants": list(item.grants or []), "created_by": item.created_by,
            "created_at": store._iso(item.created_at), "updated_at": store._iso(item.updated_at),
            "members": members}


def list_bundles(business_id: str) -> list[dict[str, Any]]:
    items = scim_store.groups_page(business_id, 10_000)
    return [bundle_view(i, len(scim_store.members_of_group(business_id, i.group_id)))
            for i in sorted(items, key=lambda i: i.display_name.casefold())]


def _check_grants(business_id: str, grants: list[Grant]) -> list[Grant]:
    if not grants:
        return []
    grants = validate_grants(grants)
    missing = [g.account_id for g in grants if store.get_account(business_id, g.account_id) is None]
    if missing:
        raise UnknownAccount(f"Unknown account(s): {', '.join(missing)}.", accounts=missing)
    return grants


def create_bundle(business_id: str, me: MemberItem, display_name: str, grants: list[Grant], *,
                  ctx: store.Context, now: datetime) -> dict[str, Any]:
    """An Admin defines a bundle: Admin of every account it grants on (no escalation through a group)."""
    roles = store.roles_of(business_id, me.member_id)
    rules.require_admin_of_any(roles)
    grants = _check_grants(business_id, grants)
    rules.require_admin_of(roles, [g.account_id for g in grants])
    name = display_name.strip()
    if not name:
        raise InvalidInput("A bundle needs a display name (the group name the IdP shows).")
    if scim_store.group_by_name(business_id, _group_key(name)) is not None:
        from accessflow.domain.errors import Conflict

        raise Conflict(f"A bundle named {name!r} already exists.")
    group_id = uuid.uuid4().hex
    item = BundleItem(pk=store.biz_pk(business_id), sk=scim_store.group_sk(group_id), business_id=business_id,
                      group_id=group_id, display_name=name, grants=store.grants_json(grants), created_at=now,
                      updated_at=now, created_by=ctx.actor, version=1)
    draft = store.AuditDraft("bundle.created", subject=group_id,
                             after={"displayName": name, "grants": store.grants_json(grants)})
    try:
        scim_store.write_group(None, None, item, scim_store.group_keys(_group_key(name), None), draft=draft, ctx=ctx,
                               now=now)
    except store.ConditionFailed as exc:
        from accessflow.domain.errors import Conflict

        raise Conflict(f"A bundle named {name!r} already exists.") from exc
    return bundle_view(item, 0)


def set_bundle_grants(business_id: str, me: MemberItem, group_id: str, grants: list[Grant], *, effects: Effects,
                      ctx: store.Context, now: datetime, base_url: str) -> dict[str, Any]:
    """An Admin (of every account the bundle grants on, before and after) sets its grants; the
    bundle's members get the new grants proposed and lose the ones it no longer gives."""
    item = scim_store.get_group(business_id, group_id)
    if item is None:
        raise NotFound(f"Bundle {group_id} not found.")
    roles = store.roles_of(business_id, me.member_id)
    rules.require_admin_of_any(roles)
    grants = _check_grants(business_id, grants)
    old = store.grants_from_json(item.grants)
    rules.require_admin_of(roles, {g.account_id for g in old} | {g.account_id for g in grants})
    if store.grants_json(grants) == store.grants_json(sorted(old, key=lambda g: g.account_id)):
        return bundle_view(item)
    after = BundleItem(**{**_fields(item), "grants": store.grants_json(grants), "updated_at": now,
                          "version": int(item.version) + 1})
    draft = store.AuditDraft("bundle.grants_changed", subject=group_id, before={"grants": item.grants},
                             after={"grants": after.grants})
    keys = scim_store.group_keys(_group_key(item.display_name), item.external_id)
    try:
        scim_store.write_group(item, keys, after, keys, draft=draft, ctx=ctx, now=now)
    except store.ConditionFailed as exc:
        from accessflow.domain.errors import Conflict

        raise Conflict("The bundle changed concurrently; read it again.") from exc
    call = Call(business_id, ctx, now, base_url, effects)
    now_given = {(g.account_id, g.role) for g in grants}
    lost = [g for g in old if (g.account_id, g.role) not in now_given]
    for m in scim_store.members_of_group(business_id, group_id):
        _after_join(call, m.user_id)
        _revoke_removed(call, m.user_id, lost)
    return bundle_view(after)

