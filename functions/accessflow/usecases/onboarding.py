"""Onboarding: record, send, accept, confirm or reject, and announce the outcome."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accessflow.adapters.events import EventPublisher
from accessflow.adapters.mailer import DeliveryFailed, Mailer
from accessflow.adapters.workflow import Workflow
from accessflow.domain import rules
from accessflow.domain.errors import (
    AccountRetired,
    AdminLimitReached,
    AlreadyUsed,
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    LoginAlreadyLinked,
    NotFound,
    UnknownBusiness,
)
from accessflow.domain.model import Grant, InvitationStatus, validate_grants
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import describe
from accessflow.domain.tokens import hash_token, mint_token, normalise_email
from accessflow.store import repository as store
from accessflow.store.models import BusinessItem, InvitationItem
from accessflow.usecases import messages

WAIT_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class OnboardingRequest:
    business_id: str
    email: str
    display_name: str
    grants: list[Grant]
    requested_by: str
    source: str  # "hr" | "api" | "scim" | "bulk"
    employee_id: str | None = None
    idempotency_key: str | None = None
    inviter_email: str | None = None
    invitation_id: str | None = None


@dataclass(frozen=True)
class Caller:
    """The authenticated login (JWT claims)."""

    sub: str
    email: str | None
    email_verified: bool
    #: authentication methods of the login (OIDC ``amr``), e.g. ``("pwd", "mfa")``
    amr: tuple[str, ...] = ()


def invitation_id_for(business_id: str, idempotency_key: str) -> str:
    """Deterministic, so every delivery of one HR event names the same invitation and execution."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"accessflow:{business_id}:{idempotency_key}").hex


def execution_name(invitation_id: str) -> str:
    return f"onb-{invitation_id}"


def summary(inv: InvitationItem, now: datetime) -> dict[str, Any]:
    """What the state machine carries between states (small: never the token)."""
    remaining = max(0, int((inv.expires_at - now).total_seconds()))
    return {
        "business_id": inv.business_id,
        "invitation_id": inv.invitation_id,
        "member_id": inv.member_id,
        "needs_confirmation": bool(inv.needs_confirmation),
        "wait_seconds": remaining + int(WAIT_MARGIN.total_seconds()),
        "expires_at": store._iso(inv.expires_at),
    }


@dataclass(frozen=True)
class Carried:
    """What the onboarding state machine carries from its Record step to the later ones (the task
    payload's ``carried``), so that they do not read again what Record already read: the business's
    name and policy, and the invitation's fields that do not change while it waits (see
    docs/decisions.md). Never the link token. A task given no ``carried`` (an execution started by an
    older definition) reads instead."""

    business_name: str
    policy: BusinessPolicy
    member_id: str
    email: str
    grants: list[dict[str, str]]
    requested_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"business_name": self.business_name, "policy": self.policy.model_dump(mode="json"),
                "member_id": self.member_id, "email": self.email, "grants": self.grants,
                "requested_by": self.requested_by}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Carried | None:
        if not data:
            return None
        return cls(business_name=str(data["business_name"]), policy=BusinessPolicy.model_validate(data["policy"]),
                   member_id=str(data["member_id"]), email=str(data["email"]), grants=list(data["grants"]),
                   requested_by=str(data["requested_by"]))

    @classmethod
    def of(cls, inv: InvitationItem, business: BusinessItem) -> Carried:
        return cls(business_name=business.name, policy=store.policy_of(business), member_id=inv.member_id,
                   email=inv.email, grants=list(inv.grants), requested_by=inv.requested_by)


def record(req: OnboardingRequest, ctx: store.Context, now: datetime) -> InvitationItem:
    """Validate and record the member, the invitation and its proposed grants. Idempotent on the
    invitation id: recording the same request again returns the first record."""
    return record_carried(req, ctx, now)[0]


