"""The store: every DynamoDB read and write of AccessFlow, and nothing else.

Each state change is one ``TransactWriteItems`` holding the change, its conditions and its audit
entry, so there is never a change without its audit record, and two racing transitions leave
exactly one winner (the loser's transaction is cancelled and mapped to a domain error).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from accessflow.domain.errors import Conflict, DomainError, NotFound, TransactionConflict
from accessflow.domain.model import Grant, GrantStatus, InvitationStatus, MemberStatus, check_invitation_move
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role
from accessflow.observability import logger
from accessflow.store.models import (
    AccountItem,
    AuditItem,
    BusinessItem,
    DirectoryItem,
    GrantItem,
    InvitationItem,
    LookupItem,
    MemberItem,
    OffboardingItem,
)

DUE_SHARD = "PENDING"
REMIND_SHARD = "REMIND"
_seq = itertools.count()


# --- keys ----------------------------------------------------------------------------------------


def biz_pk(business_id: str) -> str:
    return f"BIZ#{business_id}"


def audit_pk(business_id: str) -> str:
    return f"AUDIT#{business_id}"


def email_sk(email: str) -> str:
    return f"EMAIL#{email}"


def login_sk(sub: str) -> str:
    return f"LOGIN#{sub}"


def employee_sk(employee_id: str) -> str:
    return f"EMPLOYEE#{employee_id}"


def account_gsi(business_id: str, account_id: str) -> str:
    return f"BIZ#{business_id}#ACCOUNT#{account_id}"


def who_email_pk(email: str) -> str:
    return f"WHO#EMAIL#{email}"


def who_login_pk(sub: str) -> str:
    return f"WHO#LOGIN#{sub}"


def directory_item(pk: str, business_id: str, member_id: str) -> DirectoryItem:
    """A membership filed under a person's e-mail or login (``GET /me``): saved unconditionally in the
    transaction that creates the member or links the login (the same item again is a no-op)."""
    return DirectoryItem(pk=pk, sk=biz_pk(business_id), business_id=business_id, member_id=member_id)


ACCOUNT_ACTIVE = "ACTIVE"
ACCOUNT_RETIRED = "RETIRED"


def account_open() -> Condition:
    """The account exists and is not retired (old items without a status are active)."""
    return AccountItem.pk.exists() & (AccountItem.status.does_not_exist() | (AccountItem.status == ACCOUNT_ACTIVE))


def account_key(business_id: str, account_id: str) -> AccountItem:
    return AccountItem(pk=biz_pk(business_id), sk=f"ACCOUNT#{account_id}")


# --- audit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Who acts and under which request or execution; stamped on every audit entry.

    ``actor`` is the stable id (``member:{id}``, ``login:{sub}``, ``system:sweep``, ``hr:workday``);
    ``actor_email`` and ``actor_name`` are what an auditor reads, as they were at the time. A member
    actor built without them is resolved from the member item when the entry is written; any other
    actor without a name is named by its id (``system:sweep``, ``hr:workday``)."""

    actor: str
    request_id: str | None = None
    execution_arn: str | None = None
    reason: str | None = None
    actor_email: str | None = None
    actor_name: str | None = None

    @classmethod
    def of_member(cls, member: MemberItem, *, request_id: str | None = None,
                  execution_arn: str | None = None, reason: str | None = None) -> Context:
        return cls(actor=f"member:{member.member_id}", request_id=request_id, execution_arn=execution_arn,
                   reason=reason, actor_email=member.email, actor_name=member.display_name)


def actor_member_id(actor: str | None) -> str | None:
    """The member id inside an actor string (``member:{id}``, ``api:member:{id}``), or None."""
    if not actor or "member:" not in actor:
        return None
    return actor.rsplit("member:", 1)[1] or None


def _actor_identity(business_id: str, ctx: Context) -> tuple[str | None, str | None]:
    if ctx.actor_name or ctx.actor_email:
        return ctx.actor_email, ctx.actor_name
    member_id = actor_member_id(ctx.actor)
    if member_id:
        member = get_member(business_id, member_id)
        if member is not None:
            return member.email, member.display_name
        return None, None
    if ctx.actor.startswith("login:"):
        return None, None
    return None, ctx.actor


@dataclass
class AuditDraft:
    action: str
    member_id: str | None = None
    subject: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


def audit_item(business_id: str, draft: AuditDraft, ctx: Context, at: datetime) -> AuditItem:
    entry_id = f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{next(_seq):08d}{uuid.uuid4().hex[:8]}"
    actor_email, actor_name = _actor_identity(business_id, ctx)
    item = AuditItem(
        pk=audit_pk(business_id),
        sk=entry_id,
        business_id=business_id,
        entry_id=entry_id,
        at=at,
        action=draft.action,
        actor=ctx.actor,
        actor_email=actor_email,
        actor_name=actor_name,
        member_id=draft.member_id,
        subject=draft.subject,
        before=draft.before,
        after=draft.after,
        reason=draft.reason or ctx.reason,
        request_id=ctx.request_id,
        execution_arn=ctx.execution_arn,
    )
    if draft.member_id:
        item.gsi1pk = f"AUDIT#{business_id}#MEMBER#{draft.member_id}"
        item.gsi1sk = entry_id
    return item


# --- transactions --------------------------------------------------------------------------------


