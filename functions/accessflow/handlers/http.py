"""The HTTP API's resolver and what every route shares: errors as RFC 9457
``application/problem+json``, the caller's identity from the JWT authorizer's claims, the caller's
membership in the business, audit context, and the JSON views of items.

Routes live in ``handlers/routes/`` (one module per area) and register on :data:`app`;
``handlers/api.py`` is the Lambda entry point.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from accessflow.domain.policy import BusinessPolicy
from accessflow.observability import logger
from accessflow.settings import ApiSettings, load
from accessflow.store import repository as store
from accessflow.store.models import AuditItem, InvitationItem, MemberItem
from accessflow.usecases import members, onboarding

PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9._:@-]+$"
_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
REQUEST_ID_HEADER = "X-Request-Id"

app = APIGatewayHttpResolver(enable_validation=True)


def _guard(resolver: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """Every path parameter of every route is an id: anything else names nothing (404) and never
    reaches a key lookup. Every answer carries the request id the audit entries are stamped with,
    so a client can find the entry its change wrote."""
    params = resolver.current_event.path_parameters or {}
    if any(not _ID.fullmatch(value or "") for value in params.values()):
        response: Response[Any] = problem_response(NotFound("No such resource."))
    else:
        response = next_middleware(resolver)
    response.headers[REQUEST_ID_HEADER] = resolver.current_event.request_context.request_id
    return response


def malformed_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A body that is not UTF-8 JSON is the client's error (400). Checked before the resolver, whose
    request validation (which runs before any middleware) would crash on it instead."""
    body = event.get("body")
    if not body:
        return None
    try:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        json.loads(raw.decode("utf-8"))
    except (UnicodeError, ValueError, binascii.Error):
        error = InvalidInput("The request body is not valid UTF-8 JSON.")
        request_id = (event.get("requestContext") or {}).get("requestId") or ""
        return {"statusCode": error.status, "headers": {"Content-Type": PROBLEM, REQUEST_ID_HEADER: request_id},
                "body": json.dumps(error.problem(event.get("rawPath"))), "isBase64Encoded": False}
    return None


app.use([_guard])


def settings() -> ApiSettings:
    return load(ApiSettings)


def workflow() -> Any:
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


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    """A bug or an outage: log it with the request id, and answer problem+json without internals."""
    logger.exception("unhandled error")
    body = {"type": "about:blank", "title": "Internal error", "status": 500,
            "detail": "Something went wrong on our side; the request changed nothing or was completed whole.",
            "request_id": app.current_event.request_context.request_id}
    return Response(status_code=500, content_type=PROBLEM, body=json.dumps(body))


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
    return onboarding.Caller(sub=str(sub), email=claims.get("email"), email_verified=verified,
                             amr=parse_array_claim(claims.get("amr")))


def parse_array_claim(value: Any) -> tuple[str, ...]:
    """A JWT array claim as API Gateway passes it (a string: ``[pwd mfa]``), as JSON text, or as a
    list (a direct invocation): the values."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(str(v) for v in parsed)
        text = text[1:-1]
    return tuple(part for part in re.split(r"[\s,]+", text) if part)


def caller_member(business_id: str) -> MemberItem:
    """The caller's active membership in this business. A caller from another business (or none)
    learns nothing: 404, as if the business did not exist. Every business route is an admin route:
    when the business requires MFA for admins, an admin's login without it is refused here (403
    ``mfa-required``), before the route does anything."""
    from accessflow.store.activity import record
    from accessflow.usecases.identity import active_member, require_admin_mfa

    who = caller()
    now = utcnow()
    member = active_member(business_id, who, request_id=app.current_event.request_context.request_id, now=now)
    require_admin_mfa(member, who)
    record(member, now)  # last activity (access reviews): at most one write an hour, on the item just read
    return member


def admin_caller(business_id: str) -> MemberItem:
    """The caller, who must be Admin of at least one of the business's accounts (403 otherwise): the
    gate of the routes that read or manage the people side of a business; a route that acts on given
    accounts checks those too (``rules.require_admin_of``)."""
    me = caller_member(business_id)
    members.require_reader(business_id, me)
    return me


def caller_name() -> str | None:
    """The login's display name (the ``name`` claim), if the identity provider sends one."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    name = claims.get("name")
    return str(name) if name else None


