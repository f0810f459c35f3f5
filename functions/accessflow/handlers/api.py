"""The HTTP API (API Gateway HTTP API, JWT authorizer): admins and invitees.

Thin routes: authenticate (claims from the authorizer), authorize through the domain's permission
matrix, call one use case, answer. Every refusal is an RFC 9457 ``application/problem+json`` body.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from accessflow.domain.model import MemberStatus
from accessflow.observability import logger, metrics, tracer
from accessflow.schemas import AcceptBody, ConfirmBody, InviteBody, RejectBody
from accessflow.settings import ApiSettings, load
from accessflow.store import repository as store
from accessflow.store.models import AuditItem, InvitationItem, MemberItem
from accessflow.usecases import onboarding

PROBLEM = "application/problem+json"

app = APIGatewayHttpResolver(enable_validation=True)


def _settings() -> ApiSettings:
    return load(ApiSettings)


def _workflow() -> Any:
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    return StepFunctionsWorkflow()


# --- errors ----------------------------------------------------------------------------------------


def problem_response(error: DomainError) -> Response[str]:
    headers: dict[str, str] = {}
    retry_after = error.extensions.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status_code=error.status, content_type=PROBLEM,
                    body=json.dumps(error.problem(app.current_event.path)), headers=headers)


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response[str]:
    logger.info("refused", extra={"status": error.status, "problem": error.slug, "detail": error.detail})
    return problem_response(error)


@app.exception_handler(RequestValidationError)
def _validation_error(error: RequestValidationError) -> Response[str]:
    issues = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
              for e in error.errors()]
    detail = "; ".join(f"{i['where']}: {i['problem']}" for i in issues) or "The request is not valid."
    return problem_response(InvalidInput(detail, errors=issues))


@app.not_found
def _not_found(_: Exception) -> Response[str]:
    return problem_response(NotFound("No such route."))


# --- identity --------------------------------------------------------------------------------------


def caller() -> onboarding.Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthenticated("A valid bearer token is required.")
    verified = str(claims.get("email_verified", "false")).lower() == "true"
    return onboarding.Caller(sub=str(sub), email=claims.get("email"), email_verified=verified)


def caller_member(business_id: str) -> MemberItem:
    """The caller's active membership in this business. A caller from another business (or none)
    learns nothing: 404, as if the business did not exist."""
    who = caller()
    now = utcnow()
    member = store.member_by_login(business_id, who.sub)
    if member is None and who.email and who.email_verified:
        from accessflow.domain.tokens import normalise_email

        candidate = store.member_by_email(business_id, normalise_email(who.email))
        if candidate is not None and candidate.status == MemberStatus.ACTIVE.value and not candidate.login_sub:
            store.link_login(candidate, who.sub, ctx(candidate.member_id), now)
            member = store.get_member(business_id, candidate.member_id)
    if member is None or member.status != MemberStatus.ACTIVE.value:
        raise NotFound(f"Business {business_id} not found.")
    return member


def ctx(actor_member_id: str | None = None) -> store.Context:
    who = caller()
    actor = f"member:{actor_member_id}" if actor_member_id else f"login:{who.sub}"
    return store.Context(actor=actor, request_id=app.current_event.request_context.request_id)


# --- views -----------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return store._iso(value)


def invitation_view(inv: InvitationItem) -> dict[str, Any]:
    return {
        "invitation_id": inv.invitation_id, "business_id": inv.business_id, "member_id": inv.member_id,
        "email": inv.email, "display_name": inv.display_name, "status": inv.status, "grants": inv.grants,
        "final_grants": inv.final_grants, "source": inv.source, "requested_by": inv.requested_by,
        "created_at": _iso(inv.created_at), "expires_at": _iso(inv.expires_at),
        "delivery": inv.delivery, "delivery_reason": inv.delivery_reason, "send_count": inv.send_count,
        "last_sent_at": _iso(inv.last_sent_at), "needs_confirmation": bool(inv.needs_confirmation),
        "decided_by": inv.decided_by, "execution_arn": inv.execution_arn,
    }


def audit_view(item: AuditItem) -> dict[str, Any]:
    return {
        "entry_id": item.entry_id, "at": item.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": item.action,
        "actor": item.actor, "member_id": item.member_id, "subject": item.subject, "before": item.before,
        "after": item.after, "reason": item.reason, "request_id": item.request_id,
        "execution_arn": item.execution_arn,
    }


# --- routes: invitations ---------------------------------------------------------------------------


@app.post("/businesses/<business_id>/invitations")
def invite(business_id: str, body: Annotated[InviteBody, Body()]) -> Response[str]:
    """Invite someone by e-mail with a role per account (the caller must be Admin of each account)."""
    me = caller_member(business_id)
    rules.require_admin_of(store.roles_of(business_id, me.member_id), [g.account_id for g in body.grants])
    key = app.current_event.headers.get("idempotency-key")
    invitation_id = onboarding.invitation_id_for(business_id, f"api:{key}") if key else None
    req = onboarding.OnboardingRequest(
        business_id=business_id, email=str(body.email), display_name=body.display_name, grants=body.grants,
        requested_by=f"member:{me.member_id}", source="api", employee_id=body.employee_id,
        inviter_email=me.email, invitation_id=invitation_id,
    )
    inv = onboarding.record(req, ctx(me.member_id), utcnow())
    arn = _workflow().start(_settings().onboarding_state_machine_arn, onboarding.execution_name(inv.invitation_id),
                            {"business_id": business_id, "invitation_id": inv.invitation_id, "source": "api",
                             "request": {"email": inv.email, "display_name": inv.display_name,
                                         "grants": inv.grants, "requested_by": inv.requested_by}})
    view = invitation_view(inv) | {"execution_arn": arn}
    return Response(status_code=201, content_type="application/json", body=json.dumps(view),
                    headers={"Location": f"/businesses/{business_id}/invitations/{inv.invitation_id}"})


@app.get("/businesses/<business_id>/invitations/<invitation_id>")
def get_invitation(business_id: str, invitation_id: str) -> dict[str, Any]:
    caller_member(business_id)
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} not found.")
    return invitation_view(inv)


def _admin_on_invitation(business_id: str, invitation_id: str) -> tuple[MemberItem, InvitationItem]:
    me = caller_member(business_id)
    inv = store.get_invitation(business_id, invitation_id)
    if inv is None:
        raise NotFound(f"Invitation {invitation_id} not found.")
    rules.check_confirmer(confirmer_member_id=me.member_id, invitee_member_id=inv.member_id)
    accounts = [g["account_id"] for g in inv.grants]
    rules.require_admin_of(store.roles_of(business_id, me.member_id), accounts)
    return me, inv


@app.post("/businesses/<business_id>/invitations/<invitation_id>/confirm")
def confirm(business_id: str, invitation_id: str, body: Annotated[ConfirmBody, Body()]) -> dict[str, Any]:
    """Confirm the role of an invitee who accepted (optionally narrowing it). Only an Admin of the
    accounts, and never the invitee."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    return onboarding.confirm(business_id, invitation_id, confirmer_member_id=me.member_id, grants=body.grants,
                              workflow=_workflow(), ctx=ctx(me.member_id), now=utcnow())