def _connection() -> Connection:
    return _connection_for(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


@functools.cache
def _connection_for(region: str | None) -> Connection:
    """One connection per region for the process (a Lambda instance keeps it across invocations): a new
    one creates a botocore session and client, which parses botocore's endpoint and service models, tens
    of milliseconds of CPU that every transaction used to pay."""
    return Connection(region=region)


_SEND_ORDER = {"check": 0, "delete": 1, "save": 2, "update": 3}


@dataclass
class Tx:
    """A labelled TransactWriteItems: when DynamoDB cancels it, :meth:`commit` reports which
    labelled condition failed so callers can answer precisely."""

    business_id: str
    ctx: Context
    at: datetime
    ops: list[tuple[str, str, Any, Any, Any]] = field(default_factory=list)

    def save(self, label: str, item: Any, condition: Condition | None = None) -> None:
        self.ops.append(("save", label, item, condition, None))

    def update(self, label: str, item: Any, actions: list[Any], condition: Condition | None = None) -> None:
        self.ops.append(("update", label, item, condition, actions))

    def check(self, label: str, model: type[Any], pk: str, sk: str, condition: Condition) -> None:
        self.ops.append(("check", label, (model, pk, sk), condition, None))

    def delete(self, label: str, item: Any, condition: Condition | None = None) -> None:
        self.ops.append(("delete", label, item, condition, None))

    def audit(self, draft: AuditDraft) -> None:
        self.save("audit", audit_item(self.business_id, draft, self.ctx, self.at))

    def commit(self) -> None:
        if len(self.ops) > 100:
            raise DomainError("Too many changes for one transaction.")
        try:
            with TransactWrite(connection=_connection()) as tx:
                for kind, _label, target, condition, actions in self.ops:
                    if kind == "save":
                        tx.save(target, condition=condition)
                    elif kind == "update":
                        tx.update(target, actions=actions, condition=condition)
                    elif kind == "delete":
                        tx.delete(target, condition=condition)
                    else:
                        model, pk, sk = target
                        tx.condition_check(model, pk, sk, condition=condition)
        except TransactWriteError as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: TransactWriteError) -> Exception:
        """Log why DynamoDB cancelled the transaction — per cancelled item: its label, model, key
        prefixes, operation, code and the condition's shape (attribute names, never values: a condition
        may compare a token hash) — and map it to a named error: ``ConditionFailed`` (a labelled
        condition did not hold; callers decide), ``TransactionConflict`` (passes: retried by the state
        machines, 503 in the API) or ``TransactionFailed`` (no retry helps)."""
        reasons = list(exc.cancellation_reasons or [])
        # PynamoDB sends condition checks first, then deletes, puts, updates (not in the order they were
        # added): the reasons follow that order.
        sent = sorted(self.ops, key=lambda op: _SEND_ORDER[op[0]])
        cancelled = [(sent[i], reason) for i, reason in enumerate(reasons)
                     if i < len(sent) and reason is not None and reason.code not in (None, "None")]
        codes = {reason.code for _, reason in cancelled} or {str(exc.cause_response_code or "Unknown")}
        failed = [op[1] for op, reason in cancelled if reason.code == "ConditionalCheckFailed"]
        error: Exception
        if failed:
            error = ConditionFailed(failed)
        elif codes & _PASSING_CODES:
            error = TransactionConflict("Another change to the same data was in progress; try again.",
                                        reasons=sorted(codes))
        else:
            from accessflow.domain.errors import TransactionFailed

            error = TransactionFailed(f"transaction cancelled: {', '.join(sorted(codes))}")
        logger.warning("transaction cancelled", extra={"transaction": {
            "outcome": type(error).__name__, "business_id": self.business_id, "actor": self.ctx.actor,
            "request_id": self.ctx.request_id, "execution_arn": self.ctx.execution_arn, "items": len(self.ops),
            "error_code": exc.cause_response_code,
            "cancelled": [_describe(op, reason.code, reason.message) for op, reason in cancelled],
        }})
        return error


#: Cancellation codes that pass by themselves (DynamoDB's docs: a conflicting transaction or request
#: on an item, throttling); the others (ValidationError, ItemCollectionSizeLimitExceeded...) do not.
_PASSING_CODES = frozenset({
    "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded",
    "TransactionConflictException", "TransactionInProgressException", "ThrottlingException",
})


def _key_prefix(value: Any) -> str:
    """``BIZ#b-1`` → ``BIZ#``; ``GRANT#m#a`` → ``GRANT#``; ``META`` → ``META`` (the item's type, no ids)."""
    text = str(value or "")
    return text.split("#", 1)[0] + "#" if "#" in text else text


def _condition_shape(condition: Condition | None) -> str | None:
    """The condition with attribute names and value placeholders (``status = :0``): what was
    required, never the value it was compared with."""
    if condition is None:
        return None
    names: dict[str, str] = {}
    text = condition.serialize(names, {})
    by_placeholder = {placeholder: name for name, placeholder in names.items()}
    return re.sub(r"#\d+", lambda m: by_placeholder.get(m.group(0), m.group(0)), text)


def _describe(op: tuple[str, str, Any, Any, Any], code: str, message: str | None) -> dict[str, Any]:
    kind, label, target, condition, _ = op
    if kind == "check":
        model, pk, sk = target
        model_name = model.__name__
    else:
        model_name, pk, sk = type(target).__name__, getattr(target, "pk", None), getattr(target, "sk", None)
    return {"item": label, "type": model_name, "key": f"{_key_prefix(pk)}/{_key_prefix(sk)}", "operation": kind,
            "code": code, "condition": _condition_shape(condition),
            "message": _scrub(message) if code != "ConditionalCheckFailed" else "condition not met"}


