"""The SCIM 2.0 service provider (RFC 7644), one per business at ``/scim/v2/businesses/{business_id}/...``;
its Lambda entry points are ``handlers/scim.py``, which load this module on the first invocation.

API Gateway routes every SCIM path here without its JWT authorizer (``Authorizer: NONE``): this
handler authenticates the business's SCIM bearer token itself (a user's JWT is refused here, and a
SCIM token is refused by the authorizer everywhere else). It is its own function so the admin API's
cold start does not carry ``scim2-models``. Every answer is ``application/scim+json``; every refusal
is a SCIM Error with its ``scimType``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    UnauthorizedException,
)

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import DomainError
from accessflow.observability import logger, metrics, tracer
from accessflow.scim_models import CONTENT_TYPE, POLICY, ScimGroup, ScimUser
from accessflow.settings import ScimSettings, load
from accessflow.store import repository as store
from accessflow.usecases import scim, scim_query, scim_tokens

_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
REQUEST_ID_HEADER = "X-Request-Id"


def settings() -> ScimSettings:
    return load(ScimSettings)


def _effects() -> scim.Effects:
    from accessflow.adapters.events import EventBridgePublisher
    from accessflow.adapters.workflow import StepFunctionsWorkflow

    s = settings()
    return scim.Effects(StepFunctionsWorkflow(), s.onboarding_state_machine_arn, s.offboarding_state_machine_arn,
                        events=EventBridgePublisher(s.event_bus_name))  # issue 11: SCIM leavers are guarded


def _response(status: int, body: Any = None, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": CONTENT_TYPE} | (headers or {}),
            "body": "" if body is None else json.dumps(body, default=str), "isBase64Encoded": False}


def _error(exc: SCIMException) -> dict[str, Any]:
    body = exc.to_error().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    headers = {"WWW-Authenticate": 'Bearer realm="AccessFlow SCIM"'} if exc.status == 401 else None
    return _response(exc.status, body, headers=headers)


def _from_domain(error: DomainError) -> SCIMException:
    """A domain refusal in SCIM's words: same status, the scimType that fits, the same detail."""
    from scim2_models import ConflictException, ForbiddenException

    if error.status == 404:
        return NotFoundException(detail=error.detail)
    if error.status == 409:
        return ConflictException(detail=error.detail)
    if error.status == 403:
        return ForbiddenException(detail=error.detail)
    if error.status == 401:
        return UnauthorizedException(detail=error.detail)
    exc = InvalidValueException(detail=error.detail)
    exc.status = error.status if 400 <= error.status < 500 else 400
    return exc


def _from_validation(error: ValidationError) -> SCIMException:
    """The first SCIM error pydantic carries (scim2-models raises them with their scimType); an
    attribute no schema declares is ``invalidSyntax``; any other shape error ``invalidValue``."""
    from scim2_models import SCIMException as Base

    for e in error.errors():
        ctx = e.get("ctx") or {}
        if e["type"].startswith("scim_") and ctx.get("scim_type") is not None:
            exc = Base(detail=e["msg"])
            exc.status, exc.scim_type = int(ctx.get("status", 400)), str(ctx["scim_type"])
            return exc
    first = error.errors()[0] if error.errors() else {"msg": "invalid", "loc": (), "type": ""}
    where = ".".join(str(p) for p in first.get("loc", ()))
    if first.get("type") == "extra_forbidden":
        return InvalidSyntaxException(detail=f"Unknown attribute: {where}.")
    return InvalidValueException(detail=f"{where}: {first.get('msg')}" if where else str(first.get("msg")))


def _body(event: dict[str, Any]) -> Any:
    raw = event.get("body")
    if not raw:
        raise InvalidSyntaxException(detail="A JSON body is required.")
    try:
        data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
        return json.loads(data.decode("utf-8"))
    except (UnicodeError, ValueError, binascii.Error) as exc:
        raise InvalidSyntaxException(detail="The request body is not valid UTF-8 JSON.") from exc


def _validate(model: Any, payload: Any, ctx: Context) -> Any:
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    try:
        return model.model_validate(payload, scim_ctx=ctx)
    except ValidationError as exc:
        raise _from_validation(exc) from exc


def _params(model: Any, query: dict[str, str]) -> ResponseParameters[Any] | None:
    attrs, excluded = query.get("attributes"), query.get("excludedAttributes")
    if not attrs and not excluded:
        return None
    try:
        return ResponseParameters[model](attributes=attrs, excluded_attributes=excluded)  # type: ignore[valid-type,arg-type]
    except ValidationError as exc:
        raise _from_validation(exc) from exc