def record_carried(req: OnboardingRequest, ctx: store.Context, now: datetime) -> tuple[InvitationItem, Carried]:
    """:func:`record`, with what the state machine carries to its later steps. An invitation made
    through the API was recorded before its execution started: it is read first. One requested by HR
    is new: it is written at once, and the conditional write finds a duplicate delivery."""
    invitation_id = req.invitation_id or (
        invitation_id_for(req.business_id, req.idempotency_key) if req.idempotency_key else uuid.uuid4().hex
    )
    # recorded before the execution started: by the API, or by a bulk import's row (issue 11)
    existing = store.get_invitation(req.business_id, invitation_id) if req.source in ("api", "bulk") else None
    business = store.get_business(req.business_id)
    if business is None:
        raise UnknownBusiness(f"Business {req.business_id} does not exist.")
    if existing is not None:
        return existing, Carried.of(existing, business)
    policy = store.policy_of(business)
    grants = validate_grants(req.grants)
    email = normalise_email(req.email)
    if "@" not in email:
        raise InvalidInput("A valid e-mail address is required.")
    new = store.NewInvitation(
        business_id=req.business_id, invitation_id=invitation_id, email=email,
        display_name=req.display_name.strip() or email, grants=grants, employee_id=req.employee_id,
        source=req.source, requested_by=req.requested_by, inviter_email=req.inviter_email,
        idempotency_key=req.idempotency_key, expires_at=rules.expiry_for(now, policy),
        needs_confirmation=rules.needs_confirmation(grants, policy),
    )
    try:
        inv = store.create_invitation(new, ctx, now)
    except Conflict:
        again = store.get_invitation(req.business_id, invitation_id)
        if again is not None:  # a duplicate delivery, or a retry of this step: same effect
            return again, Carried.of(again, business)
        raise
    return inv, Carried.of(inv, business)


def accept_link(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/accept?token={token}"


def send_invitation(
    business_id: str, invitation_id: str, *, task_token: str | None, execution_arn: str | None,
    mailer: Mailer, public_base_url: str, ctx: store.Context, now: datetime, workflow: Workflow | None = None,
    carried: Carried | None = None,
) -> dict[str, Any]:
    """Mint the link, e-mail it and keep the task token. Safe to retry: once the e-mail went out,
    a retry (or a renewed wait) only re-registers the task token and sends nothing. If the invitation
    was decided before this wait began (revoked, expired, or accepted while the execution was between
    two waits), the wait is answered at once so the execution takes the matching branch."""
    inv = _invitation(business_id, invitation_id)
    if inv.status == InvitationStatus.PENDING.value and inv.delivery == "SENT" and inv.send_count > 0:
        if task_token:
            store.register_wait(inv, task_token, execution_arn, confirm=False)
            inv = _invitation(business_id, invitation_id)  # decided meanwhile? answer below
    elif inv.status == InvitationStatus.PENDING.value:
        try:
            return deliver(inv, task_token=task_token, execution_arn=execution_arn, mailer=mailer,
                           public_base_url=public_base_url, ctx=ctx, now=now, expires_at=None, resend=False,
                           carried=carried)
        except Conflict:
            inv = _invitation(business_id, invitation_id)  # revoked or expired while we were sending
    if inv.status != InvitationStatus.PENDING.value and task_token and workflow is not None:
        answer_decided_wait(inv, task_token, workflow)
    return {"status": inv.status, "sent": False}


def answer_decided_wait(inv: InvitationItem, task_token: str, workflow: Workflow) -> None:
    """Resume a waiting execution whose invitation is already decided."""
    if inv.status == InvitationStatus.EXPIRED.value:
        workflow.fail(task_token, "InvitationExpired", f"invitation {inv.invitation_id} expired")
    elif inv.status == InvitationStatus.REVOKED.value:
        workflow.fail(task_token, "InvitationRevoked", f"invitation {inv.invitation_id} was revoked")
    elif inv.status in (InvitationStatus.ACCEPTED.value, InvitationStatus.CONFIRMED.value,
                        InvitationStatus.REJECTED.value):
        workflow.succeed(task_token, {"accepted_by": inv.accepted_sub, "accepted_at": store._iso(inv.accepted_at)})


def deliver(
    inv: InvitationItem, *, task_token: str | None, execution_arn: str | None, mailer: Mailer,
    public_base_url: str, ctx: store.Context, now: datetime, expires_at: datetime | None, resend: bool,
    carried: Carried | None = None,
) -> dict[str, Any]:
    """Rotate the link token (the old link dies with the write), e-mail the new link, record the
    delivery. Shared by the first send and the admin's resend (``usecases.invitations.resend``)."""
    token, token_hash = mint_token()
    store.start_sending(inv, token_hash, task_token, execution_arn, ctx, now, expires_at=expires_at, resend=resend)
    policy: BusinessPolicy | None
    if carried is not None:
        business_name, policy = carried.business_name, carried.policy
    else:
        business = store.get_business(inv.business_id)
        business_name = business.name if business else inv.business_id
        policy = store.policy_of(business) if business else None
    expiry = expires_at or inv.expires_at
    message = messages.invitation(
        to=inv.email, name=inv.display_name, business=business_name,
        grants=store.grants_from_json(inv.grants), link=accept_link(public_base_url, token), expires_at=expiry,
    )
    message = dataclasses.replace(message, tags={"kind": "invitation", "business_id": inv.business_id,
                                                 "invitation_id": inv.invitation_id})
    try:
        mailer.send(message)
    except DeliveryFailed as exc:
        store.finish_sending(inv, False, str(exc), now, None)
        return {"status": inv.status, "sent": False, "delivery": "FAILED", "reason": str(exc)}
    remind_at = rules.reminder_at(now, expiry, policy) if policy else None  # the one reminder (expiry sweep)
    store.finish_sending(inv, True, None, now, remind_at)
    return {"status": inv.status, "sent": True}


def _invitation(business_id: str, invitation_id: str) -> InvitationItem:
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} does not exist in business {business_id}.")
    return inv