def _scrub(message: str | None) -> str:
    """A cancellation message may quote values: anything token-like (32+ URL-safe characters) goes."""
    return re.sub(r"[A-Za-z0-9_\-]{32,}", "[redacted]", message or "")[:200]


class ConditionFailed(Exception):
    """A labelled condition of a transaction did not hold; ``labels`` says which."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(", ".join(labels))
        self.labels = labels


# --- businesses and accounts --------------------------------------------------------------------


def get_business(business_id: str) -> BusinessItem | None:
    try:
        return BusinessItem.get(biz_pk(business_id), "META", consistent_read=True)
    except DoesNotExist:
        return None


def policy_of(business: BusinessItem) -> BusinessPolicy:
    return BusinessPolicy.model_validate(business.policy or {})


def get_accounts(business_id: str, *, include_retired: bool = False) -> list[AccountItem]:
    """The business's accounts, by id; retired ones only when asked for."""
    items = AccountItem.query(biz_pk(business_id), AccountItem.sk.startswith("ACCOUNT#"), consistent_read=True)
    return [a for a in items if include_retired or not is_retired(a)]


def is_retired(account: AccountItem) -> bool:
    return account.status == ACCOUNT_RETIRED


def get_account(business_id: str, account_id: str) -> AccountItem | None:
    try:
        return AccountItem.get(biz_pk(business_id), f"ACCOUNT#{account_id}", consistent_read=True)
    except DoesNotExist:
        return None


def create_business(
    business_id: str,
    name: str,
    policy: BusinessPolicy,
    accounts: Sequence[tuple[str, str, str]],
    ctx: Context,
    now: datetime,
) -> None:
    """A new business and its accounts (id, name, platform), with one audit entry. Conflict if the
    business exists (``usecases.business.bootstrap`` reads first and changes only what differs)."""
    tx = Tx(business_id, ctx, now)
    tx.save(
        "business",
        BusinessItem(
            pk=biz_pk(business_id), sk="META", business_id=business_id, name=name,
            policy=policy.model_dump(), created_at=now,
        ),
        condition=BusinessItem.pk.does_not_exist(),
    )
    for account_id, account_name, platform in accounts:
        tx.save(
            f"account:{account_id}",
            AccountItem(
                pk=biz_pk(business_id), sk=f"ACCOUNT#{account_id}", business_id=business_id,
                account_id=account_id, name=account_name, platform=platform, admin_count=0,
                status=ACCOUNT_ACTIVE, version=0, created_at=now, updated_at=now,
            ),
            condition=AccountItem.pk.does_not_exist(),
        )
    tx.audit(AuditDraft("business.configured", subject=business_id,
                        after={"name": name, "policy": policy.model_dump(),
                               "accounts": [a[0] for a in accounts]}))
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise Conflict(f"Business {business_id} was created concurrently.") from exc


def update_business(business: BusinessItem, *, name: str, policy: BusinessPolicy | None, ctx: Context,
                    now: datetime) -> None:
    """Rename the business and/or replace its policy (an operator's re-run of bootstrap)."""
    tx = Tx(business.business_id, ctx, now)
    actions: list[Any] = [BusinessItem.name.set(name)]
    before: dict[str, Any] = {"name": business.name}
    after: dict[str, Any] = {"name": name}
    if policy is not None:
        actions.append(BusinessItem.policy.set(policy.model_dump()))
        before["policy"], after["policy"] = dict(business.policy or {}), policy.model_dump()
    tx.update("business", business, actions, condition=BusinessItem.pk.exists())
    tx.audit(AuditDraft("business.configured", subject=business.business_id, before=before, after=after))
    tx.commit()


def update_policy(business: BusinessItem, policy: BusinessPolicy, ctx: Context, now: datetime) -> None:
    tx = Tx(business.business_id, ctx, now)
    before = dict(business.policy or {})
    tx.update("business", business, [BusinessItem.policy.set(policy.model_dump())])
    tx.audit(AuditDraft("business.policy_changed", subject=business.business_id, before=before,
                        after=policy.model_dump()))
    tx.commit()


# --- members -------------------------------------------------------------------------------------


def get_member(business_id: str, member_id: str) -> MemberItem | None:
    try:
        return MemberItem.get(biz_pk(business_id), f"MEMBER#{member_id}", consistent_read=True)
    except DoesNotExist:
        return None


def members_by_id(business_id: str, member_ids: Iterable[str], *, consistent_read: bool = False,
                  ) -> dict[str, MemberItem]:
    """Many members by key in BatchGetItem calls (PynamoDB splits them by 100); an unknown id is absent."""
    keys = [(biz_pk(business_id), f"MEMBER#{m}") for m in dict.fromkeys(member_ids)]
    return {m.member_id: m for m in MemberItem.batch_get(keys, consistent_read=consistent_read)} if keys else {}


def _lookup(business_id: str, sk: str) -> str | None:
    try:
        return LookupItem.get(biz_pk(business_id), sk, consistent_read=True).member_id
    except DoesNotExist:
        return None


def member_by_email(business_id: str, email: str) -> MemberItem | None:
    member_id = _lookup(business_id, email_sk(email))
    return get_member(business_id, member_id) if member_id else None


def member_by_login(business_id: str, sub: str) -> MemberItem | None:
    member_id = _lookup(business_id, login_sk(sub))
    return get_member(business_id, member_id) if member_id else None