def ctx(actor: MemberItem | str | None = None, *, reason: str | None = None) -> store.Context:
    """The audit context of this request: the acting member (its item, or its id: the store then reads
    its e-mail and name when writing the entry), or else the login with its claims' e-mail and name."""
    request_id = app.current_event.request_context.request_id
    if isinstance(actor, MemberItem):
        return store.Context.of_member(actor, request_id=request_id, reason=reason)
    if actor:
        return store.Context(actor=f"member:{actor}", request_id=request_id, reason=reason)
    who = caller()
    return store.Context(actor=f"login:{who.sub}", request_id=request_id, reason=reason,
                         actor_email=who.email, actor_name=caller_name())


# --- responses other than a route's plain 200 JSON ---------------------------------------------------

CSV = "text/csv"


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response[str]:
    """JSON with another status than 200 or with headers (``Location``); a route returning a dict gets 200."""
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def wants_csv(format: str | None) -> bool:
    """The exports' negotiation: ``?format=csv`` wins; without it an ``Accept`` naming CSV and not JSON
    (a spreadsheet's or a browser download's request) gets CSV too."""
    accept = (app.current_event.headers.get("accept") or "").lower()
    return format == "csv" or (format is None and CSV in accept and "application/json" not in accept)


def csv_attachment(text: str, filename: str) -> Response[str]:
    """A CSV export (already through ``domain.export``) as a download named ``filename``."""
    return Response(status_code=200, content_type=f"{CSV}; charset=utf-8", body=text,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- views -----------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return store._iso(value)


def invitation_view(inv: InvitationItem, policy: BusinessPolicy | None = None,
                    people: members.People | None = None) -> dict[str, Any]:
    """An invitation as admins see it, with what the console needs to offer a resend without guessing
    (``sends_left``, ``resend_available_at``, from the business policy) and the inviter by name."""
    if policy is None:
        business = store.get_business(inv.business_id)
        policy = store.policy_of(business) if business else BusinessPolicy()
    people = people or members.People(inv.business_id)
    sends_left = max(0, policy.resend_max_sends - int(inv.send_count or 0))
    available = None
    if inv.status == "PENDING" and sends_left > 0:
        available = max(inv.created_at, (inv.last_sent_at or inv.created_at)
                        + timedelta(seconds=policy.resend_min_interval_seconds))
    inviter_email, inviter_name = people(inv.requested_by)
    decided_email, decided_name = people(inv.decided_by)
    return {
        "invitation_id": inv.invitation_id, "business_id": inv.business_id, "member_id": inv.member_id,
        "email": inv.email, "display_name": inv.display_name, "status": inv.status, "grants": inv.grants,
        "final_grants": inv.final_grants, "source": inv.source, "requested_by": inv.requested_by,
        "created_at": _iso(inv.created_at), "expires_at": _iso(inv.expires_at),
        "delivery": inv.delivery, "delivery_reason": inv.delivery_reason, "send_count": inv.send_count,
        "last_sent_at": _iso(inv.last_sent_at), "needs_confirmation": bool(inv.needs_confirmation),
        "decided_by": inv.decided_by, "execution_arn": inv.execution_arn,
        "sends_left": sends_left, "resend_available_at": _iso(available),
        "inviter_email": inviter_email or inv.inviter_email, "inviter_name": inviter_name,
        "decided_by_email": decided_email, "decided_by_name": decided_name,
    }


def audit_view(item: AuditItem) -> dict[str, Any]:
    return {
        "entry_id": item.entry_id, "at": item.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": item.action,
        "actor": item.actor, "actor_email": item.actor_email, "actor_name": item.actor_name,
        "member_id": item.member_id, "subject": item.subject, "before": item.before,
        "after": item.after, "reason": item.reason, "request_id": item.request_id,
        "execution_arn": item.execution_arn,
    }


