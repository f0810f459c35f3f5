"""Routes: the audit trail and the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from accessflow.api_models import AuditPage
from accessflow.domain.errors import InvalidInput
from accessflow.handlers.http import ID_PATTERN, app, audit_view, caller_member
from accessflow.store import cursors
from accessflow.store import repository as store
from accessflow.usecases import members

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


def decode_cursor(cursor: str | None, business_id: str) -> dict[str, Any] | None:
    """A cursor this API issued for this business, or a 400 (never a key into another business)."""
    if not cursor:
        return None
    try:
        key = cursors.decode(cursor)
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidInput("The cursor is not valid; pass back the next_cursor of a previous page.") from exc
    pk = key.get("pk", {}).get("S") if isinstance(key, dict) and isinstance(key.get("pk"), dict) else None
    if pk != store.audit_pk(business_id):
        raise InvalidInput("The cursor is not valid; pass back the next_cursor of a previous page.")
    return key


@app.get("/businesses/<business_id>/audit")
def audit(
    business_id: IdPath,
    member_id: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> AuditPage:
    """The audit trail, oldest first; filter by member, action, time range; paginated by cursor.
    Admins of any of the business's accounts."""
    me = caller_member(business_id)
    members.require_reader(business_id, me)
    items, last = store.audit_trail(business_id, member_id=member_id, action=action, since=since, until=until,
                                    limit=limit, cursor=decode_cursor(cursor, business_id))
    return AuditPage.model_validate({"entries": [audit_view(i) for i in items], "next_cursor": cursors.encode(last)})


@app.get("/openapi.json")
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    from accessflow.handlers.openapi import document_json

    return document_json()