def _resource(res: Any, model: Any, query: dict[str, str], status: int = 200,
              ctx: Context = Context.RESOURCE_QUERY_RESPONSE) -> dict[str, Any]:
    body = res.model_dump(scim_ctx=ctx, response_parameters=_params(model, query))
    headers = {"Location": res.meta.location} if status == 201 and res.meta else None
    return _response(status, body, headers=headers)


def _list(resources: list[Any], total: int, start: int, model: Any,
          params: ResponseParameters[Any] | None) -> dict[str, Any]:
    page = ListResponse[model](total_results=total, start_index=start, items_per_page=len(resources),  # type: ignore[valid-type]
                               resources=resources or None)
    return _response(200, page.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))


class Request:
    def __init__(self, event: dict[str, Any], business_id: str, path: str) -> None:
        self.event = event
        self.method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")).upper()
        self.business_id = business_id
        self.path = path
        self.query: dict[str, str] = dict(event.get("queryStringParameters") or {})
        self.request_id = str((event.get("requestContext") or {}).get("requestId") or "")


def _base_url(business_id: str) -> str:
    return f"{settings().public_base_url.rstrip('/')}/scim/v2/businesses/{business_id}"


def _discovery(req: Request) -> dict[str, Any] | None:
    from scim2_models import ResourceType, Schema

    from accessflow.scim_models import resource_types, schemas, service_provider_config

    base = _base_url(req.business_id)
    parts = req.path.split("/")
    if parts[0] in ("ServiceProviderConfig", "ResourceTypes", "Schemas") and req.method != "GET":
        raise _method_not_allowed(req)  # read-only (RFC 7644 §4)
    if req.path == "ServiceProviderConfig" and req.method == "GET":
        spc = service_provider_config()
        return _response(200, spc.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    if parts[0] in ("ResourceTypes", "Schemas") and len(parts) <= 2 and req.method == "GET":
        items: list[Any] = resource_types() if parts[0] == "ResourceTypes" else schemas()
        for item in items:
            if item.meta is None:
                from scim2_models import Meta

                kind = "ResourceType" if parts[0] == "ResourceTypes" else "Schema"
                item.meta = Meta(resource_type=kind, location=f"{base}/{parts[0]}/{item.id}")
        if len(parts) == 2:
            found = [i for i in items if i.id == parts[1]]
            if not found:
                raise NotFoundException(detail=f"{parts[0]}/{parts[1]} not found.")
            return _response(200, found[0].model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        page = ListResponse[ResourceType | Schema](
            total_results=len(items), start_index=1, items_per_page=len(items), resources=items)
        return _response(200, page.model_dump(scim_ctx=Context.SEARCH_RESPONSE))
    return None


def _collection(req: Request, call: scim.Call, kind: str, search_body: Any = None) -> dict[str, Any]:
    model = ScimUser if kind == "Users" else ScimGroup
    if search_body is not None:
        search = _validate(SearchRequest, search_body, Context.SEARCH_REQUEST)
        query = {k: v for k, v in {
            "filter": str(search.filter) if search.filter else None,
            "startIndex": str(search.start_index) if search.start_index else None,
            "count": str(search.count) if search.count is not None else None,
            "attributes": ",".join(str(a) for a in search.attributes or []) or None,
            "excludedAttributes": ",".join(str(a) for a in search.excluded_attributes or []) or None,
        }.items() if v is not None}
    else:
        query = req.query
    start, count = scim_query.paging(query.get("startIndex"), query.get("count"))
    params = _params(model, query)
    if kind == "Users":
        resources, total = scim_query.users(call, query.get("filter"), start, count)
    else:
        resources, total = scim_query.groups(call, query.get("filter"), start, count)
    return _list(resources, total, start, model, params)


def _route(req: Request, token_name: str) -> dict[str, Any]:
    found = _discovery(req)
    if found is not None:
        return found
    now = utcnow()
    call = scim.Call(req.business_id, store.Context(actor=f"scim:{token_name}", request_id=req.request_id), now,
                     _base_url(req.business_id), _effects())
    parts = req.path.split("/")
    kind = parts[0]
    if kind not in ("Users", "Groups") or len(parts) > 2:
        if req.path == ".search" and req.method == "POST":
            raise NotImplementedException(detail="Search across resource types is not supported; use "
                                                 "/Users/.search or /Groups/.search.")
        raise NotFoundException(detail=f"No such endpoint: {req.path}.")
    model = ScimUser if kind == "Users" else ScimGroup
    users = kind == "Users"
    if len(parts) == 1:
        if req.method == "GET":
            return _collection(req, call, kind)
        if req.method == "POST":
            res = _validate(model, _body(req.event), Context.RESOURCE_CREATION_REQUEST)
            created = scim.create_user(call, res) if users else scim.create_group(call, res)
            return _resource(created, model, req.query, 201)
        raise _method_not_allowed(req)
    ident = parts[1]
    if ident == ".search" and req.method == "POST":
        return _collection(req, call, kind, _body(req.event))
    if not _ID.fullmatch(ident):
        raise NotFoundException(detail=f"{kind}/{ident} not found.")
    handlers: dict[str, Callable[[], dict[str, Any]]] = {
        "GET": lambda: _resource(scim.get_user(call, ident) if users else scim.get_group(call, ident), model,
                                 req.query),
        "PUT": lambda: _resource(
            (scim.replace_user if users else scim.replace_group)(
                call, ident, _validate(model, _body(req.event), Context.RESOURCE_REPLACEMENT_REQUEST)),
            model, req.query),
        "PATCH": lambda: _resource(
            (scim.patch_user if users else scim.patch_group)(
                call, ident, _validate(PatchOp[model], _body(req.event), Context.RESOURCE_PATCH_REQUEST)),  # type: ignore[valid-type]
            model, req.query),
        "DELETE": lambda: _deleted(scim.delete_user if users else scim.delete_group, call, ident),
    }
    if req.method not in handlers:
        raise _method_not_allowed(req)
    return handlers[req.method]()


def _deleted(fn: Callable[[scim.Call, str], None], call: scim.Call, ident: str) -> dict[str, Any]:
    fn(call, ident)
    return {"statusCode": 204, "headers": {}, "body": "", "isBase64Encoded": False}


def _method_not_allowed(req: Request) -> SCIMException:
    exc = SCIMException(detail=f"{req.method} is not supported on {req.path}.")
    exc.status = 405
    return exc


def serve(event: dict[str, Any]) -> dict[str, Any]:
    params = event.get("pathParameters") or {}
    business_id = str(params.get("business_id") or "")
    path = str(params.get("proxy") or "").strip("/")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        if not _ID.fullmatch(business_id):
            raise UnauthorizedException(detail="A SCIM bearer token of this business is required.")
        settings()
        try:
            token = scim_tokens.authenticate(business_id, headers.get("authorization"), now=utcnow())
        except DomainError as exc:
            raise UnauthorizedException(detail=exc.detail) from exc
        req = Request(event, business_id, path)
        logger.append_keys(business_id=business_id, scim_token=token.token_id, scim_path=path, method=req.method)
        try:
            with POLICY:
                return _route(req, token.name)
        except ValidationError as exc:
            raise _from_validation(exc) from exc
        except DomainError as exc:
            raise _from_domain(exc) from exc
    except SCIMException as exc:
        logger.info("scim refused", extra={"status": exc.status, "scim_type": exc.scim_type, "detail": exc.detail})
        return _error(exc)
    except Exception:
        logger.exception("unhandled SCIM error")
        return _response(500, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500",
                               "detail": "Something went wrong on our side. Send the request again: a "
                                         "retried SCIM write has the effect of one."})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = serve(event)
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    response.setdefault("headers", {})[REQUEST_ID_HEADER] = request_id
    return response


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def follow_up(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``member.activated``: a member the IdP provisioned may have joined more groups while their
    invitation was pending (one invitation at a time); propose what is still missing now. Safe to
    deliver any number of times (the effects are derived from state, the invitation id is fixed)."""
    from accessflow.domain.tokens import normalise_email
    from accessflow.store import scim as scim_store

    settings()
    detail = event.get("detail") or {}
    business_id, email = str(detail.get("business_id") or ""), str(detail.get("email") or "")
    user = scim_store.user_by_name(business_id, normalise_email(email)) if business_id and email else None
    if user is None:
        return {"status": "not provisioned by SCIM"}
    inv = store.get_invitation(business_id, str(detail.get("invitation_id") or ""))
    actor = inv.requested_by if inv is not None and inv.requested_by.startswith("scim:") else "scim:follow-up"
    call = scim.Call(business_id, store.Context(actor=actor), utcnow(), _base_url(business_id), _effects())
    scim.apply_user_effects(call, user)
    return {"status": "reconciled", "user_id": user.user_id}