def member_by_employee_id(business_id: str, employee_id: str) -> MemberItem | None:
    member_id = _lookup(business_id, employee_sk(employee_id))
    return get_member(business_id, member_id) if member_id else None


def list_members(business_id: str) -> list[MemberItem]:
    return list(MemberItem.query(biz_pk(business_id), MemberItem.sk.startswith("MEMBER#")))


def link_login(member: MemberItem, sub: str, ctx: Context, now: datetime) -> None:
    """First sign-in of a member created without a login (a bootstrapped admin): link it."""
    tx = Tx(member.business_id, ctx, now)
    tx.save("login", LookupItem(pk=biz_pk(member.business_id), sk=login_sk(sub), member_id=member.member_id),
            condition=LookupItem.pk.does_not_exist())
    tx.update("member", member, [MemberItem.login_sub.set(sub), MemberItem.updated_at.set(now)],
              condition=MemberItem.login_sub.does_not_exist())
    tx.save("who-login", directory_item(who_login_pk(sub), member.business_id, member.member_id))
    tx.audit(AuditDraft("member.login_linked", member_id=member.member_id, after={"login_sub": sub}))
    tx.commit()


def create_admin_member(
    business_id: str, email: str, display_name: str, account_ids: Sequence[str], ctx: Context, now: datetime
) -> MemberItem:
    """Bootstrap: an ACTIVE member holding Admin on the given accounts (the first admin of a business)."""
    member_id = uuid.uuid4().hex
    member = MemberItem(
        pk=biz_pk(business_id), sk=f"MEMBER#{member_id}", business_id=business_id, member_id=member_id,
        email=email, display_name=display_name, status=MemberStatus.ACTIVE.value,
        created_at=now, updated_at=now, invited_by=ctx.actor,
    )
    tx = Tx(business_id, ctx, now)
    tx.save("member", member, condition=MemberItem.pk.does_not_exist())
    tx.save("email", LookupItem(pk=biz_pk(business_id), sk=email_sk(email), member_id=member_id),
            condition=LookupItem.pk.does_not_exist())
    tx.save("who-email", directory_item(who_email_pk(email), business_id, member_id))
    for account_id in account_ids:
        tx.save("grant", _grant_item(business_id, member_id, Grant(account_id=account_id, role=Role.ADMIN),
                                     now, invited_by=ctx.actor, confirmed_by=ctx.actor, invitation_id=None))
        tx.update("account", account_key(business_id, account_id),
                  [AccountItem.admin_count.add(1), AccountItem.version.add(1)], condition=account_open())
    tx.audit(AuditDraft("member.bootstrapped", member_id=member_id,
                        after={"email": email, "grants": {a: Role.ADMIN.value for a in account_ids}}))
    try:
        tx.commit()
    except ConditionFailed as exc:
        if "email" in exc.labels:
            raise Conflict(f"{email} is already a member of this business.") from exc
        raise NotFound("Unknown account.") from exc
    return member


# --- grants --------------------------------------------------------------------------------------


def _grant_item(
    business_id: str, member_id: str, grant: Grant, now: datetime, *,
    invited_by: str | None, confirmed_by: str | None, invitation_id: str | None,
) -> GrantItem:
    return GrantItem(
        pk=biz_pk(business_id), sk=f"GRANT#{member_id}#{grant.account_id}", business_id=business_id,
        member_id=member_id, account_id=grant.account_id, role=grant.role.value,
        status=GrantStatus.ACTIVE.value, invited_by=invited_by, confirmed_by=confirmed_by,
        invitation_id=invitation_id, updated_at=now,
        gsi1pk=account_gsi(business_id, grant.account_id), gsi1sk=f"{grant.role.value}#{member_id}",
    )


def grants_of(business_id: str, member_id: str, *, active_only: bool = True) -> list[GrantItem]:
    items = GrantItem.query(
        biz_pk(business_id), GrantItem.sk.startswith(f"GRANT#{member_id}#"), consistent_read=True
    )
    return [g for g in items if not active_only or g.status == GrantStatus.ACTIVE.value]


def all_grants(business_id: str) -> list[GrantItem]:
    return list(GrantItem.query(biz_pk(business_id), GrantItem.sk.startswith("GRANT#")))


def roles_of(business_id: str, member_id: str) -> dict[str, Role]:
    return {g.account_id: Role(g.role) for g in grants_of(business_id, member_id)}


def admins_of_account(business_id: str, account_id: str) -> list[GrantItem]:
    return list(
        GrantItem.by_account.query(
            account_gsi(business_id, account_id), GrantItem.gsi1sk.startswith(f"{Role.ADMIN.value}#")
        )
    )


# --- invitations ---------------------------------------------------------------------------------


def get_invitation(business_id: str, invitation_id: str) -> InvitationItem | None:
    try:
        return InvitationItem.get(biz_pk(business_id), f"INV#{invitation_id}", consistent_read=True)
    except DoesNotExist:
        return None


def invitation_by_token_hash(token_hash: str) -> InvitationItem | None:
    """Index lookup (eventually consistent), then a consistent read that re-checks the hash, so a
    rotated link is dead at once even if the index still shows the old hash."""
    for hit in InvitationItem.by_token.query(token_hash, limit=1):
        try:
            fresh = InvitationItem.get(hit.pk, hit.sk, consistent_read=True)
        except DoesNotExist:
            return None
        return fresh if fresh.token_hash == token_hash else None
    return None