@dataclass(frozen=True)
class OfferedGrant:
    account_id: str
    account_name: str
    platform: str
    role: str
    may: str  # one plain line of what the role may do (domain.roles.describe)


@dataclass(frozen=True)
class Preview:
    """What the accept page shows about one invitation (to whoever holds its link)."""

    business: str
    email: str
    display_name: str
    status: str
    expires_at: datetime
    inviter: str
    grants: list[OfferedGrant]
    needs_confirmation: bool
    refusal: DomainError | None  # why nobody can accept it any more (used, expired, revoked), if so


def preview(token: str, now: datetime) -> Preview:
    """What the accept page shows. Reading never consumes the link (mail scanners open links)."""
    inv = store.invitation_by_token_hash(hash_token(token))
    if inv is None:
        raise NotFound("This invitation link is not valid.")
    business = store.get_business(inv.business_id)
    accounts = {a.account_id: a for a in store.get_accounts(inv.business_id)}
    grants = []
    for grant in store.grants_from_json(inv.grants):
        account = accounts.get(grant.account_id)
        grants.append(OfferedGrant(grant.account_id, account.name if account else grant.account_id,
                                   account.platform if account else "", grant.role.value, describe(grant.role)))
    refusal: DomainError | None = None
    try:
        rules.check_open(status=InvitationStatus(inv.status), expires_at=inv.expires_at, now=now)
    except DomainError as error:
        refusal = error
    return Preview(business=business.name if business else inv.business_id, email=inv.email,
                   display_name=inv.display_name, status=inv.status, expires_at=inv.expires_at,
                   inviter=_inviter_name(inv), grants=grants, needs_confirmation=bool(inv.needs_confirmation),
                   refusal=refusal)


def _inviter_name(inv: InvitationItem) -> str:
    """Who invited, by name: the admin's display name, or the HR system that asked."""
    kind, _, member_id = inv.requested_by.partition(":")
    if kind == "member" and member_id:
        member = store.get_member(inv.business_id, member_id)
        if member is not None:
            return member.display_name
    if inv.source == "hr":
        return f"your HR system ({inv.requested_by})"
    return inv.inviter_email or "an administrator"