@app.post("/businesses/<business_id>/invitations/<invitation_id>/reject")
def reject(business_id: str, invitation_id: str, body: Annotated[RejectBody, Body()]) -> dict[str, Any]:
    """Decline the proposed role of an invitee who accepted; nothing is granted."""
    me, _ = _admin_on_invitation(business_id, invitation_id)
    business = store.get_business(business_id)
    retention = timedelta(days=store.policy_of(business).retention_days if business else 90)
    return onboarding.reject(business_id, invitation_id, decider_member_id=me.member_id, reason=body.reason,
                             workflow=_workflow(), ctx=ctx(me.member_id), now=utcnow(), retention=retention)


# --- routes: invitee -------------------------------------------------------------------------------


@app.post("/invitations/accept")
def accept(body: Annotated[AcceptBody, Body()]) -> dict[str, Any]:
    """The invitee, signed in with the invited (verified) e-mail, accepts the invitation."""
    who = caller()
    return onboarding.accept(body.token, who, workflow=_workflow(),
                             ctx=store.Context(actor=f"login:{who.sub}",
                                               request_id=app.current_event.request_context.request_id),
                             now=utcnow())


@app.get("/accept")
def accept_page(token: Annotated[str, Query(min_length=1, max_length=200)]) -> Response[str]:
    """The page the e-mail links to. Shows the invitation; never consumes it (mail scanners open
    links): acceptance is an authenticated POST to /invitations/accept."""
    try:
        info = onboarding.preview(token)
    except DomainError as error:
        page = f"<h1>{html.escape(error.title)}</h1><p>{html.escape(error.detail)}</p>"
        return Response(status_code=error.status, content_type="text/html; charset=utf-8", body=_page(page))
    roles = "".join(f"<li>{html.escape(g['role'])} on {html.escape(g['account_id'])}</li>" for g in info["grants"])
    page = (
        f"<h1>{html.escape(info['business'])} invites {html.escape(info['display_name'])}</h1>"
        f"<ul>{roles}</ul><p>Status: {html.escape(info['status'])}. Valid until {info['expires_at']}.</p>"
        f"<p>Sign in with <b>{html.escape(info['email'])}</b>, then accept: "
        f"<code>POST /invitations/accept {{\"token\": \"...\"}}</code> with your login's bearer token.</p>"
    )
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_page(page))


def _page(inner: str) -> str:
    return f"<!doctype html><html><head><title>AccessFlow</title></head><body>{inner}</body></html>"


# --- routes: audit ---------------------------------------------------------------------------------


@app.get("/businesses/<business_id>/audit")
def audit(
    business_id: str,
    member_id: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """The audit trail, oldest first; filter by member, action, time range; paginated by cursor."""
    caller_member(business_id)
    start = json.loads(cursor) if cursor else None
    items, last = store.audit_trail(business_id, member_id=member_id, action=action, since=since, until=until,
                                    limit=limit, cursor=start)
    return {"entries": [audit_view(i) for i in items], "next_cursor": json.dumps(last) if last else None}


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    return app.get_openapi_json_schema(title="AccessFlow API", version="1.0.0")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _settings()
    return app.resolve(event, context)