def list_invitations(business_id: str, status: str | None = None) -> list[InvitationItem]:
    condition = InvitationItem.status == status if status else None
    return list(
        InvitationItem.query(biz_pk(business_id), InvitationItem.sk.startswith("INV#"), filter_condition=condition)
    )


def pending_invitations_for_email(business_id: str, email: str) -> list[InvitationItem]:
    items = InvitationItem.by_email.query(
        f"BIZ#{business_id}#EMAIL#{email}", InvitationItem.gsi1sk.startswith("INV#"),
        filter_condition=InvitationItem.status == InvitationStatus.PENDING.value,
    )
    return list(items)


def grants_json(grants: Iterable[Grant]) -> list[dict[str, str]]:
    return [{"account_id": g.account_id, "role": g.role.value} for g in grants]


def grants_from_json(raw: Any) -> list[Grant]:
    return [Grant.model_validate(g) for g in raw or []]


@dataclass(frozen=True)
class NewInvitation:
    business_id: str
    invitation_id: str
    email: str
    display_name: str
    grants: list[Grant]
    employee_id: str | None
    source: str
    requested_by: str
    inviter_email: str | None
    idempotency_key: str | None
    expires_at: datetime
    needs_confirmation: bool


def create_invitation(new: NewInvitation, ctx: Context, now: datetime) -> InvitationItem:
    """Write the member (new, or a former one invited again), the invitation with its proposed
    grants, and their audit entries in one transaction. Business and accounts must exist."""
    b = new.business_id
    existing = member_by_email(b, new.email)
    tx = Tx(b, ctx, now)
    tx.check("business", BusinessItem, biz_pk(b), "META", BusinessItem.pk.exists())
    for grant in new.grants:  # the account must be open; naming it bumps its version (see retire_account)
        tx.update(f"account:{grant.account_id}", account_key(b, grant.account_id), [AccountItem.version.add(1)],
                  condition=account_open())
    member_before: dict[str, Any] | None = None
    member_after: dict[str, Any] = {"status": MemberStatus.INVITED.value}
    if existing is None:
        member_id = uuid.uuid5(uuid.NAMESPACE_URL, f"accessflow:{b}:{new.email}").hex
        member = MemberItem(
            pk=biz_pk(b), sk=f"MEMBER#{member_id}", business_id=b, member_id=member_id, email=new.email,
            display_name=new.display_name, employee_id=new.employee_id, status=MemberStatus.INVITED.value,
            invited_by=new.requested_by, created_at=now, updated_at=now,
        )
        tx.save("member", member, condition=MemberItem.pk.does_not_exist())
        tx.save("email", LookupItem(pk=biz_pk(b), sk=email_sk(new.email), member_id=member_id),
                condition=LookupItem.pk.does_not_exist())
        if new.employee_id:
            tx.save("employee", LookupItem(pk=biz_pk(b), sk=employee_sk(new.employee_id), member_id=member_id),
                    condition=LookupItem.pk.does_not_exist())
    else:
        member_id = existing.member_id
        if existing.status == MemberStatus.ACTIVE.value:
            # An active member invited to MORE accounts: the member stays active; the new grants
            # go through the same invitation flow (accept with their login, confirm).
            _check_additive(existing, new)
            tx.check("member", MemberItem, biz_pk(b), existing.sk, MemberItem.status == MemberStatus.ACTIVE.value)
            member_before = member_after = {"status": MemberStatus.ACTIVE.value}
        elif existing.status not in (MemberStatus.REMOVED.value, MemberStatus.NEVER_JOINED.value):
            raise Conflict(
                f"{new.email} is already {existing.status.lower()} in this business; change their roles "
                "instead of inviting them again.", member_id=member_id, member_status=existing.status)
        else:
            tx.update("member", existing, [
                MemberItem.status.set(MemberStatus.INVITED.value), MemberItem.display_name.set(new.display_name),
                MemberItem.updated_at.set(now)],
                condition=MemberItem.status.is_in(MemberStatus.REMOVED.value, MemberStatus.NEVER_JOINED.value))
            member_before = {"status": existing.status}
    # (again, for a member filed before the directory existed: the same item is a no-op)
    tx.save("who-email", directory_item(who_email_pk(new.email), b, member_id))
    invitation = InvitationItem(
        pk=biz_pk(b), sk=f"INV#{new.invitation_id}", business_id=b, invitation_id=new.invitation_id,
        member_id=member_id, email=new.email, display_name=new.display_name,
        grants=grants_json(new.grants), status=InvitationStatus.PENDING.value, source=new.source,
        requested_by=new.requested_by, inviter_email=new.inviter_email, idempotency_key=new.idempotency_key,
        created_at=now, updated_at=now, expires_at=new.expires_at, needs_confirmation=new.needs_confirmation,
        gsi1pk=f"BIZ#{b}#EMAIL#{new.email}", gsi1sk=f"INV#{new.invitation_id}",
        due_pk=DUE_SHARD,
    )
    tx.save("invitation", invitation, condition=InvitationItem.pk.does_not_exist())
    # One entry for the whole change: the invitation and what it did to the member.
    tx.audit(AuditDraft("invitation.created", member_id=member_id, subject=new.invitation_id,
                        before={"member": member_before} if member_before else None, after={
                            "email": new.email, "display_name": new.display_name,
                            "grants": grants_json(new.grants), "expires_at": _iso(new.expires_at),
                            "source": new.source, "member": member_after}))
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise _creation_error(exc, new) from exc
    return invitation