def accept(token: str, caller: Caller, *, workflow: Workflow, ctx: store.Context, now: datetime) -> dict[str, Any]:
    """The invitee accepts with their own verified login; the waiting execution resumes."""
    token_hash = hash_token(token)
    inv = store.invitation_by_token_hash(token_hash)
    if inv is None:
        raise NotFound("This invitation link is not valid.")
    rules.check_acceptable(
        status=InvitationStatus(inv.status), expires_at=inv.expires_at, invited_email=inv.email,
        caller_email=caller.email, caller_email_verified=caller.email_verified, now=now,
    )
    linked = store.member_by_login(inv.business_id, caller.sub)
    if linked is not None and linked.member_id != inv.member_id:
        raise LoginAlreadyLinked("Your login is already linked to another member of this business.")
    if not ctx.actor_name:  # the login's token carries no name: the invitee is who the invitation names
        ctx = dataclasses.replace(ctx, actor_name=inv.display_name, actor_email=ctx.actor_email or inv.email)
    try:
        store.accept_invitation(inv, token_hash, caller.sub, ctx, now)
    except store.ConditionFailed as exc:
        raise _accept_race_error(inv.business_id, inv.invitation_id, exc, now) from exc
    if inv.task_token:
        workflow.succeed(inv.task_token, {"accepted_by": caller.sub, "accepted_at": store._iso(now)})
    return {"business_id": inv.business_id, "invitation_id": inv.invitation_id, "member_id": inv.member_id,
            "status": InvitationStatus.ACCEPTED.value, "needs_confirmation": bool(inv.needs_confirmation)}


def _held_error(business_id: str, member_id: str) -> Exception:
    """Issue 11: the transaction's check found the member's offboarding HELD (leaver guard): their
    invitations are frozen. Read only on that refusal (no read on the normal path: the onboarding's
    DynamoDB budget)."""
    from accessflow.usecases.leaver_guard import check_not_held

    try:
        check_not_held(business_id, member_id)
    except DomainError as exc:
        return exc
    return Conflict("The member's offboarding was held meanwhile; try again.")


def _accept_race_error(business_id: str, invitation_id: str, exc: store.ConditionFailed, now: datetime) -> Exception:
    """Why a cancelled acceptance lost. The invitation's own state comes first: a racing expiry or
    revocation also moves the member, so the member's condition fails alongside the invitation's."""
    fresh = store.get_invitation(business_id, invitation_id)
    if fresh is None:
        return NotFound("This invitation link is not valid.")
    if fresh.status == InvitationStatus.EXPIRED.value or fresh.expires_at <= now:
        return Gone("This invitation has expired. Ask an administrator to send it again.", reason="expired")
    if fresh.status == InvitationStatus.REVOKED.value:
        return Gone("This invitation was revoked by an administrator.", reason="revoked")
    if fresh.status != InvitationStatus.PENDING.value:
        return AlreadyUsed("This invitation has already been accepted.")
    if "offboarding-held" in exc.labels:
        return _held_error(business_id, fresh.member_id)
    if "login" in exc.labels:
        return LoginAlreadyLinked("Your login is already linked to another member of this business.")
    if "member" in exc.labels:  # an active member invited to more accounts, signed in with another login
        return LoginAlreadyLinked("This member already signs in with another login; sign in with that one.")
    return NotFound("This invitation link is not valid.")  # rotated while we were accepting