def _check_additive(member: MemberItem, new: NewInvitation) -> None:
    """An invitation for an ACTIVE member may only add accounts they do not hold yet, one pending
    invitation at a time (a role change on a held account is not an invitation)."""
    held = sorted({g.account_id for g in grants_of(member.business_id, member.member_id)}
                  & {g.account_id for g in new.grants})
    if held:
        raise Conflict(
            f"{new.email} is already active in this business with a role on {', '.join(held)}; change their "
            "roles instead of inviting them again.", member_id=member.member_id, member_status=member.status,
            accounts=held)
    if pending_invitations_for_email(member.business_id, new.email):
        raise Conflict(f"{new.email} already has a pending invitation in this business.",
                       member_id=member.member_id, member_status=member.status)


def _creation_error(exc: ConditionFailed, new: NewInvitation) -> DomainError:
    from accessflow.domain.errors import UnknownAccount, UnknownBusiness

    if "business" in exc.labels:
        return UnknownBusiness(f"Business {new.business_id} does not exist.")
    missing = [label.split(":", 1)[1] for label in exc.labels if label.startswith("account:")]
    retired = [a for a in missing if (acc := get_account(new.business_id, a)) is not None and is_retired(acc)]
    if retired:
        from accessflow.domain.errors import AccountRetired

        return AccountRetired(f"Account(s) {', '.join(retired)} are retired; nobody can be invited to them.",
                              accounts=retired)
    if missing:
        return UnknownAccount(f"Unknown account(s) in business {new.business_id}: {', '.join(missing)}.",
                              accounts=missing)
    if "invitation" in exc.labels:
        return Conflict("This invitation already exists.")
    if "employee" in exc.labels:
        return Conflict(f"Employee {new.employee_id} is already linked to another member.")
    return Conflict(f"{new.email} was invited concurrently by another request.")


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def start_sending(
    inv: InvitationItem, token_hash: str, task_token: str | None, execution_arn: str | None,
    ctx: Context, now: datetime, *, expires_at: datetime | None = None, resend: bool = False,
) -> None:
    """Rotate the link (the old hash dies with this write) and mark the e-mail as being sent.
    Conditional on the invitation still being pending and on the send count we read, so two
    concurrent sends cannot both pass the resend limits."""
    actions: list[Any] = [
        InvitationItem.token_hash.set(token_hash),
        InvitationItem.delivery.set("SENDING"),
        InvitationItem.send_count.set(inv.send_count + 1),
        InvitationItem.last_sent_at.set(now),
        InvitationItem.updated_at.set(now),
    ]
    if task_token is not None:
        actions.append(InvitationItem.task_token.set(task_token))
    if execution_arn is not None:
        actions.append(InvitationItem.execution_arn.set(execution_arn))
    if expires_at is not None:
        actions.append(InvitationItem.expires_at.set(expires_at))
    condition = (InvitationItem.status == InvitationStatus.PENDING.value) & (
        InvitationItem.send_count == inv.send_count
    )
    tx = Tx(inv.business_id, ctx, now)
    tx.update("invitation", inv, actions, condition=condition)
    tx.audit(AuditDraft("invitation.resent" if resend else "invitation.sent", member_id=inv.member_id,
                        subject=inv.invitation_id,
                        after={"send_count": inv.send_count + 1, "expires_at": _iso(expires_at or inv.expires_at)}))
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise Conflict("The invitation changed while it was being sent; try again.") from exc


def finish_sending(inv: InvitationItem, ok: bool, reason: str | None, now: datetime,
                   remind_at: datetime | None) -> None:
    """Record the delivery outcome. A failure stays visible to the admin with its reason."""
    actions: list[Any] = [
        InvitationItem.delivery.set("SENT" if ok else "FAILED"),
        InvitationItem.updated_at.set(now),
    ]
    actions.append(InvitationItem.delivery_reason.set(reason) if reason else InvitationItem.delivery_reason.remove())
    if ok and remind_at is not None and inv.reminder_sent_at is None:
        actions += [InvitationItem.remind_pk.set(REMIND_SHARD), InvitationItem.remind_at.set(remind_at)]
    inv.update(actions=actions, condition=InvitationItem.status == InvitationStatus.PENDING.value)


def mark_delivery_failed(inv: InvitationItem, reason: str, ctx: Context, now: datetime) -> bool:
    """An invitation e-mail bounced, was rejected or complained about after SES accepted it: make it
    visible on the invitation (``delivery`` FAILED with the reason) with its audit entry. False if it
    was already marked with this reason (SNS delivers at least once)."""
    if inv.delivery == "FAILED" and inv.delivery_reason == reason:
        return False
    tx = Tx(inv.business_id, ctx, now)
    tx.update("invitation", inv, [InvitationItem.delivery.set("FAILED"), InvitationItem.delivery_reason.set(reason),
                                  InvitationItem.updated_at.set(now)], condition=InvitationItem.pk.exists())
    tx.audit(AuditDraft("invitation.delivery_failed", member_id=inv.member_id, subject=inv.invitation_id,
                        before={"delivery": inv.delivery}, after={"delivery": "FAILED"}, reason=reason))
    tx.commit()
    return True


def register_wait(inv: InvitationItem, task_token: str, execution_arn: str | None, *, confirm: bool) -> None:
    """Keep the Step Functions task token of the execution waiting on this invitation."""
    attr = InvitationItem.confirm_task_token if confirm else InvitationItem.task_token
    actions: list[Any] = [attr.set(task_token)]
    if execution_arn:
        actions.append(InvitationItem.execution_arn.set(execution_arn))
    inv.update(actions=actions)


def accept_invitation(inv: InvitationItem, token_hash: str, sub: str, ctx: Context, now: datetime) -> None:
    """PENDING → ACCEPTED, and link the login to the member, in one transaction. Wins against a
    racing expiry or revocation, or loses to it, never both."""
    check_invitation_move(InvitationStatus.PENDING, InvitationStatus.ACCEPTED)
    b = inv.business_id
    tx = Tx(b, ctx, now)
    tx.update("invitation", inv, [
        InvitationItem.status.set(InvitationStatus.ACCEPTED.value),
        InvitationItem.accepted_sub.set(sub),
        InvitationItem.accepted_at.set(now),
        InvitationItem.updated_at.set(now),
        InvitationItem.due_pk.remove(),
        InvitationItem.remind_pk.remove(),
        InvitationItem.remind_at.remove(),
    ], condition=(InvitationItem.status == InvitationStatus.PENDING.value)
        & (InvitationItem.expires_at > now)
        & (InvitationItem.token_hash == token_hash))
    member = MemberItem(pk=biz_pk(b), sk=f"MEMBER#{inv.member_id}")
    tx.update("member", member, [MemberItem.login_sub.set(sub), MemberItem.updated_at.set(now),
                                 MemberItem.last_activity_at.set(now)],  # the first authenticated call
              condition=(MemberItem.status == MemberStatus.INVITED.value)
              | ((MemberItem.status == MemberStatus.ACTIVE.value)  # an active member invited to more accounts
                 & (MemberItem.login_sub.does_not_exist() | (MemberItem.login_sub == sub))))
    tx.save("login", LookupItem(pk=biz_pk(b), sk=login_sk(sub), member_id=inv.member_id),
            condition=LookupItem.pk.does_not_exist() | (LookupItem.member_id == inv.member_id))
    tx.save("who-login", directory_item(who_login_pk(sub), b, inv.member_id))
    _check_not_held(tx, b, inv.member_id)  # issue 11: a held offboarding freezes the member's invitations
    tx.audit(AuditDraft("invitation.accepted", member_id=inv.member_id, subject=inv.invitation_id,
                        before={"status": InvitationStatus.PENDING.value},
                        after={"status": InvitationStatus.ACCEPTED.value, "login_sub": sub}))
    tx.commit()


_READ = object()


def _check_not_held(tx: Tx, business_id: str, member_id: str) -> None:
    """Issue 11: the member has no HELD offboarding (leaver guard) — label ``offboarding-held``."""
    tx.check("offboarding-held", OffboardingItem, biz_pk(business_id), f"OFFBOARD#{member_id}",
             OffboardingItem.pk.does_not_exist() | (OffboardingItem.status != "HELD"))


def confirm_invitation(
    inv: InvitationItem, grants: list[Grant], decided_by: str, policy: BusinessPolicy, ctx: Context, now: datetime,
    *, member_status: Any = _READ,
) -> None:
    """ACCEPTED → CONFIRMED: grants become ACTIVE and the member ACTIVE, in one transaction. Admin
    grants increment the account's admin counter under the business's cap, atomically.

    The member's condition needs its status before: read it (the default), or pass
    ``member_status=None`` to try INVITED (a new invitee) and, if only the member's condition fails,
    ACTIVE (a member invited to more accounts): no read, the conditions decide."""
    if member_status is None:
        try:
            confirm_invitation(inv, grants, decided_by, policy, ctx, now, member_status=MemberStatus.INVITED.value)
        except ConditionFailed as exc:
            if exc.labels != ["member"]:
                raise
            confirm_invitation(inv, grants, decided_by, policy, ctx, now, member_status=MemberStatus.ACTIVE.value)
        return
    check_invitation_move(InvitationStatus.ACCEPTED, InvitationStatus.CONFIRMED)
    b = inv.business_id
    tx = Tx(b, ctx, now)
    tx.update("invitation", inv, [
        InvitationItem.status.set(InvitationStatus.CONFIRMED.value),
        InvitationItem.final_grants.set(grants_json(grants)),
        InvitationItem.decided_by.set(decided_by),
        InvitationItem.decided_at.set(now),
        InvitationItem.updated_at.set(now),
    ], condition=InvitationItem.status == InvitationStatus.ACCEPTED.value)
    if member_status is _READ:
        current = get_member(b, inv.member_id)
        was_active = current is not None and current.status == MemberStatus.ACTIVE.value  # invited to more accounts
        member_before = (MemberStatus.ACTIVE if was_active else MemberStatus.INVITED).value
    else:
        member_before = str(member_status)
    member = MemberItem(pk=biz_pk(b), sk=f"MEMBER#{inv.member_id}")
    tx.update("member", member, [MemberItem.status.set(MemberStatus.ACTIVE.value), MemberItem.updated_at.set(now)],
              condition=MemberItem.status == member_before)
    if decided_by != "system":
        _check_not_held(tx, b, inv.member_id)  # issue 11: an Admin cannot confirm while it is held
    for grant in grants:
        item = _grant_item(b, inv.member_id, grant, now, invited_by=inv.requested_by, confirmed_by=decided_by,
                           invitation_id=inv.invitation_id)
        tx.save(f"grant:{grant.account_id}", item,
                condition=GrantItem.pk.does_not_exist() | (GrantItem.status == GrantStatus.REVOKED.value))
        account = account_key(b, grant.account_id)
        if grant.role is Role.ADMIN:
            tx.update(f"admins:{grant.account_id}", account,
                      [AccountItem.admin_count.add(1), AccountItem.version.add(1)],
                      condition=account_open() & (AccountItem.admin_count < policy.max_admins_per_account))
        else:  # a new holder: bumps the version a retirement conditions on
            tx.update(f"account:{grant.account_id}", account, [AccountItem.version.add(1)], condition=account_open())
    # One entry for the whole change: the grants that went live and the member's activation are its
    # effects, listed in it (one user-visible change, one audit entry).
    tx.audit(AuditDraft("invitation.confirmed", member_id=inv.member_id, subject=inv.invitation_id,
                        before={"status": InvitationStatus.ACCEPTED.value,
                                "member": {"status": member_before}},
                        after={"status": InvitationStatus.CONFIRMED.value, "grants": grants_json(grants),
                               "confirmed_by": decided_by, "member": {"status": MemberStatus.ACTIVE.value}}))
    tx.commit()