def confirm(
    business_id: str, invitation_id: str, *, confirmer_member_id: str, grants: list[Grant] | None,
    workflow: Workflow | None, ctx: store.Context, now: datetime, carried: Carried | None = None,
) -> dict[str, Any]:
    """ACCEPTED → CONFIRMED by an admin (or by the system for auto-confirmed roles): grants and member
    become active. Admin capacity is enforced atomically in the same transaction. Given what the
    state machine carried (the automatic confirmation), nothing is read first: the transaction's
    conditions decide."""
    from accessflow.domain.model import narrow_grants

    if carried is not None and confirmer_member_id == "system" and grants is None:
        return _auto_confirm(business_id, invitation_id, carried, ctx, now)
    inv = _invitation(business_id, invitation_id)
    if inv.status != InvitationStatus.ACCEPTED.value:
        if inv.status == InvitationStatus.CONFIRMED.value and confirmer_member_id == "system":
            return {"status": inv.status}
        raise Conflict(f"The invitation is {inv.status}; only an ACCEPTED invitation can be confirmed.",
                       current_status=inv.status)
    if confirmer_member_id != "system":
        rules.check_confirmer(confirmer_member_id=confirmer_member_id, invitee_member_id=inv.member_id)
    business = store.get_business(business_id)
    if business is None:
        raise UnknownBusiness(f"Business {business_id} does not exist.")
    policy = store.policy_of(business)
    final = narrow_grants(store.grants_from_json(inv.grants), grants)
    try:
        store.confirm_invitation(inv, final, confirmer_member_id, policy, ctx, now)
    except store.ConditionFailed as exc:
        named = [label.split(":", 1)[1] for label in exc.labels if label.startswith(("admins:", "account:"))]
        retired = [a for a in named if (acc := store.get_account(business_id, a)) is None or store.is_retired(acc)]
        if retired:
            raise AccountRetired(f"Account(s) {', '.join(retired)} were retired; the invitation cannot be "
                                 "confirmed on them (narrow it to the other accounts, or reject it).",
                                 accounts=retired) from exc
        if "offboarding-held" in exc.labels:
            raise _held_error(business_id, inv.member_id) from exc
        full = [label.split(":", 1)[1] for label in exc.labels if label.startswith("admins:")]
        if full:
            raise AdminLimitReached(
                f"Account(s) {', '.join(full)} already have {policy.max_admins_per_account} Admins, the most "
                "the business allows.", accounts=full) from exc
        fresh = _invitation(business_id, invitation_id)
        raise Conflict(f"The invitation is {fresh.status}; it was decided concurrently.",
                       current_status=fresh.status) from exc
    if workflow is not None:
        fresh = _invitation(business_id, invitation_id)
        if fresh.confirm_task_token:
            workflow.succeed(fresh.confirm_task_token, {"confirmed_by": confirmer_member_id})
    return {"status": InvitationStatus.CONFIRMED.value, "grants": store.grants_json(final),
            "member_id": inv.member_id, "confirmed_by": confirmer_member_id}


def _auto_confirm(business_id: str, invitation_id: str, carried: Carried, ctx: store.Context,
                  now: datetime) -> dict[str, Any]:
    """The automatic confirmation (no Admin role proposed) from the carried invitation: one
    conditional transaction. Its condition (still ACCEPTED) fails on a retry after success (already
    CONFIRMED: done) or when the invitation was decided otherwise (an error, read to say which)."""
    inv = InvitationItem(pk=store.biz_pk(business_id), sk=f"INV#{invitation_id}", business_id=business_id,
                         invitation_id=invitation_id, member_id=carried.member_id, email=carried.email,
                         grants=carried.grants, requested_by=carried.requested_by)
    final = store.grants_from_json(carried.grants)
    try:
        store.confirm_invitation(inv, final, "system", carried.policy, ctx, now, member_status=None)
    except store.ConditionFailed as exc:
        fresh = _invitation(business_id, invitation_id)
        if fresh.status == InvitationStatus.CONFIRMED.value:
            return {"status": fresh.status}
        raise Conflict(f"The invitation is {fresh.status}; it was decided concurrently.",
                       current_status=fresh.status) from exc
    return {"status": InvitationStatus.CONFIRMED.value, "grants": store.grants_json(final),
            "member_id": carried.member_id, "confirmed_by": "system"}


def reject(
    business_id: str, invitation_id: str, *, decider_member_id: str, reason: str | None,
    workflow: Workflow | None, ctx: store.Context, now: datetime, retention: timedelta,
) -> dict[str, Any]:
    inv = _invitation(business_id, invitation_id)
    if inv.status != InvitationStatus.ACCEPTED.value:
        raise Conflict(f"The invitation is {inv.status}; only an ACCEPTED invitation can be rejected.",
                       current_status=inv.status)
    rules.check_confirmer(confirmer_member_id=decider_member_id, invitee_member_id=inv.member_id)
    try:
        store.close_invitation(inv, from_status=InvitationStatus.ACCEPTED, to_status=InvitationStatus.REJECTED,
                               action="invitation.rejected", ctx=ctx, now=now, retention=retention)
    except store.ConditionFailed as exc:
        fresh = _invitation(business_id, invitation_id)
        raise Conflict(f"The invitation is {fresh.status}; it was decided concurrently.",
                       current_status=fresh.status) from exc
    fresh = _invitation(business_id, invitation_id)
    if workflow is not None and fresh.confirm_task_token:
        workflow.fail(fresh.confirm_task_token, "InvitationRejected", reason or "rejected by an admin")
    return {"status": InvitationStatus.REJECTED.value}