def close_invitation(
    inv: InvitationItem, *, from_status: InvitationStatus, to_status: InvitationStatus, action: str,
    ctx: Context, now: datetime, retention: timedelta, due_only: bool = False,
) -> None:
    """PENDING → EXPIRED | REVOKED, or ACCEPTED → REJECTED: the invitation closes, its proposed
    grants are discarded, the member is marked as never joined (unless already active elsewhere),
    and the invitation's data is purged by TTL after the retention period. The move must be one the
    domain allows; the write's condition then makes it race-free."""
    check_invitation_move(from_status, to_status)
    condition = InvitationItem.status == from_status.value
    if due_only:
        condition = condition & (InvitationItem.expires_at <= now)
    member = get_member(inv.business_id, inv.member_id)
    close_tx(inv, from_status=from_status, to_status=to_status, action=action, ctx=ctx, now=now,
             retention=retention, condition=condition,
             member=member if member is not None and member.status == MemberStatus.INVITED.value else None).commit()


def close_tx(
    inv: InvitationItem, *, from_status: InvitationStatus, to_status: InvitationStatus, action: str, ctx: Context,
    now: datetime, retention: timedelta, condition: Condition, member: MemberItem | None,
) -> Tx:
    """The transaction of :func:`close_invitation`: the invitation (under ``condition``), its audit
    entry, and ``member`` (``INVITED → NEVER_JOINED``, labelled ``member``) when given. ``inv`` and
    ``member`` need only their keys (and ids): an index entry will do."""
    tx = Tx(inv.business_id, ctx, now)
    tx.update("invitation", inv, [
        InvitationItem.status.set(to_status.value),
        InvitationItem.updated_at.set(now),
        InvitationItem.decided_at.set(now),
        InvitationItem.decided_by.set(ctx.actor),
        InvitationItem.due_pk.remove(),
        InvitationItem.remind_pk.remove(),
        InvitationItem.remind_at.remove(),
        InvitationItem.ttl.set(now + retention),
    ], condition=condition)
    if member is not None:
        tx.update("member", member, [MemberItem.status.set(MemberStatus.NEVER_JOINED.value),
                                     MemberItem.updated_at.set(now)],
                  condition=MemberItem.status == MemberStatus.INVITED.value)
    tx.audit(AuditDraft(action, member_id=inv.member_id, subject=inv.invitation_id,
                        before={"status": from_status.value}, after={"status": to_status.value}))
    return tx


def claim_outcome_notice(business_id: str, invitation_id: str) -> tuple[InvitationItem | None, bool]:
    """Claim the right to notify about this invitation's outcome, so a sweep and an execution timeout
    never notify twice. Nothing is read first: the conditional update returns the invitation
    (``ALL_NEW``). Returns the invitation (None if there is none) and whether this caller won the
    claim; only a loser reads it."""
    from pynamodb.exceptions import UpdateError

    inv = InvitationItem(pk=biz_pk(business_id), sk=f"INV#{invitation_id}")
    try:
        inv.update(actions=[InvitationItem.outcome_notified.set(True)],
                   condition=InvitationItem.pk.exists() & (InvitationItem.outcome_notified.does_not_exist()
                                                           | (InvitationItem.outcome_notified == False)))  # noqa: E712
    except UpdateError:
        return get_invitation(business_id, invitation_id), False
    return inv, True


# --- audit trail ----------------------------------------------------------------------------------


def audit_trail(
    business_id: str, *, member_id: str | None = None, action: str | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int | None = None,
    cursor: dict[str, Any] | None = None,
) -> tuple[list[AuditItem], dict[str, Any] | None]:
    lo = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if since else "0"
    hi = until.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "~" if until else "~"
    filter_condition = AuditItem.action == action if action else None
    if member_id:
        result = AuditItem.by_member.query(
            f"AUDIT#{business_id}#MEMBER#{member_id}", AuditItem.gsi1sk.between(lo, hi),
            filter_condition=filter_condition, limit=limit, last_evaluated_key=cursor)
    else:
        result = AuditItem.query(audit_pk(business_id), AuditItem.sk.between(lo, hi),
                                 filter_condition=filter_condition, limit=limit, last_evaluated_key=cursor,
                                 consistent_read=True)
    items = list(result)
    return items, result.last_evaluated_key


def record_audit(business_id: str, draft: AuditDraft, ctx: Context, now: datetime) -> None:
    """An audit entry with no state change attached (a refusal, a notification)."""
    audit_item(business_id, draft, ctx, now).save()