def await_confirmation(
    business_id: str, invitation_id: str, *, task_token: str, execution_arn: str | None, mailer: Mailer,
    workflow: Workflow, now: datetime,
) -> None:
    """Keep the confirmation task token and ask the accounts' admins to decide. If an admin was
    faster than this step, answer the task at once."""
    inv = _invitation(business_id, invitation_id)
    store.register_wait(inv, task_token, execution_arn, confirm=True)
    fresh = _invitation(business_id, invitation_id)
    if fresh.status == InvitationStatus.CONFIRMED.value:
        workflow.succeed(task_token, {"confirmed_by": fresh.decided_by})
        return
    if fresh.status == InvitationStatus.REJECTED.value:
        workflow.fail(task_token, "InvitationRejected", "rejected by an admin")
        return
    business = store.get_business(business_id)
    grants = store.grants_from_json(inv.grants)
    notified: set[str] = set()
    for grant in grants:
        for admin in store.admins_of_account(business_id, grant.account_id):
            member = store.get_member(business_id, admin.member_id)
            if member is None or member.member_id == inv.member_id or member.email in notified:
                continue
            notified.add(member.email)
            try:
                mailer.send(messages.confirmation_needed(
                    to=member.email, invitee=inv.email, business=business.name if business else business_id,
                    grants=grants, invitation_id=invitation_id,
                    api_hint=f"accessflow confirm {business_id} {invitation_id}", mover=inv.source == "mover"))
            except DeliveryFailed:
                continue


OUTCOME_EVENTS = {
    "ACTIVATED": "member.activated",
    "EXPIRED": "invitation.expired",
    "REVOKED": "invitation.revoked",
    "REJECTED": "invitation.rejected",
}


def announce(
    business_id: str, invitation_id: str, outcome: str, *, mailer: Mailer, ctx: store.Context, now: datetime,
    carried: Carried | None = None,
) -> dict[str, Any]:
    """Notify the inviter of the outcome (once, however many paths reach here) and return the event
    the state machine emits. The claim to notify is a conditional write that returns the invitation
    (nothing is read first); only a path that lost the claim reads it."""
    inv, first = store.claim_outcome_notice(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} does not exist in business {business_id}.")
    if carried is not None:
        business_name = carried.business_name
    else:
        business = store.get_business(business_id)
        business_name = business.name if business else business_id
    detail: dict[str, Any] = {
        "business_id": business_id, "invitation_id": invitation_id, "member_id": inv.member_id,
        "email": inv.email, "outcome": outcome,
        "grants": inv.final_grants if outcome == "ACTIVATED" else inv.grants,
        "source": inv.source,  # hr | api | scim | bulk: lets a rule take only its own (the SCIM follow-up)
    }
    if first and inv.inviter_email:
        hint = {
            "ACTIVATED": "The roles above are now active.",
            "EXPIRED": f"Nobody accepted it in time. Re-issue it with: accessflow reissue {business_id} "
                       f"{invitation_id}",
            "REVOKED": "The link no longer works.",
            "REJECTED": "An admin declined the proposed role; nothing was granted.",
        }[outcome]
        try:
            mailer.send(messages.outcome(to=inv.inviter_email, invitee=inv.email,
                                         business=business_name, outcome=outcome, detail=hint))
            store.record_audit(business_id, store.AuditDraft("notification.sent", member_id=inv.member_id,
                                                             subject=invitation_id,
                                                             after={"to": inv.inviter_email, "outcome": outcome}),
                               ctx, now)
        except DeliveryFailed:
            pass
    return {"outcome": outcome, "detail_type": OUTCOME_EVENTS[outcome], "detail": detail}


def publish_rejection(
    business_id: str, reason: str, payload: dict[str, Any], *, events: EventPublisher, ctx: store.Context,
    now: datetime,
) -> None:
    """A valid-looking request that cannot be honoured (unknown business or account, a policy): record
    the reason on the audit trail (when the business exists) and tell the integrator by event."""
    if store.get_business(business_id) is not None:
        store.record_audit(business_id, store.AuditDraft("onboarding.rejected", reason=reason, after=payload),
                           ctx, now)
    events.publish("member.onboarding.rejected", {"business_id": business_id, "reason": reason,
                                                  "request": payload})
